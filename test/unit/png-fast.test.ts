// The PNG fast path against the pixels a PNG was made from, for every filter type and colour type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { decodeSimplePng } from '../../src/engine/image/png-fast';
import { pngChunk as chunk } from '../hostile/png';

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes 8-bit samples with the given filter per row (straight from the PNG specification, not the decoder's code). */
function encodePng(px: Uint8Array, w: number, h: number, colorType: number, bpp: number, filters: number[], palette?: Uint8Array): Buffer {
  const stride = w * bpp;
  const raw = new Uint8Array(h * (stride + 1));
  for (let y = 0; y < h; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const cur = px[y * stride + x];
      const a = x >= bpp ? px[y * stride + x - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
      raw[y * (stride + 1) + 1 + x] = (cur - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (palette) parts.push(chunk('PLTE', palette));
  // Two IDAT chunks: decoders must join them.
  const z = deflateSync(raw);
  const cut = z.length >> 1;
  parts.push(chunk('IDAT', z.subarray(0, cut)), chunk('IDAT', z.subarray(cut)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const COLOUR_TYPES = [
  { colorType: 0, bpp: 1, name: 'gray' },
  { colorType: 4, bpp: 2, name: 'gray+alpha' },
  { colorType: 2, bpp: 3, name: 'RGB' },
  { colorType: 6, bpp: 4, name: 'RGBA' },
];
const FILTER_SETS = [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]];

test('every filter type and colour type decodes to the exact pixels', () => {
  const w = 13, h = 9;
  for (const { colorType, bpp, name } of COLOUR_TYPES) {
    for (const filters of FILTER_SETS) {
      // Random pixels exercise wrap-around; a smooth ramp exercises the predictors' ordinary case.
      for (const px of [randomBytes(w * h * bpp, colorType * 31 + filters[0]), Uint8Array.from({ length: w * h * bpp }, (_, i) => (i * 7) & 0xff)]) {
        const img = decodeSimplePng(encodePng(px, w, h, colorType, bpp, filters));
        assert.ok(img, `${name}, filters ${filters}`);
        assert.equal(img.channels, bpp);
        assert.deepEqual(Array.from(img.data), Array.from(px), `${name}, filters ${filters}`);
      }
    }
  }
});

test('palette images expand to RGB; an index past the palette is refused', () => {
  const w = 6, h = 4;
  const palette = randomBytes(4 * 3, 7);
  const idx = Uint8Array.from({ length: w * h }, (_, i) => i % 4);
  const img = decodeSimplePng(encodePng(idx, w, h, 3, 1, [4, 1], palette));
  assert.ok(img);
  assert.equal(img.channels, 3);
  assert.deepEqual(Array.from(img.data), Array.from(idx).flatMap((i) => [palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]]));
  idx[5] = 9;
  assert.equal(decodeSimplePng(encodePng(idx, w, h, 3, 1, [0], palette)), null);
});

test('images over the pixel limit, an unknown filter type and a damaged stream are left to sharp (null)', () => {
  const px = randomBytes(8 * 8, 3);
  const png = encodePng(px, 8, 8, 0, 1, [2]);
  assert.ok(decodeSimplePng(png, 64));
  assert.equal(decodeSimplePng(png, 63), null);
  const raw = Buffer.alloc(8 * 9);
  raw[0] = 5;
  const z = deflateSync(raw);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8;
  const five = Buffer.concat([png.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
  assert.equal(decodeSimplePng(five), null);
  const damaged = Buffer.from(png);
  damaged.fill(0xff, 45, 60);
  assert.equal(decodeSimplePng(damaged), null);
});
