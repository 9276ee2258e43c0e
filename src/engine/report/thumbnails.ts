// Thumbnails for the HTML report's sample galleries. The panel shows gallery images from disk; a portable file
// cannot, so the few images the gallery lists are embedded as small PNG data URIs (the report's CSP allows
// img-src data: only). Only files inside a split's folder are read, each sniffed before libvips sees it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Sharp, SharpOptions } from 'sharp';
import type { Report } from './types';
import { selectGallery } from '../../shared/gallery';
import { MAX_INPUT_PIXELS } from '../image/sharp-decode';
import { SNIFF_BYTES, sniffImage } from '../image/sniff';

export interface ThumbnailLimits {
  /** Longest side in pixels (smaller images keep their size). */
  side: number;
  /** A thumbnail larger than this is left out (its caption still shows). */
  maxBytes: number;
  /** Thumbnails stop once this many bytes are embedded. */
  maxTotalBytes: number;
  maxCount: number;
}

/** 24 gallery images of at most 96 px: typically 1–10 KB each, so the report grows by at most 384 KB. */
export const THUMBNAIL_LIMITS: ThumbnailLimits = { side: 96, maxBytes: 16 * 1024, maxTotalBytes: 384 * 1024, maxCount: 24 };

type SharpFactory = (input?: Buffer | string, options?: SharpOptions) => Sharp;

/** Folders whose files may be read: split sources that are folders (not noise:, holdout:, attack: or a manifest). */
function splitRoots(report: Pick<Report, 'splits'>, baseDir: string | undefined): string[] {
  return report.splits
    .filter((s) => s.source && !/^(noise|holdout|attack):/.test(s.source) && (baseDir !== undefined || path.isAbsolute(s.source)))
    .map((s) => path.resolve(baseDir ?? '/', s.source));
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function isFolder(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

/** A PNG thumbnail of one image file, or null when it is not a readable raster image. */
async function thumbnail(sharp: SharpFactory, file: string, side: number): Promise<Buffer | null> {
  try {
    const handle = await fs.open(file, 'r');
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0).finally(() => handle.close());
    if ('refused' in sniffImage(head.subarray(0, bytesRead))) return null;
    return await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning', animated: false })
      .rotate()
      .resize(side, side, { fit: 'inside', withoutEnlargement: true })
      // An 8-bit palette: a 96 px photo takes a few KB instead of 15–25 KB as truecolour PNG.
      .png({ palette: true, compressionLevel: 9 })
      .toBuffer();
  } catch {
    return null;
  }
}

/**
 * Sample path → `data:image/png;base64,…` for the gallery `selectGallery(report)` picks (what renderHtmlReport
 * shows), within `limits`. Relative sample paths and split sources are relative to `baseDir`, the folder the run
 * started from; without it only absolute ones are read.
 */
export async function galleryThumbnails(report: Report, baseDir: string | undefined, limits: ThumbnailLimits = THUMBNAIL_LIMITS): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const items = selectGallery(report)?.items ?? [];
  const roots: string[] = [];
  for (const r of splitRoots(report, baseDir)) if (await isFolder(r)) roots.push(r);
  if (items.length === 0 || roots.length === 0) return out;
  const sharp = require('sharp') as SharpFactory;
  let total = 0;
  for (const item of items) {
    if (out.size >= limits.maxCount || out.has(item.path)) continue;
    if (!path.isAbsolute(item.path) && baseDir === undefined) continue;
    const file = path.resolve(baseDir ?? '/', item.path);
    if (!roots.some((r) => inside(r, file))) continue;
    const png = await thumbnail(sharp, file, limits.side);
    if (!png || png.length > limits.maxBytes || total + png.length > limits.maxTotalBytes) continue;
    total += png.length;
    out.set(item.path, `data:image/png;base64,${png.toString('base64')}`);
  }
  return out;
}
