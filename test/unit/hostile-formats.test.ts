// Issue 7, cases 7–12: formats that must decode to known pixels (16-bit, channel conversions, alpha, palette,
// CMYK, animation, EXIF orientation), a 10,000 × 10,000 image, and files too large to read into memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { decodeImage, DecodeError, IN_MEMORY_BYTES } from '../../src/engine/image/decode';
import { makeSampleWriter, plainSpec, type PreprocessSpec } from '../../src/engine/image/preprocess';
import { tempDir } from '../helpers/fixtures';
import { formatsFolder, hugeImage, HUGE_QUADRANTS, largeFile, models, SIZE, type FormatCase } from '../hostile/generate';

const spec = (channels: 1 | 3, size = SIZE): PreprocessSpec => plainSpec('NCHW', channels, size, size);

/** The model input the documented preprocessing gives for 8-bit pixels: C,H,W order, /255, PIL's 601 luma, gray replicated. */
function expectedInput(c: FormatCase, modelChannels: 1 | 3): number[] {
  const n = c.pixels.length / c.channels;
  const out: number[] = [];
  for (let ch = 0; ch < modelChannels; ch++) {
    for (let i = 0; i < n; i++) {
      const p = c.pixels.slice(i * c.channels, i * c.channels + c.channels);
      const v = modelChannels === 1 && c.channels === 3 ? (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16 : p[c.channels === 3 ? ch : 0];
      out.push(v / 255);
    }
  }
  return out;
}

async function modelInput(file: string, s: PreprocessSpec): Promise<Float32Array> {
  const img = await decodeImage(file, s);
  const out = new Float32Array(s.channels * s.height * s.width);
  makeSampleWriter(s)(img.data, out, 0);
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('every format decodes to its expected pixels, for gray and RGB models', async () => {
  const t = tempDir();
  try {
    const cases = await formatsFolder(t.dir);
    assert.equal(Object.keys(cases).length, 13);
    for (const [name, c] of Object.entries(cases)) {
      for (const channels of [1, 3] as const) {
        const got = await modelInput(c.file, spec(channels));
        const diff = maxDiff(got, expectedInput(c, channels)) * 255;
        assert.ok(diff <= c.tolerance + 1e-3, `${name} → ${channels}-channel model: off by ${diff.toFixed(2)} (tolerance ${c.tolerance})`);
      }
    }
  } finally {
    t.cleanup();
  }
});

test('the formats are scored end to end: identity models reveal the pixels in the scores', async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const cases = await formatsFolder(path.join(t.dir, 'formats'));
    const report = await runScore({ models: [m.identityGray, m.identityRgb], id: path.join(t.dir, 'formats'), ensemble: false, batchSize: 5 });
    assert.deepEqual(report.splits[0].skipped, []);
    assert.equal(report.splits[0].count, Object.keys(cases).length);
    for (const [name, c] of Object.entries(cases)) {
      const row = report.samples.find((s) => s.path === c.file)!;
      for (const [model, channels] of [['identity-gray', 1], ['identity-rgb', 3]] as const) {
        // Logits are the pixels, so max_logit = −max pixel and energy = −logsumexp(pixels).
        const x = expectedInput(c, channels);
        const tol = c.tolerance / 255 + 1e-5;
        assert.ok(Math.abs((row.scores[model].max_logit as number) + Math.max(...x)) <= tol, `${name} ${model} max_logit`);
        const lse = Math.log(x.reduce((a, v) => a + Math.exp(v), 0));
        assert.ok(Math.abs((row.scores[model].energy as number) + lse) <= tol, `${name} ${model} energy`);
      }
    }
  } finally {
    t.cleanup();
  }
});

test('a 10,000 × 10,000 PNG is resized in bounded memory', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const big = await hugeImage(path.join(t.dir, 'huge.png'));
    const small = await hugeImage(path.join(t.dir, 'small.png'), 400);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
    const started = Date.now();
    const got = await modelInput(big, spec(3));
    const seconds = (Date.now() - started) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    // Its pixels alone are 300 MB; streaming keeps the decode far below that.
    assert.ok(peak - before < 200 * 2 ** 20, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MB decoding the 10k image`);
    // Corners are pure quadrant colours; the rest matches the same picture at 400 × 400 after the same resize.
    const corner = (y: number, x: number) => [0, 1, 2].map((ch) => Math.round(got[ch * SIZE * SIZE + y * SIZE + x] * 255));
    assert.deepEqual([corner(0, 0), corner(0, SIZE - 1), corner(SIZE - 1, 0), corner(SIZE - 1, SIZE - 1)], HUGE_QUADRANTS);
    assert.ok(maxDiff(got, await modelInput(small, spec(3))) * 255 <= 2);
    process.stdout.write(`# 10k × 10k PNG: decoded and resized in ${seconds.toFixed(2)} s, RSS +${((peak - before) / 2 ** 20).toFixed(0)} MB\n`);
  } finally {
    t.cleanup();
  }
});

test('files over the in-memory limit stream from disk: an image decodes, a large text file is refused by its first bytes', async () => {
  const t = tempDir();
  try {
    const big = largeFile(path.join(t.dir, 'large.png'), 1800);
    assert.ok(fs.statSync(big).size > IN_MEMORY_BYTES);
    const got = await modelInput(big, spec(3));
    const corner = (y: number, x: number) => [0, 1, 2].map((ch) => Math.round(got[ch * SIZE * SIZE + y * SIZE + x] * 255));
    assert.deepEqual([corner(0, 0), corner(0, SIZE - 1), corner(SIZE - 1, 0), corner(SIZE - 1, SIZE - 1)], HUGE_QUADRANTS);
    const text = path.join(t.dir, 'large-text.png');
    fs.writeFileSync(text, 'not pixels\n'.repeat(IN_MEMORY_BYTES / 10));
    await assert.rejects(decodeImage(text, spec(3)), new DecodeError('not an image: the file is text'));
    await assert.rejects(decodeImage(path.join(t.dir, 'gone.png'), spec(3)), new DecodeError('file not found (deleted after listing, or a broken link)'));
  } finally {
    t.cleanup();
  }
});
