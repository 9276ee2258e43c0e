// sharp (libvips) for the files the PNG fast path leaves: decoding whole images for PIL's resampling in JavaScript,
// or, for JPEGs in draft mode, decoding at a reduced scale and resampling in libvips.
import type { Sharp, SharpOptions } from 'sharp';
import type { RawImage } from './png-fast';
import type { PreprocessSpec } from './preprocess';
import { centerCrop, cropRect, toGray, toRgb, type Interpolation } from './pil';
import { resizeTarget } from './pipeline';
import { FORMAT_NAMES, type ImageFormat } from './sniff';

export class DecodeError extends Error {}

/**
 * Decoding limit: a 10,000 × 10,000 image is accepted; a header claiming more than 625 megapixels (a
 * decompression bomb) is refused before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 25_000 * 25_000;
/**
 * Images are decoded whole and resized with PIL's arithmetic (pipeline.ts) up to this side length: 36 MP of RGB
 * is 108 MB. Larger ones (48 MP phone photos, 10,000 × 10,000 scans) are first shrunk by libvips while streaming,
 * so they are not bit-exact with PIL, which would hold the whole image in memory.
 */
export const EXACT_MAX_SIDE = 6000;

type SharpFactory = ((input?: Buffer | string, options?: SharpOptions) => Sharp) & { concurrency(n: number): void; cache(on: boolean): void };
let sharpModule: SharpFactory | undefined;
/** sharp loads on first use, so activating the extension or listing folders does not pay for libvips. */
function sharp(): SharpFactory {
  if (!sharpModule) {
    sharpModule = require('sharp') as SharpFactory;
    // Parallelism comes from decoding several files at once; one libvips thread per image avoids oversubscription.
    sharpModule.concurrency(1);
    // Every file is decoded once: libvips' operation cache would only hold memory and open files.
    sharpModule.cache(false);
  }
  return sharpModule;
}

/**
 * Whether decoding threads may use sharp: only once this (main) thread has loaded it, which it does here when one
 * of `files` is not named .png. libvips then stays loaded for the life of the process; a worker thread that was
 * the first to load it would unload it on exit, under the others (sharp's documentation, on worker threads).
 */
export function sharpForThreads(files: readonly string[]): boolean {
  if (!sharpModule && files.some((f) => !/\.png$/i.test(f))) sharp();
  return sharpModule !== undefined;
}

/** The input opened as every path opens it; EXIF orientation applied when asked. */
function open(input: Buffer | string, exif: boolean): Sharp {
  // failOn 'warning': a truncated or corrupt file is refused instead of scored with grey where data is missing.
  const img = sharp()(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, animated: false, failOn: 'warning' });
  return exif ? img.rotate() : img;
}

/** Runs the pipeline to 8-bit interleaved pixels; libvips' errors become DecodeErrors a person can read. */
async function pixels(img: Sharp, format: ImageFormat): Promise<RawImage> {
  try {
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    throw new DecodeError(describeSharpError(e, FORMAT_NAMES[format]));
  }
}

/** The whole image as 8-bit pixels (alpha kept as a channel), shrunk only past EXACT_MAX_SIDE. */
export function decodeWithSharp(input: Buffer | string, exif: boolean, format: ImageFormat): Promise<RawImage> {
  return pixels(open(input, exif).resize(EXACT_MAX_SIDE, EXACT_MAX_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'linear' }), format);
}

/** libvips' kernel for each PIL filter it has (box and hamming have none: those specs stay exact). */
const KERNELS: Partial<Record<Interpolation, 'nearest' | 'linear' | 'cubic' | 'lanczos3'>> = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos: 'lanczos3' };

export const draftApplies = (spec: PreprocessSpec): boolean => spec.jpegDraft === true && KERNELS[spec.interpolation] !== undefined;

/**
 * A JPEG straight to the model's pixels in libvips: decoded at 1/2, 1/4 or 1/8 scale when that leaves at least twice
 * the resize target (libjpeg's DCT-domain scaling: sharp's shrink-on-load; Pillow's draft goes down to the target
 * itself, which costs accuracy: see test/unit/jpeg-draft.test.ts), resampled with the spec's filter, and only the
 * centre crop computed. `width`×`height`: the image as displayed (turned when the spec applies a 90° EXIF
 * orientation). Channels are converted after the resize (PIL converts before).
 */
export async function decodeDraft(input: Buffer, spec: PreprocessSpec, width: number, height: number): Promise<RawImage> {
  const [rw, rh] = resizeTarget(width, height, spec);
  const crop = cropRect(rw, rh, spec.width, spec.height, spec.cropRounding);
  const inside = crop.x >= 0 && crop.y >= 0 && crop.x + crop.width <= rw && crop.y + crop.height <= rh;
  let img = open(input, spec.exif).resize(rw, rh, { fit: 'fill', kernel: KERNELS[spec.interpolation], fastShrinkOnLoad: false });
  if (inside) img = img.extract({ left: crop.x, top: crop.y, width: crop.width, height: crop.height });
  let p: RawImage = await pixels(img, 'jpeg');
  if (spec.channels === 1 && p.channels !== 1) p = toGray(p);
  if (spec.channels === 3 && p.channels !== 3) p = toRgb(p);
  return inside ? p : centerCrop(p, spec.width, spec.height, spec.cropRounding);
}

function describeSharpError(e: unknown, format: string): string {
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0]
    .replace(/^Input (buffer|file) (has corrupt header|contains unsupported image format):?\s*/i, '')
    .replace(/^(VipsJpeg|vipspng|gifload|webpload|tiff2vips|heifload|VipsForeignLoad\w*):\s*/i, '')
    .trim().slice(0, 200);
  if (/pixel limit/i.test(detail)) return `image too large (over ${MAX_INPUT_PIXELS.toLocaleString('en-US')} pixels)`;
  // libvips reports a failOn warning either by its cause or, depending on thread timing, only as "Warning treated
  // as error": both mean the data is damaged, so both read as truncated or corrupt.
  const whole = e instanceof Error ? e.message : String(e);
  if (/premature end|truncat|unexpected end|not enough data|read error|out of data|short read|end of file|EOF|treated as error/i.test(whole)) {
    return `truncated or corrupt ${format}${detail ? ` (${detail})` : ''}`;
  }
  return `cannot decode ${format}${detail ? ` (${detail})` : ''}`;
}
