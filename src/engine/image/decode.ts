import { closeSync, constants as fsConstants, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import { decodeSimplePng, type RawImage } from './png-fast';
import type { PreprocessSpec } from './preprocess';
import { modelPixels } from './pipeline';
import { SNIFF_BYTES, sniffImage, type ImageFormat } from './sniff';
import { DecodeError, decodeDraft, decodeWithSharp, draftApplies } from './sharp-decode';
import { jpegHeader } from './jpeg-header';

export { DecodeError, MAX_INPUT_PIXELS, sharpForThreads } from './sharp-decode';

/** Files up to this size are read into memory (the PNG fast path needs the bytes); larger ones stream from disk. */
export const IN_MEMORY_BYTES = 8 * 1024 * 1024;

/** The reason a sample is skipped: a DecodeError's own words, anything else (a bug, a native failure) wrapped. */
export function decodeFailure(e: unknown): string {
  return e instanceof DecodeError ? e.message : `cannot decode (${e instanceof Error ? e.message : String(e)})`;
}

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
 * Reads `file` into the scratch buffer: whole when it fits, else its first SYNC_READ_BYTES. The bytes stay valid
 * only until the next call, so the caller must be done with them before it awaits anything.
 */
function readStart(file: string): { bytes: Buffer; whole: boolean; size: number } {
  let fd: number | undefined;
  try {
    fd = openSync(file, OPEN_FLAGS);
    const n = readSync(fd, scratch, 0, SYNC_READ_BYTES, 0);
    if (n === 0) throw new DecodeError('empty file (0 bytes)');
    const whole = n < SYNC_READ_BYTES;
    return { bytes: scratch.subarray(0, n), whole, size: whole ? n : fstatSync(fd).size };
  } catch (e) {
    throw e instanceof DecodeError ? e : readFailure(e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readWhole(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw readFailure(e);
  }
}

/** A file the synchronous step left for sharp: its format, and its bytes (an own copy) when it was read whole. */
export interface Pending {
  file: string;
  format: ImageFormat;
  size: number;
  bytes?: Buffer;
}

/**
 * The synchronous step of decoding: reads the file, identifies it, and when it is a PNG the fast path handles,
 * makes the model pixels for each spec. Otherwise returns what decodeSlow needs. Throws DecodeError when the file
 * cannot be read or is not an image.
 */
export function decodeFast(file: string, specs: readonly PreprocessSpec[]): RawImage[] | Pending {
  const start = readStart(file);
  const sniffed = sniffImage(start.bytes.subarray(0, SNIFF_BYTES));
  if ('refused' in sniffed) throw new DecodeError(sniffed.refused);
  const { format } = sniffed;
  if (!start.whole) return { file, format, size: start.size };
  const img = format === 'png' ? decodeSimplePng(start.bytes) : null;
  if (img) return specs.map((s) => modelPixels(img, s));
  // sharp reads its input on another thread, after the scratch buffer is reused: it gets its own copy.
  return { file, format, size: start.size, bytes: Buffer.from(start.bytes) };
}

/**
 * The rest of decoding, with sharp (libvips, on libuv's threads): the image is decoded once per EXIF setting the
 * specs ask for, then converted, resized and cropped in JavaScript as PIL does (pipeline.ts); a JPEG under a
 * jpegDraft spec is decoded at a reduced scale and resized by libvips instead (sharp-decode.ts). Files up to
 * IN_MEMORY_BYTES are read into memory (a large PNG may still take the fast path); larger ones stream from disk.
 */
export async function decodeSlow(p: Pending, specs: readonly PreprocessSpec[]): Promise<RawImage[]> {
  const bytes = p.bytes ?? (p.size <= IN_MEMORY_BYTES ? await readWhole(p.file) : undefined);
  const img = !p.bytes && bytes && p.format === 'png' ? decodeSimplePng(bytes) : null;
  if (img) return specs.map((s) => modelPixels(img, s));
  const header = bytes && p.format === 'jpeg' && specs.some(draftApplies) ? jpegHeader(bytes) : null;
  const decoded = new Map<boolean, Promise<RawImage>>();
  const whole = (exif: boolean) => {
    let d = decoded.get(exif);
    if (!d) decoded.set(exif, (d = decodeWithSharp(bytes ?? p.file, exif, p.format)));
    return d;
  };
  return Promise.all(specs.map(async (s) => {
    if (!header || !bytes || !draftApplies(s)) return modelPixels(await whole(s.exif), s);
    const turned = s.exif && header.orientation >= 5;
    return decodeDraft(bytes, s, turned ? header.height : header.width, turned ? header.width : header.height);
  }));
}

/**
 * Reads one image file as the model's 8-bit pixels (spec.height × spec.width × spec.channels): EXIF orientation
 * applied when the spec asks, first frame of animations, 16-bit samples reduced to 8, CMYK converted to sRGB,
 * palettes expanded, then converted, resized and cropped as PIL does (pipeline.ts). Throws DecodeError with a
 * short reason on anything else.
 */
export async function decodeImage(file: string, spec: PreprocessSpec): Promise<RawImage> {
  const fast = decodeFast(file, [spec]);
  return Array.isArray(fast) ? fast[0] : (await decodeSlow(fast, [spec]))[0];
}
