// The Pillow ports in src/engine/image/pil.ts against real Pillow output (test/fixtures/pil-golden.json, written by
// scripts/make-pil-golden.py): every case must be bit-exact, because a one-level difference in a resized pixel is
// enough to move a score away from the one the Python pipeline computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { centerCrop, resizePil, shorterSideSize, toGray, toRgb, type Interpolation, type Pixels } from '../../src/engine/image/pil';

interface Case {
  op: 'resize' | 'toGray' | 'toRgb' | 'centerCrop';
  image: string;
  width?: number;
  height?: number;
  filter?: Interpolation;
  rounding?: 'round' | 'floor';
  outWidth: number;
  outHeight: number;
  outChannels: number;
  sha256: string;
  data?: string;
}
interface Golden {
  pillow: string;
  images: Record<string, { width: number; height: number; rgbaPlanes: string }>;
  cases: Case[];
  shorterSide: { width: number; height: number; size: number; expected: [number, number] }[];
}

// Bundled into dist/test/unit/, so the repository root is three levels up.
const GOLDEN = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'pil-golden.json');
const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;

const unpack = (b64: string): Uint8Array => new Uint8Array(inflateSync(Buffer.from(b64, 'base64')));
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const MODES: Record<string, number> = { L: 1, LA: 2, RGB: 3, RGBA: 4 };

const inputs = new Map<string, Pixels>();
/** "name-MODE" → pixels, derived from the stored RGBA planes exactly as the generator's mode_array does. */
function input(key: string): Pixels {
  const cached = inputs.get(key);
  if (cached) return cached;
  const [name, mode] = key.split('-');
  const src = golden.images[name];
  const channels = MODES[mode];
  assert.ok(src && channels, `unknown golden image ${key}`);
  const planes = unpack(src.rgbaPlanes);
  const n = src.width * src.height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const [r, g, b, a] = [planes[i], planes[n + i], planes[2 * n + i], planes[3 * n + i]];
    const gray = Math.floor((r * 3 + g * 5 + b * 2) / 10);
    const px = channels === 1 ? [gray] : channels === 2 ? [gray, a] : channels === 3 ? [r, g, b] : [r, g, b, a];
    data.set(px, i * channels);
  }
  const img = { data, width: src.width, height: src.height, channels };
  inputs.set(key, img);
  return img;
}

function run(c: Case): Pixels {
  const img = input(c.image);
  switch (c.op) {
    case 'resize': return resizePil(img, c.width!, c.height!, c.filter!);
    case 'toGray': return toGray(img);
    case 'toRgb': return toRgb(img);
    case 'centerCrop': return centerCrop(img, c.width!, c.height!, c.rounding!);
  }
}

function describe(c: Case): string {
  const what = c.op === 'resize' ? ` -> ${c.width}x${c.height} ${c.filter}` : c.op === 'centerCrop' ? ` -> ${c.width}x${c.height} ${c.rounding}` : '';
  return `${c.op} ${c.image}${what}`;
}

/** Null when bit-exact, otherwise what differs (with the largest difference when the golden holds the full output). */
function mismatch(c: Case): string | null {
  const out = run(c);
  if (out.width !== c.outWidth || out.height !== c.outHeight || out.channels !== c.outChannels) {
    return `${describe(c)}: got ${out.width}x${out.height}x${out.channels}, Pillow ${c.outWidth}x${c.outHeight}x${c.outChannels}`;
  }
  if (sha256(out.data) === c.sha256) return null;
  if (!c.data) return `${describe(c)}: SHA-256 differs (output too large to be stored; max difference unknown)`;
  const want = unpack(c.data);
  let max = 0, at = -1, count = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(out.data[i] - want[i]);
    if (d > 0) count++;
    if (d > max) { max = d; at = i; }
  }
  const px = Math.floor(at / c.outChannels);
  return `${describe(c)}: max abs difference ${max} (${count} values differ; first max at x=${px % c.outWidth} y=${Math.floor(px / c.outWidth)} channel ${at % c.outChannels}: got ${out.data[at]}, Pillow ${want[at]})`;
}

function checkAll(op: Case['op'], minCases: number): void {
  const cases = golden.cases.filter((c) => c.op === op);
  assert.ok(cases.length >= minCases, `only ${cases.length} ${op} cases in ${GOLDEN}`);
  const failures = cases.map(mismatch).filter((m): m is string => m !== null);
  // Cases with a known largest difference first: they say more than a bare hash mismatch.
  failures.sort((a, b) => Number(a.includes('SHA-256')) - Number(b.includes('SHA-256')));
  assert.equal(failures.length, 0, `${failures.length}/${cases.length} ${op} cases differ from Pillow ${golden.pillow}:\n${failures.slice(0, 25).join('\n')}`);
}

test('resizePil is bit-exact with Pillow for every filter, mode and target', () => checkAll('resize', 500));
test('toGray is bit-exact with Pillow convert("L")', () => checkAll('toGray', 10));
test('toRgb is bit-exact with Pillow convert("RGB")', () => checkAll('toRgb', 10));
test('centerCrop matches torchvision (round) and transformers (floor), padding included', () => checkAll('centerCrop', 100));

test('shorterSideSize matches torchvision Resize(int)', () => {
  assert.ok(golden.shorterSide.length >= 10);
  for (const s of golden.shorterSide) {
    assert.deepEqual(shorterSideSize(s.width, s.height, s.size), s.expected, `${s.width}x${s.height} size ${s.size}`);
  }
});

test('resizePil returns a copy for an unchanged size and leaves its input alone', () => {
  const img = input('odd-RGBA');
  const before = sha256(img.data);
  const same = resizePil(img, img.width, img.height, 'bicubic');
  assert.notEqual(same.data, img.data);
  assert.deepEqual(same.data, img.data);
  resizePil(img, 10, 10, 'lanczos');
  assert.equal(sha256(img.data), before);
});

test('bad geometry is refused', () => {
  const img = input('tiny-RGB');
  assert.throws(() => resizePil(img, 0, 5, 'bilinear'), RangeError);
  assert.throws(() => resizePil(img, 2.5, 5, 'bilinear'), RangeError);
  assert.throws(() => centerCrop(img, 5, -1, 'round'), RangeError);
  assert.throws(() => toGray({ ...img, data: img.data.subarray(1) }), RangeError);
  assert.throws(() => toRgb({ ...img, channels: 5 }), RangeError);
});
