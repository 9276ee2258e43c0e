// A byte-exact PNG writer: hostile fixtures need what encoders avoid (16-bit and sub-byte samples, palettes with
// transparency, truncation at a chosen byte, headers that lie) and must not depend on an encoder's choices.
import { deflateSync, createDeflate } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function ihdr(width: number, height: number, depth: number, colorType: number): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(width, 0);
  b.writeUInt32BE(height, 4);
  b[8] = depth;
  b[9] = colorType;
  return pngChunk('IHDR', b);
}

export interface PngSpec {
  width: number;
  height: number;
  /** 1, 2, 4, 8 or 16 bits per sample. */
  depth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  /** Samples row-major, interleaved; one value per sample whatever the depth. */
  samples: ArrayLike<number>;
  /** RGB triples for colour type 3. */
  palette?: number[];
  /** tRNS chunk body (alpha per palette entry for colour type 3). */
  trns?: number[];
  /** zlib level (default 6); 0 stores the pixels uncompressed, for files of a chosen size. */
  level?: number;
}

/** Packs samples MSB-first into filter-0 scanlines, as the PNG spec lays them out. */
function scanlines(s: PngSpec): Buffer {
  const perRow = s.width * SAMPLES[s.colorType];
  const rowBytes = Math.ceil((perRow * s.depth) / 8);
  const out = Buffer.alloc((rowBytes + 1) * s.height);
  for (let y = 0; y < s.height; y++) {
    const row = y * (rowBytes + 1) + 1;
    for (let i = 0; i < perRow; i++) {
      const v = s.samples[y * perRow + i];
      if (s.depth === 16) out.writeUInt16BE(v, row + i * 2);
      else if (s.depth === 8) out[row + i] = v;
      else {
        const bit = i * s.depth;
        out[row + (bit >> 3)] |= v << (8 - s.depth - (bit & 7));
      }
    }
  }
  return out;
}

export function encodePng(s: PngSpec): Buffer {
  const parts = [SIGNATURE, ihdr(s.width, s.height, s.depth, s.colorType)];
  if (s.palette) parts.push(pngChunk('PLTE', Uint8Array.from(s.palette)));
  if (s.trns) parts.push(pngChunk('tRNS', Uint8Array.from(s.trns)));
  parts.push(pngChunk('IDAT', deflateSync(scanlines(s), { level: s.level ?? 6 })), pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** A valid PNG header claiming `width` × `height`, with a few bytes of image data: a decompression bomb's shape. */
export function lyingPngHeader(width: number, height: number): Buffer {
  return Buffer.concat([SIGNATURE, ihdr(width, height, 8, 0), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * Streams a size × size RGB PNG of four solid quadrants (top-left, top-right, bottom-left, bottom-right) to
 * `file` without holding its pixels: rows repeat, so all but the first of each half are "Up"-filtered zeros.
 */
export async function writeQuadrantPng(file: string, size: number, colours: [number, number, number][]): Promise<void> {
  const half = size >> 1;
  const row = (left: number[], right: number[]) => {
    const r = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) r.set(x < half ? left : right, 1 + x * 3);
    return r;
  };
  const top = row(colours[0], colours[1]);
  const bottom = row(colours[2], colours[3]);
  const same = Buffer.alloc(1 + size * 3);
  same[0] = 2;
  const deflate = createDeflate({ level: 6 });
  const compressed: Buffer[] = [];
  deflate.on('data', (b: Buffer) => compressed.push(b));
  for (let y = 0; y < size; y++) {
    if (!deflate.write(y === 0 ? top : y === half ? bottom : same)) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  const out = createWriteStream(file);
  out.end(Buffer.concat([SIGNATURE, ihdr(size, size, 8, 2), pngChunk('IDAT', Buffer.concat(compressed)), pngChunk('IEND', new Uint8Array(0))]));
  await once(out, 'finish');
}
