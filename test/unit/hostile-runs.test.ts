// Issue 7, cases 16, 27, 28: a folder of many files, cancellation in every phase, concurrent runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScore, type Progress, type RunOptions } from '../../src/engine/run';
import type { Report } from '../../src/engine/report/types';
import { imageFolder, tempDir } from '../helpers/fixtures';
import { hugeImage, manyFilesFolder, models, nonFiniteFolders, SIZE } from '../hostile/generate';

const MANY = process.env.OOD_LENS_SLOW_TESTS === '1' ? 100_000 : 20_000;

/** A report as written, without its timing: sample rows are views over each run's own columns, so compare JSON. */
const strip = (r: Report) => JSON.parse(JSON.stringify({ ...r, createdAt: '', durationMs: 0 }));

test(`a flat folder of ${MANY.toLocaleString('en-US')} files is streamed with progress in bounded memory`, { timeout: 300_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    let started = Date.now();
    const root = manyFilesFolder(path.join(t.dir, 'many'), MANY);
    const writeSeconds = (Date.now() - started) / 1000;
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const events: (Progress & { at: number })[] = [];
    started = Date.now();
    const report = await runScore({ models: [m.classifier], id: root, ood: ['noise:100'], batchSize: 256 }, {
      onProgress: (p) => {
        events.push({ ...p, at: Date.now() });
        peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(report.splits[0].count, MANY);
    assert.equal(report.samples.length, MANY + 100);
    const scoring = events.filter((e) => e.phase === 'scoring');
    assert.ok(scoring.length >= MANY / 256, `${scoring.length} progress events`);
    for (let i = 1; i < scoring.length; i++) assert.ok(scoring[i].done >= scoring[i - 1].done, 'progress never goes back');
    assert.equal(scoring.at(-1)!.done, MANY + 100);
    assert.equal(scoring.at(-1)!.total, MANY + 100);
    const at = (phase: string) => events.find((e) => e.phase === phase)!.at;
    // Pixels are decoded a window at a time: memory grows with the per-sample results, not with the folder.
    const grownMb = (peak - before) / 2 ** 20;
    assert.ok(grownMb < 64 + (MANY / 1000) * 8, `RSS grew by ${grownMb.toFixed(0)} MB`);
    process.stdout.write(`# ${MANY} files: written in ${writeSeconds.toFixed(1)} s; listed in ${((at('loading') - started) / 1000).toFixed(2)} s, ` +
      `scored in ${((at('analysis') - at('loading')) / 1000).toFixed(1)} s, analysis ${((at('done') - at('analysis')) / 1000).toFixed(2)} s, ` +
      `total ${seconds.toFixed(1)} s; RSS +${grownMb.toFixed(0)} MB during scoring\n`);
  } finally {
    t.cleanup();
  }
});

/** Runs with a cancel triggered by `trigger` (given the progress and the abort function); returns the report and ms from abort to resolve. */
async function cancelled(opts: RunOptions, trigger: (p: Progress, abort: () => void) => void): Promise<{ report: Report; ms: number }> {
  const controller = new AbortController();
  let abortedAt = 0;
  const abort = () => {
    if (abortedAt) return;
    abortedAt = Date.now();
    controller.abort();
  };
  const report = await runScore(opts, { signal: controller.signal, onProgress: (p) => trigger(p, abort) });
  assert.ok(abortedAt > 0, 'the run was cancelled');
  return { report, ms: Date.now() - abortedAt };
}

test('cancelling while listing, decoding, running the model or computing metrics stops within a second', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const timings: string[] = [];

    // Listing: 1,000 nested folders.
    const tree = path.join(t.dir, 'tree');
    for (let i = 0; i < 1000; i++) fs.mkdirSync(path.join(tree, `c${i % 2}`, `d${i}`), { recursive: true });
    await imageFolder(path.join(tree, 'c0'), ['d0'], 2, SIZE, SIZE, 1);
    const listing = await cancelled({ models: [m.classifier], id: tree }, (p, abort) => {
      if (p.phase === 'listing') setTimeout(abort, 5);
    });
    assert.equal(listing.report.partial, true);
    assert.equal(listing.report.samples.length, 0);
    timings.push(`listing ${listing.ms} ms`);

    // Decoding: two 10,000 × 10,000 PNGs (seconds to decode) after eight small images.
    const slowDecode = path.join(t.dir, 'huge');
    await imageFolder(slowDecode, ['a'], 8, SIZE, SIZE, 1);
    const huge = await hugeImage(path.join(slowDecode, 'b', 'huge0.png'));
    fs.linkSync(huge, path.join(slowDecode, 'b', 'huge1.png'));
    const decoding = await cancelled({ models: [m.classifier], id: slowDecode, batchSize: 4 }, (p, abort) => {
      if (p.phase === 'scoring' && p.done >= 8) abort();
    });
    assert.equal(decoding.report.partial, true);
    assert.equal(decoding.report.samples.length, 8, 'the small images scored before the cancel are kept');
    timings.push(`decoding ${decoding.ms} ms`);

    // Inference: a model that takes about 2 s per batch of 128.
    const ids = manyFilesFolder(path.join(t.dir, 'ids'), 384);
    const inference = await cancelled({ models: [m.slow], id: ids, batchSize: 128 }, (p, abort) => {
      if (p.phase === 'scoring') abort();
    });
    assert.equal(inference.report.partial, true);
    assert.equal(inference.report.samples.length, 128, 'the first batch is kept');
    assert.ok(inference.report.warnings.includes('The run was cancelled: every number covers only the samples scored before that'));
    timings.push(`inference ${inference.ms} ms`);

    // Metrics: analysis is synchronous and short; a cancel arriving then finds every sample scored.
    const nf = nonFiniteFolders(path.join(t.dir, 'nf'));
    const metrics = await cancelled({ models: [m.nonFinite], id: nf.id, ood: [nf.ood], bootstrap: 200 }, (p, abort) => {
      if (p.phase === 'analysis') abort();
    });
    assert.equal(metrics.report.partial, false, 'nothing is missing: the report is complete');
    assert.equal(metrics.report.samples.length, 9);
    timings.push(`metrics ${metrics.ms} ms`);

    for (const r of [listing, decoding, inference, metrics]) assert.ok(r.ms < 1000, timings.join(', '));
    process.stdout.write(`# cancel → report: ${timings.join(', ')}\n`);
  } finally {
    t.cleanup();
  }
});

test('two runs at once give the same reports as one after the other', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const a = path.join(t.dir, 'a');
    const b = path.join(t.dir, 'b');
    await imageFolder(a, ['a', 'b'], 30, SIZE, SIZE, 1);
    await imageFolder(b, ['a', 'b'], 25, SIZE, SIZE, 1, 500);
    const first: RunOptions = { models: [m.classifier], id: a, ood: [b], batchSize: 7 };
    const second: RunOptions = { models: [m.probabilities, m.threeClasses], id: b, ood: [a, 'noise:40'], batchSize: 5, ensemble: false };
    const alone = [await runScore(first), await runScore(second)];
    const together = await Promise.all([runScore(first), runScore(second), runScore(first)]);
    assert.deepEqual(strip(together[0]), strip(alone[0]));
    assert.deepEqual(strip(together[1]), strip(alone[1]));
    assert.deepEqual(strip(together[2]), strip(alone[0]));
  } finally {
    t.cleanup();
  }
});

test('several decoding threads give the same report as one; a thread count that is not a positive integer is refused', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const a = path.join(t.dir, 'a');
    const b = path.join(t.dir, 'b');
    await imageFolder(a, ['a', 'b'], 40, SIZE, SIZE, 1);
    // A different size goes through sharp on the main thread, interleaved with the threads' chunks.
    await imageFolder(b, ['a', 'b'], 30, SIZE * 2, SIZE * 2, 3, 500);
    const opts: RunOptions = { models: [m.classifier], id: a, ood: [b, 'noise:50'], batchSize: 4 };
    const one = strip(await runScore({ ...opts, decodeThreads: 1 }));
    assert.deepEqual(strip(await runScore({ ...opts, decodeThreads: 3 })), one);
    assert.equal(one.samples.length, 80 + 60 + 50);
    for (const bad of [0, 1.5]) await assert.rejects(runScore({ ...opts, decodeThreads: bad }), /Decode threads must be a positive integer/);
  } finally {
    t.cleanup();
  }
});
