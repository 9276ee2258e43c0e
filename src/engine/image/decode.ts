import { promises as fs } from 'node:fs';
import type { Sharp, SharpOptions } from 'sharp';
import { decodeSimplePng, type RawImage } from './png-fast';
import type { PreprocessSpec } from './preprocess';

/** Decoding limits: a 10,000 × 10,000 image is accepted (shrunk while loading where the format allows). */
export const MAX_INPUT_PIXELS = 25_000 * 25_000;
/** Files above this size are refused before reading them into memory. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

type SharpFactory = (input?: Buffer, options?: SharpOptions) => Sharp;
let sharpModule: SharpFactory | undefined;
/** sharp loads on first use, so activating the extension or listing folders does not pay for libvips. */
function sharp(): SharpFactory {
  if (!sharpModule) {
    sharpModule = require('sharp') as SharpFactory;
    // Parallelism comes from decoding several files at once; one libvips thread per image avoids oversubscription.
    (sharpModule as unknown as { concurrency(n: number): void }).concurrency(1);
  }
  return sharpModule;
}

export class DecodeError extends Error {}

/**
 * Reads one image file as 8-bit pixels of exactly spec.height × spec.width, EXIF orientation applied, first frame
 * of animations, alpha kept as a channel (dropped later). Throws DecodeError with a short reason on bad input.
 */
export async function decodeImage(file: string, spec: PreprocessSpec): Promise<RawImage> {
  let buf: Buffer;
  try {
    const st = await fs.stat(file);
    if (st.size === 0) throw new DecodeError('empty file (0 bytes)');
    if (st.size > MAX_FILE_BYTES) throw new DecodeError(`file too large (${st.size} bytes)`);
    buf = await fs.readFile(file);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DecodeError(code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot read file (${code ?? e})`);
  }
  const fast = decodeSimplePng(buf);
  if (fast && fast.width === spec.width && fast.height === spec.height) return fast;
  return decodeWithSharp(buf, spec);
}

async function decodeWithSharp(buf: Buffer, spec: PreprocessSpec): Promise<RawImage> {
  try {
    const img = sharp()(buf, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, animated: false })
      .rotate()
      .resize(spec.width, spec.height, { fit: spec.fit === 'stretch' ? 'fill' : 'cover', position: 'centre', kernel: 'linear' })
      .raw({ depth: 'uchar' });
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    throw new DecodeError(describeSharpError(e));
  }
}

function describeSharpError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/unsupported image format/i.test(msg)) return 'not a supported image (unrecognised content)';
  if (/pixel limit/i.test(msg)) return 'image too large (pixel limit exceeded)';
  if (/premature end|truncated|unexpected end|not enough data|read error|out of data/i.test(msg)) return `truncated or corrupt image (${firstLine(msg)})`;
  return `cannot decode image (${firstLine(msg)})`;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim().slice(0, 200);
}
