// Issue 15, "beyond one machine": `--shard I/N` slices every split into whole batches of a single run, and
// `ood-lens merge` rebuilds the single run's report from the shard files: every number equal, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, scratchDirs, weights, writeFile } from '../helpers/fixtures';
import { shardRange } from '../../src/engine/run/shard-slice';

const scratch = scratchDirs();

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const CLI = path.join(ROOT, 'dist', 'cli.js');

function cli(args: string[], cwd: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args, '--quiet'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stderr }));
  });
}

/** The report as text without what differs between two runs of the same job (when it ran, for how long). */
function numbers(file: string): string {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  delete r.createdAt;
  delete r.durationMs;
  return JSON.stringify(r);
}

/** Where two JSON values first differ, as a path with both values. */
function firstDifference(a: unknown, b: unknown, at = ''): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}/${k}`);
      if (d) return d;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 300)} vs ${JSON.stringify(b)?.slice(0, 300)}`;
}

async function singleVsShards(dir: string, args: string[], count: number): Promise<void> {
  const single = await cli(['score', ...args, '--json', 'single.json'], dir);
  assert.equal(single.status, 0, single.stderr);
  // The shards run at once, in separate processes, as a cluster's array job would.
  const runs = await Promise.all(Array.from({ length: count }, (_, i) => cli(['score', ...args, '--shard', `${i}/${count}`, '--shard-out', `s${i}.parquet`], dir)));
  runs.forEach((r, i) => assert.equal(r.status, 0, `shard ${i}: ${r.stderr}`));
  // Given in any order.
  const files = Array.from({ length: count }, (_, i) => `s${count - 1 - i}.parquet`);
  const merged = await cli(['merge', ...files, '--json', 'merged.json'], dir);
  assert.equal(merged.status, 0, merged.stderr);
  const [m, s] = [numbers(path.join(dir, 'merged.json')), numbers(path.join(dir, 'single.json'))];
  if (m !== s) assert.fail(`merged report differs from the single run's, first at ${firstDifference(JSON.parse(m), JSON.parse(s))}`);
}

test('shards are whole batches: every listing index in exactly one shard, in order', () => {
  for (const [n, batch, count] of [[0, 64, 4], [1, 64, 4], [100, 64, 4], [2200, 64, 4], [1000, 7, 13], [5, 1, 8]]) {
    let next = 0;
    for (let i = 0; i < count; i++) {
      const r = shardRange(n, batch, { index: i, count });
      assert.equal(r.start, next);
      assert.ok(r.start % batch === 0 || r.start === n);
      next = r.end;
    }
    assert.equal(next, n);
  }
});

test('4 shards in separate processes, merged: the demo\'s report (two models, feature methods, fit, calibration, noise) to the byte', async () => {
  const dir = await scratch('oodlens-shard-');
  const d = path.join(ROOT, 'examples', 'demo');
  const args = ['--model', path.join(d, 'models', 'ce_seed0.onnx'), '--model', path.join(d, 'models', 'ce_seed1.onnx'),
    '--id', path.join(d, 'data', 'id_test'), '--ood', path.join(d, 'data', 'ood_heldout'), '--ood', 'noise:100',
    '--calib', path.join(d, 'data', 'id_calib'), '--fit', path.join(d, 'data', 'id_fit')];
  await singleVsShards(dir, args, 4);
});

test('files that fail to decode, a holdout split and uneven batches merge to the single run\'s report', async () => {
  const dir = await scratch('oodlens-shard-');
  writeFile(path.join(dir, 'm.onnx'), buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(3 * 16, 5), b: [0, 0.1, 0], features: true, metadata: { classes: '["a","b","c"]' } }));
  await imageFolder(path.join(dir, 'id'), ['a', 'b', 'c', 'd'], 9, 4, 4);
  await imageFolder(path.join(dir, 'fit'), ['a', 'b', 'c'], 10, 4, 4, 1, 30);
  await imageFolder(path.join(dir, 'ood'), ['z'], 11, 4, 4, 1, 90);
  writeFile(path.join(dir, 'id', 'b', 'broken.png'), 'not a png');
  writeFile(path.join(dir, 'ood', 'z', 'empty.png'), '');
  await singleVsShards(dir, ['--model', 'm.onnx', '--id', 'id', '--holdout', 'd', '--ood', 'ood', '--ood', 'noise:13', '--fit', 'fit', '--calib', 'id', '--batch-size', '4'], 3);
  const merged = JSON.parse(readFileSync(path.join(dir, 'merged.json'), 'utf8'));
  assert.deepEqual(merged.splits.flatMap((s: { skipped: { path: string }[] }) => s.skipped.map((k) => path.basename(k.path))).sort(), ['broken.png', 'broken.png', 'empty.png']);
});

test('merge refuses a missing shard, a shard given twice, shards of another run and files that are not shards', async () => {
  const dir = await scratch('oodlens-shard-');
  writeFile(path.join(dir, 'm.onnx'), buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(2 * 16, 3), b: [0, 0], metadata: { classes: '["a","b"]' } }));
  await imageFolder(path.join(dir, 'id'), ['a', 'b'], 5, 4, 4);
  const base = ['score', '--model', 'm.onnx', '--id', 'id', '--ood', 'noise:6'];
  for (const i of [0, 1, 2]) assert.equal((await cli([...base, '--shard', `${i}/3`, '--shard-out', `s${i}.parquet`], dir)).status, 0);
  assert.equal((await cli([...base, '--ood', 'noise:7', '--shard', '2/3', '--shard-out', 'other.parquet'], dir)).status, 0);
  const merge = (files: string[]) => spawnSync(process.execPath, [CLI, 'merge', ...files, '--quiet'], { cwd: dir, encoding: 'utf8' });
  let r = merge(['s0.parquet', 's1.parquet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Missing shard\(s\) 2\/3/);
  r = merge(['s0.parquet', 's1.parquet', 's1.parquet']);
  assert.match(r.stderr, /Shard 1\/3 given twice/);
  r = merge(['s0.parquet', 's1.parquet', 'other.parquet']);
  assert.match(r.stderr, /is from another run/);
  writeFile(path.join(dir, 'x.parquet'), 'nope');
  r = merge(['x.parquet']);
  assert.match(r.stderr, /not a readable Parquet file/);
  r = spawnSync(process.execPath, [CLI, ...base, '--shard', '3/3', '--shard-out', 'y.parquet'], { cwd: dir, encoding: 'utf8' });
  assert.match(r.stderr, /--shard expects I\/N with 0 ≤ I < N/);
});
