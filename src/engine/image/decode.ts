import { promises as fs, readFileSync, statSync } from 'node:fs';
import type { Sharp, SharpOptions } from 'sharp';
import { decodeSimplePng, type RawImage } from './png-fast';
import type { PreprocessSpec } from './preprocess';
import { FORMAT_NAMES, SNIFF_BYTES, sniffImage, type ImageFormat } from './sniff';

/**
 * Decoding limit: a 10,000 × 10,000 image is accepted; a header claiming more than 625 megapixels (a
 * decompression bomb) is refused before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 25_000 * 25_000;
/** Files up to this size are read into memory (the PNG fast path needs the bytes); larger ones stream from disk. */
export const IN_MEMORY_BYTES = 8 * 1024 * 1024;

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

type Input = { bytes: Buffer; head: Uint8Array } | { file: string; head: Uint8Array };

function readFailure(e: unknown): DecodeError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new DecodeError('permission denied');
  if (code === 'ENOENT') return new DecodeError('file not found (deleted after listing, or a broken link)');
  return new DecodeError(`cannot read file (${code ?? (e instanceof Error ? e.message : String(e))})`);
}

/**
 * Files up to this size are read synchronously: for the small files most datasets hold, the thread-pool round
 * trips of an async stat + open + read + close cost several times the read itself (measured 58 µs vs 13 µs for a
 * 1 KB PNG), and blocking the thread for that long is harmless.
 */
const SYNC_READ_BYTES = 256 * 1024;

async function readInput(file: string): Promise<Input> {
  try {
    const st = statSync(file);
    if (st.size === 0) throw new DecodeError('empty file (0 bytes)');
    if (st.size <= IN_MEMORY_BYTES) {
      const bytes = st.size <= SYNC_READ_BYTES ? readFileSync(file) : await fs.readFile(file);
      if (bytes.length === 0) throw new DecodeError('empty file (0 bytes)');
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
    throw e instanceof DecodeError ? e : readFailure(e);
  }
}

/**
 * Reads one image file as 8-bit pixels of exactly spec.height × spec.width: EXIF orientation applied (as a
 * viewer shows the image), first frame of animations, 16-bit samples reduced to 8, CMYK converted to sRGB, alpha
 * kept as a channel (dropped later). Throws DecodeError with a short reason on anything else.
 */
export async function decodeImage(file: string, spec: PreprocessSpec): Promise<RawImage> {
  const input = await readInput(file);
  const sniffed = sniffImage(input.head);
  if ('refused' in sniffed) throw new DecodeError(sniffed.refused);
  if ('bytes' in input && sniffed.format === 'png') {
    const fast = decodeSimplePng(input.bytes, spec.width, spec.height);
    if (fast) return fast;
  }
  return decodeWithSharp('bytes' in input ? input.bytes : input.file, spec, sniffed.format);
}

async function decodeWithSharp(input: Buffer | string, spec: PreprocessSpec, format: ImageFormat): Promise<RawImage> {
  try {
    // failOn 'warning': a truncated or corrupt file is refused instead of scored with grey where data is missing.
    const img = sharp()(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, animated: false, failOn: 'warning' })
      .rotate()
      .resize(spec.width, spec.height, { fit: spec.fit === 'stretch' ? 'fill' : 'cover', position: 'centre', kernel: 'linear' })
      .raw({ depth: 'uchar' });
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
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
