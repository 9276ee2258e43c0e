import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, tempDir, weights, writeFile } from '../helpers/fixtures';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const cli = path.join(repoRoot(), 'dist', 'cli.js');

function run(args: string[], cwd?: string) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });
}

async function workspace() {
  const t = tempDir();
  const model = path.join(t.dir, 'net.onnx');
  // Large weights make the model over-confident, so temperature scaling has something to fix.
  writeFile(model, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(3 * 16, 11).map((w) => w * 8), b: [0, 0, 0], metadata: { classes: '["a","b","c"]' } }));
  await imageFolder(path.join(t.dir, 'id'), ['a', 'b', 'c'], 6, 4, 4);
  await imageFolder(path.join(t.dir, 'calib'), ['a', 'b', 'c'], 6, 4, 4, 1, 40);
  await imageFolder(path.join(t.dir, 'ood'), ['z'], 8, 4, 4, 1, 90);
  return { ...t, model };
}

test('score writes the JSON, HTML and CSV reports with the documented keys', async () => {
  const w = await workspace();
  try {
    const r = run(['score', '--model', w.model, '--id', 'id', '--ood', 'ood', '--ood', 'noise:5', '--calib', 'calib', '--json', 'r.json', '--html', 'r.html', '--csv', 'r.csv', '--quiet'], w.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /AUROC/);
    const report = JSON.parse(readFileSync(path.join(w.dir, 'r.json'), 'utf8'));
    for (const key of ['models', 'splits', 'samples', 'ood', 'calibration']) assert.ok(key in report, key);
    assert.deepEqual(Object.keys(report.models[0]).filter((k) => ['name', 'path', 'executionProvider', 'classes'].includes(k)).sort(), ['classes', 'executionProvider', 'name', 'path']);
    assert.deepEqual(report.splits.map((s: { name: string; role: string }) => `${s.name}:${s.role}`), ['id:id', 'ood:ood', 'noise:ood', 'calib:calib']);
    const row = report.ood.find((o: { split: string; score: string }) => o.split === 'ood' && o.score === 'msp');
    for (const k of ['model', 'split', 'score', 'auroc', 'aupr_in', 'aupr_out', 'fpr95']) assert.ok(k in row, k);
    for (const k of ['model', 'split', 'accuracy', 'ece', 'mce', 'nll', 'brier', 'temperature', 'scaled']) assert.ok(k in report.calibration[0], k);
    assert.equal(report.samples.length, 18 + 8 + 5 + 18);
    assert.match(readFileSync(path.join(w.dir, 'r.html'), 'utf8'), /^<!DOCTYPE html>/i);
    assert.equal(readFileSync(path.join(w.dir, 'r.csv'), 'utf8').trim().split('\r\n').length, 1 + report.samples.length);
  } finally {
    w.cleanup();
  }
});

test('calibrate writes an ONNX whose ECE equals the reported "after" ECE', async () => {
  const w = await workspace();
  try {
    const out = path.join(w.dir, 'net.calibrated.onnx');
    const c = run(['calibrate', '--model', w.model, '--calib', 'calib', '--id', 'id', '--out', out, '--json', 'cal.json', '--quiet'], w.dir);
    assert.equal(c.status, 0, c.stderr);
    const cal = JSON.parse(readFileSync(path.join(w.dir, 'cal.json'), 'utf8')).calibration[0];
    assert.ok(cal.temperature > 1, `over-confident model: T = ${cal.temperature}`);
    const s = run(['score', '--model', out, '--id', 'id', '--json', 'after.json', '--quiet'], w.dir);
    assert.equal(s.status, 0, s.stderr);
    const after = JSON.parse(readFileSync(path.join(w.dir, 'after.json'), 'utf8')).calibration[0];
    assert.ok(Math.abs(after.ece - cal.scaled.ece) < 1e-6, `${after.ece} vs ${cal.scaled.ece}`);
    assert.equal(after.accuracy, cal.accuracy, 'temperature scaling keeps predictions');
  } finally {
    w.cleanup();
  }
});

test('a failing gate in the config exits with code 2 and names the gate', async () => {
  const w = await workspace();
  try {
    writeFile(path.join(w.dir, 'oodlens.json'), JSON.stringify({ models: ['net.onnx'], id: 'id', ood: ['ood'], gates: { auroc_min: { ood: 1.01 } } }));
    const r = run(['score', '--config', 'oodlens.json', '--quiet'], w.dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /gate FAILED.*AUROC/);
    writeFile(path.join(w.dir, 'oodlens.json'), JSON.stringify({ models: ['net.onnx'], id: 'id', ood: ['ood'], gates: { auroc_min: { ood: 0 } } }));
    assert.equal(run(['score', '--config', 'oodlens.json', '--quiet'], w.dir).status, 0);
  } finally {
    w.cleanup();
  }
});

test('errors are one line without a stack trace; --help and --version answer', () => {
  const r = run(['score', '--model', 'missing.onnx', '--id', '/nonexistent-folder']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(run(['--help']).stdout, /ood-lens score/);
  assert.match(run(['--version']).stdout, /^ood-lens \d+\.\d+\.\d+/);
  assert.equal(run(['frobnicate']).status, 1);
});
