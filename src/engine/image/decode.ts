import { closeSync, constants as fsConstants, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import type { Sharp, SharpOptions } from 'sharp';
import { decodeSimplePng, type RawImage } from './png-fast';
import type { PreprocessSpec } from './preprocess';
import { modelPixels } from './pipeline';
import { FORMAT_NAMES, SNIFF_BYTES, sniffImage, type ImageFormat } from './sniff';

/**
 * Decoding limit: a 10,000 × 10,000 image is accepted; a header claiming more than 625 megapixels (a
 * decompression bomb) is refused before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 25_000 * 25_000;
/** Files up to this size are read into memory (the PNG fast path needs the bytes); larger ones stream from disk. */
export const IN_MEMORY_BYTES = 8 * 1024 * 1024;
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

export class DecodeError extends Error {}

/** The reason a sample is skipped: a DecodeError's own words, anything else (a bug, a native failure) wrapped. */
export function decodeFailure(e: unknown): string {
  return e instanceof DecodeError ? e.message : `cannot decode (${e instanceof Error ? e.message : String(e)})`;
}

type Input = { bytes: Buffer; head: Uint8Array } | { file: string; head: Uint8Array };

function readFailure(e: unknown): DecodeError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new DecodeError('permission denied');
  if (code === 'ENOENT') return new DecodeError('file not found (deleted after listing, or a broken link)');
  return new DecodeError(`cannot read file (${code ?? (e instanceof Error ? e.message : String(e))})`);
}

/**
 * Files up to this size are read synchronously into one reused buffer: for the small files most datasets hold,
 * the thread-pool round trips of an async stat + open + read + close cost several times the read itself (measured
 * 58 µs vs 6 µs for a 1 KB PNG), a fresh buffer per file is garbage, and blocking the thread that long is harmless.
 */
const SYNC_READ_BYTES = 256 * 1024;
const scratch = Buffer.allocUnsafe(SYNC_READ_BYTES);
// A file swapped for a FIFO after listing must not block the thread forever.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/**
 * Reads `file` whole when it fits the scratch buffer. The bytes stay valid only until the next call, so the
 * caller must be done with them before it awaits anything. Returns the size instead when the file is larger.
 */
function readSmall(file: string): { bytes: Buffer } | { size: number } {
  let fd: number | undefined;
  try {
    fd = openSync(file, OPEN_FLAGS);
    const n = readSync(fd, scratch, 0, SYNC_READ_BYTES, 0);
    if (n === 0) throw new DecodeError('empty file (0 bytes)');
    return n < SYNC_READ_BYTES ? { bytes: scratch.subarray(0, n) } : { size: fstatSync(fd).size };
  } catch (e) {
    throw e instanceof DecodeError ? e : readFailure(e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readLarge(file: string, size: number): Promise<Input> {
  try {
    if (size <= IN_MEMORY_BYTES) {
      const bytes = await fs.readFile(file);
      return { bytes, head: bytes.subarray(0, SNIFF_BYTES) };
    }
    const handle = await fs.open(file, 'r');
    try {
      const head = new Uint8Array(SNIFF_BYTES);
      const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
      return { file, head: head.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw readFailure(e);
  }
}

/**
 * The synchronous part of decoding, for worker threads: reads the file and, when it is a PNG the fast path
 * handles, makes the model pixels for each spec. Returns null when the file needs sharp (another format, a large
 * file or image, EXIF); throws DecodeError when it cannot be read or is not an image.
 */
export function decodeFast(file: string, specs: readonly PreprocessSpec[]): RawImage[] | null {
  const small = readSmall(file);
  if (!('bytes' in small)) return null;
  const sniffed = sniffImage(small.bytes.subarray(0, SNIFF_BYTES));
  if ('refused' in sniffed) throw new DecodeError(sniffed.refused);
  if (sniffed.format !== 'png') return null;
  const img = decodeSimplePng(small.bytes);
  return img && specs.map((s) => modelPixels(img, s));
}

/**
 * Reads one image file as the model's 8-bit pixels (spec.height × spec.width × spec.channels): EXIF orientation
 * applied when the spec asks, first frame of animations, 16-bit samples reduced to 8, CMYK converted to sRGB,
 * palettes expanded, then converted, resized and cropped as PIL does (pipeline.ts). Throws DecodeError with a
 * short reason on anything else.
 */
export async function decodeImage(file: string, spec: PreprocessSpec): Promise<RawImage> {
  // Everything up to the first await runs synchronously, which is what makes the shared scratch buffer safe.
  const small = readSmall(file);
  const input: Input = 'bytes' in small ? { bytes: small.bytes, head: small.bytes.subarray(0, SNIFF_BYTES) } : await readLarge(file, small.size);
  const sniffed = sniffImage(input.head);
  if ('refused' in sniffed) throw new DecodeError(sniffed.refused);
  if ('bytes' in input && sniffed.format === 'png') {
    const fast = decodeSimplePng(input.bytes);
    if (fast) return modelPixels(fast, spec);
  }
  // sharp reads its input on another thread after this returns: it gets its own copy of the scratch bytes.
  const source = 'file' in input ? input.file : 'bytes' in small ? Buffer.from(input.bytes) : input.bytes;
  return modelPixels(await decodeWithSharp(source, spec.exif, sniffed.format), spec);
}

/** The whole image as 8-bit pixels (alpha kept as a channel), shrunk only past EXACT_MAX_SIDE. */
async function decodeWithSharp(input: Buffer | string, exif: boolean, format: ImageFormat): Promise<RawImage> {
  try {
    // failOn 'warning': a truncated or corrupt file is refused instead of scored with grey where data is missing.
    let img = sharp()(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, animated: false, failOn: 'warning' });
    if (exif) img = img.rotate();
    const { data, info } = await img
      .resize(EXACT_MAX_SIDE, EXACT_MAX_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'linear' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    throw new DecodeError(describeSharpError(e, FORMAT_NAMES[format]));
  }
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
