// JPEGs (and every format the PNG fast path leaves) are decoded by sharp inside the decoding threads, and resampled
// there: the tensors must be exactly those the main thread computed before (decodeImage), with the centre crop
// resampled alone; files the threads may not decode yet (sharp not loaded on the main thread) come back for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../../src/engine/image/decode';
import { DecodePool } from '../../src/engine/image/decode-pool';
import { SampleStatus } from '../../src/engine/image/decode-messages';
import { makeSampleWriter, plainSpec, type PreprocessSpec } from '../../src/engine/image/preprocess';
import { centerCrop, cropRect, resizePil, type Interpolation } from '../../src/engine/image/pil';
import { inferenceThreadsStopped } from '../../src/engine/inference/live-threads';

const ROOT = path.resolve(__dirname, '..', '..', '..', 'test');
const JPEGS = ['china_900x600_420.jpg', 'china_640x427_444_progressive.jpg', 'flower_720x480_exif6.jpg', 'china_gray_600x400.jpg'].map((f) => path.join(ROOT, 'fixtures', 'jpeg', f));
const PNG = path.join(ROOT, 'parity', 'images', 'class_a', '05_china_rgba_150x100.png');
const base = plainSpec('NCHW', 3, 224, 224);
const SPECS: PreprocessSpec[] = [
  { ...base, resize: { shorter: 256 }, exif: false },
  { ...base, resize: { shorter: 256 }, interpolation: 'bicubic' }, // EXIF applied: the same files decoded a second way
  { ...plainSpec('NHWC', 1, 64, 48), resize: { width: 80, height: 70 }, cropRounding: 'floor', interpolation: 'lanczos' },
  { ...base, resize: { shorter: 100 }, jpegDraft: true },
];

/** What the main thread makes of each file for each spec, written as a run writes it. */
async function mainThread(files: string[], specs: PreprocessSpec[]): Promise<Float32Array[]> {
  return Promise.all(specs.map(async (s) => {
    const size = s.channels * s.height * s.width, out = new Float32Array(files.length * size), write = makeSampleWriter(s);
    for (const [j, f] of files.entries()) write((await decodeImage(f, s)).data, out, j);
    return out;
  }));
}

test('before the main thread has loaded sharp, a thread hands a disguised JPEG back instead of loading sharp itself', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oodlens-jpeg-'));
  const pool = new DecodePool(1);
  try {
    copyFileSync(JPEGS[0], path.join(dir, 'photo.png'));
    const r = await pool.decode({ specs: [SPECS[0]], source: { files: [PNG, path.join(dir, 'photo.png')] } });
    assert.deepEqual([...r.status], [SampleStatus.Ok, SampleStatus.NeedsSharp]);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decoding threads give the main thread\'s tensors to the bit: JPEG exact and draft, EXIF, gray, two specs per job', async () => {
  const files = [...JPEGS, PNG, ...JPEGS];
  const want = await mainThread(files, SPECS);
  const pool = new DecodePool(2);
  try {
    // Two jobs at once on two threads, each with every spec: sharp decodes once per EXIF setting per file.
    const [a, b] = await Promise.all([pool.decode({ specs: SPECS, source: { files: files.slice(0, 5) } }), pool.decode({ specs: SPECS, source: { files: files.slice(5) } })]);
    for (const r of [a, b]) assert.ok(r.status.every((s) => s === SampleStatus.Ok), JSON.stringify(r.reasons));
    SPECS.forEach((s, g) => {
      const size = s.channels * s.height * s.width;
      const got = new Float32Array(files.length * size);
      got.set(a.tensors[g].subarray(0, 5 * size));
      got.set(b.tensors[g].subarray(0, 4 * size), 5 * size);
      assert.deepEqual(got, want[g], `spec ${g}`);
    });
  } finally {
    pool.close();
  }
});

test('a broken JPEG in a thread fails alone, with the reason the main thread gives', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oodlens-jpeg-'));
  const pool = new DecodePool(1);
  try {
    const cut = path.join(dir, 'cut.jpg');
    writeFileSync(cut, readFileSync(JPEGS[1]).subarray(0, 5000));
    const expected = await decodeImage(cut, SPECS[0]).then(() => 'decoded', (e: Error) => e.message);
    const r = await pool.decode({ specs: [SPECS[0]], source: { files: [JPEGS[0], cut, JPEGS[2]] } });
    assert.deepEqual([...r.status], [SampleStatus.Ok, SampleStatus.Failed, SampleStatus.Ok]);
    // libvips words the cause itself or, depending on its threads' timing, only "Warning treated as error".
    for (const reason of [r.reasons[1], expected]) assert.match(reason, /^truncated or corrupt JPEG \(/);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closing the pool while sharp decodes in its threads: they finish the images in flight and exit', { timeout: 60_000 }, async () => {
  const pool = new DecodePool(2);
  const jobs = [0, 1, 2, 3].map(() => pool.decode({ specs: [SPECS[0]], source: { files: [...JPEGS, ...JPEGS, ...JPEGS] } }));
  jobs.forEach((j) => j.catch(() => undefined));
  await new Promise((r) => setTimeout(r, 30));
  pool.close();
  await inferenceThreadsStopped();
});

test('after a pool\'s threads have exited, new threads (a second run in the same process) decode with sharp again', async () => {
  const want = await mainThread(JPEGS, [SPECS[0]]);
  for (let run = 0; run < 2; run++) {
    const pool = new DecodePool(1);
    try {
      const r = await pool.decode({ specs: [SPECS[0]], source: { files: JPEGS } });
      assert.deepEqual(r.tensors[0].subarray(0, want[0].length), want[0], `run ${run}`);
    } finally {
      pool.close();
    }
    await inferenceThreadsStopped();
  }
});

test('a centre crop resampled alone equals the same crop of the whole resized image (every filter, 1 and 3 channels)', () => {
  const filters: Interpolation[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];
  let seed = 7;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n);
  for (let i = 0; i < 60; i++) {
    const [w, h, ch] = [20 + rnd(300), 20 + rnd(300), rnd(2) ? 3 : 1];
    const data = new Uint8Array(w * h * ch).map(() => rnd(256));
    const [rw, rh] = [1 + rnd(2 * w), 1 + rnd(2 * h)];
    const [cw, chh] = [1 + rnd(rw), 1 + rnd(rh)];
    const filter = filters[i % filters.length];
    const rounding = i % 2 ? 'round' : 'floor';
    const img = { data, width: w, height: h, channels: ch };
    const whole = centerCrop(resizePil(img, rw, rh, filter), cw, chh, rounding);
    const alone = resizePil(img, rw, rh, filter, cropRect(rw, rh, cw, chh, rounding));
    assert.deepEqual(alone, whole, `${w}x${h}x${ch} -> ${rw}x${rh} crop ${cw}x${chh} ${filter}`);
  }
});
