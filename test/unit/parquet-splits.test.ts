// Issue 15, Parquet in and out: precomputed outputs as a Parquet table (what Spark, Ray and Dask jobs write) give
// the report the same numbers in .npy folders give; a Parquet manifest lists files like a CSV; `--samples
// OUT.parquet` writes the per-sample table, read back by an independent reader (DuckDB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runScore } from '../../src/engine/run';
import { buildLinearModel } from '../helpers/onnx-builder';
import { duck } from '../helpers/duck';
import { imageFolder, npy, scratchDirs, weights, writeFile } from '../helpers/fixtures';

const scratch = scratchDirs();

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

/** Seeded logits and features for n rows: multiples of 1/256, exact in float32 and as SQL literals. */
function rows(n: number, width: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n * width }, () => Math.round(((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 1536 - 768) / 256);
}

const numbers = (r: Awaited<ReturnType<typeof runScore>>) => JSON.stringify({ ood: r.ood, calibration: r.calibration, thresholds: r.thresholds, conformal: r.conformal, scores: r.samples.map((s) => s.scores) });

test('precomputed outputs as Parquet (zstd, one file with a split column) give the .npy folders\' report', async () => {
  const dir = await scratch('oodlens-pqsplit-');
  const [k, d] = [4, 6];
  const splits = { fit: 60, id: 40, ood: 30, calib: 36 } as const;
  const values: Record<string, { z: number[]; f: number[]; y: number[] }> = {};
  for (const [i, [name, n]] of Object.entries(splits).entries()) {
    values[name] = { z: rows(n, k, 7 + i), f: rows(n, d, 70 + i), y: Array.from({ length: n }, (_, j) => (j * 7 + i) % k) };
    writeFile(path.join(dir, name, 'logits.npy'), npy([n, k], values[name].z));
    writeFile(path.join(dir, name, 'features.npy'), npy([n, d], values[name].f));
    if (name !== 'ood') writeFile(path.join(dir, name, 'labels.npy'), npy([n], values[name].y, '<i8'));
  }
  const W = rows(k, d, 99);
  writeFile(path.join(dir, 'id', 'W.npy'), npy([k, d], W));
  writeFile(path.join(dir, 'W.npy'), npy([k, d], W));
  // The same numbers in one Parquet table, as a Spark job would write them.
  const table = Object.entries(splits).flatMap(([name, n]) => Array.from({ length: n }, (_, j) =>
    `('${name}', ${name === 'ood' ? 'NULL' : values[name].y[j]}, [${values[name].z.slice(j * k, (j + 1) * k).join(',')}]::double[]::float[], [${values[name].f.slice(j * d, (j + 1) * d).join(',')}]::double[]::float[])`));
  const file = path.join(dir, 'outputs.parquet');
  await duck(`copy (select * from (values ${table.join(',')}) t(split, label, logits, features)) to '${file}' (format parquet, compression zstd, row_group_size 50)`);
  const opts = { models: [], scores: ['msp', 'energy', 'mahalanobis', 'knn', 'vim'] };
  const fromNpy = await runScore({ ...opts, fit: path.join(dir, 'fit'), id: path.join(dir, 'id'), ood: [path.join(dir, 'ood')], calib: path.join(dir, 'calib') });
  const fromPq = await runScore({ ...opts, fit: `${file}#split=fit`, id: `${file}#split=id`, ood: [`${file}#split=ood`], calib: `${file}#split=calib` });
  assert.ok(fromNpy.ood.some((r) => r.score === 'vim' && Number.isFinite(r.auroc)), 'ViM computed (needs W.npy)');
  const [a, b] = [JSON.parse(numbers(fromPq)), JSON.parse(numbers(fromNpy))];
  for (const key of Object.keys(b)) {
    const [x, y] = [JSON.stringify(a[key]), JSON.stringify(b[key])];
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    assert.ok(x === y, `${key} differs at: ${x.slice(i - 80, i + 80)} vs ${y.slice(i - 80, i + 80)}`);
  }
  assert.deepEqual(fromPq.splits.map((s) => [s.name, s.count]), [['id', 40], ['ood', 30], ['calib', 36]]);
});

test('a Parquet table of file paths is a manifest: the same report as the folder', async () => {
  const dir = await scratch('oodlens-pqman-');
  const id = await imageFolder(path.join(dir, 'id'), ['cat', 'dog'], 5, 2, 2, 1);
  writeFile(path.join(dir, 'm.onnx'), buildLinearModel({ inputShape: ['N', 1, 2, 2], W: weights(2 * 4, 3), b: [0, 0], metadata: { classes: '["cat","dog"]' } }));
  const list = [...id.keys()].map((f) => `('${path.relative(dir, f)}', '${path.basename(path.dirname(f))}')`);
  list.push(`('id/cat/gone.png', 'cat')`);
  await duck(`copy (select * from (values ${list.join(',')}) t(image_path, label)) to '${path.join(dir, 'id.parquet')}' (format parquet)`);
  const folder = await runScore({ models: [path.join(dir, 'm.onnx')], id: path.join(dir, 'id'), ood: ['noise:4'] });
  const manifest = await runScore({ models: [path.join(dir, 'm.onnx')], id: path.join(dir, 'id.parquet'), ood: ['noise:4'] });
  assert.equal(numbers(manifest), numbers(folder));
  assert.deepEqual(manifest.splits[0].skipped.map((s) => path.basename(s.path)), ['gone.png']);
});

test('--samples OUT.parquet: the per-sample table read by DuckDB equals the JSON report\'s samples; the JSON points to it', async () => {
  const dir = await scratch('oodlens-pqsamples-');
  const d = path.join(repoRoot(), 'examples', 'demo');
  const cli = path.join(repoRoot(), 'dist', 'cli.js');
  const base = ['score', '--model', path.join(d, 'models', 'ce_seed0.onnx'), '--model', path.join(d, 'models', 'ce_seed1.onnx'), '--id', path.join(d, 'data', 'id_test'), '--ood', 'noise:20', '--quiet'];
  let r = spawnSync(process.execPath, [cli, ...base, '--json', 'full.json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  r = spawnSync(process.execPath, [cli, ...base, '--json', 'r.json', '--samples', 'out/s.parquet', '--samples-logits'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8'));
  assert.equal(report.samplesFile, 'out/s.parquet');
  assert.deepEqual(report.samples, []);
  const full = JSON.parse(readFileSync(path.join(dir, 'full.json'), 'utf8'));
  const file = path.join(dir, 'out', 's.parquet');
  const got = await duck(`select path, split, label, "ce_seed0:prediction", "ensemble:prediction", "ce_seed0:msp", "ce_seed1:energy", "ensemble:kl_mean", len("ce_seed0:logits") from '${file}'`);
  assert.equal(got.length, full.samples.length);
  got.forEach((row, i) => {
    const s = full.samples[i];
    assert.deepEqual(row.slice(0, 8), [s.path, s.split, s.label, s.prediction.ce_seed0, s.prediction.ensemble, s.scores.ce_seed0.msp, s.scores.ce_seed1.energy, s.scores.ensemble.kl_mean]);
    assert.equal(Number(row[8]), full.models[0].classes.length);
  });
  const classes = await duck(`select decode(value) from parquet_kv_metadata('${file}') where decode(key) = 'oodlens.classes'`);
  assert.deepEqual(JSON.parse(classes[0][0] as string).ce_seed0, full.models[0].classes);
  r = spawnSync(process.execPath, [cli, ...base, '--samples', 'x.csv'], { cwd: dir, encoding: 'utf8' });
  assert.match(r.stderr, /--samples expects a \.parquet file/);
});
