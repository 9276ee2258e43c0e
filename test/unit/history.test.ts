import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { delta, formatDelta, formatHeadlineDelta, headlineDeltas, runMetrics } from '../../src/engine/history/metrics';
import { hashFile, historyContext, historyKey, keepRun, prune, readHistory } from '../../src/engine/history/store';
import type { HistoryEntry } from '../../src/engine/history/types';
import type { Report } from '../../src/engine/report/types';
import { headline } from '../../src/shared/headline';
import { tempDir } from '../helpers/fixtures';
import { loadFixture } from '../helpers/report-fixture';

const entry = (createdAt: string, key = 'k'): HistoryEntry =>
  ({ file: `run-${createdAt.replace(/[:.]/g, '-')}.json`, createdAt, key, origin: 'o', partial: false, models: [], metrics: { ood: [], calibration: [], gates: null } });

test('pruning keeps the newest N by creation time, whatever the order they were listed in', () => {
  const all = ['2026-01-03T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'].map((t) => entry(t));
  const { kept, removed } = prune(all, 2);
  assert.deepEqual(kept.map((e) => e.createdAt), ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
  assert.deepEqual(removed.map((e) => e.createdAt), ['2026-01-01T00:00:00.000Z']);
  assert.equal(prune(all, 0).kept.length, 0);
  assert.equal(prune(all, 10).kept.length, 3);
});

test('the previous run is the one just before, among runs of the same config or models', () => {
  const index = { version: 1 as const, entries: [entry('2026-01-01T00:00:00.000Z', 'a'), entry('2026-01-02T00:00:00.000Z', 'b'), entry('2026-01-03T00:00:00.000Z', 'a')] };
  const ctx = historyContext(index, '2026-01-03T00:00:00.000Z');
  assert.equal(ctx.previous?.createdAt, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(ctx.entries.map((e) => e.key), ['a', 'a']);
  assert.equal(historyContext(index, '2026-01-02T00:00:00.000Z').previous, undefined);
  assert.deepEqual(historyContext(index, 'not kept'), { entries: [] });
  assert.equal(historyKey('/w/oodlens.json', { models: [] }), `config:${path.resolve('/w/oodlens.json')}`);
  assert.equal(historyKey(undefined, { models: [{ path: '/m/b.onnx' }, { path: '/m/a.onnx' }] } as Report), 'models:/m/a.onnx|/m/b.onnx');
});

test('deltas know which direction is better for each metric, and hide changes below the shown precision', () => {
  assert.equal(delta('auroc', 0.91, 0.88)!.change, 'better');
  assert.equal(delta('fpr95', 0.30, 0.25)!.change, 'worse');
  assert.equal(delta('ece', 0.02, 0.05)!.change, 'better');
  assert.equal(delta('accuracy', 0.90, 0.92)!.change, 'worse');
  assert.equal(delta('gates', 3, 4)!.change, 'worse');
  assert.equal(delta('auroc', 0.9102, 0.9100)!.change, 'same');
  assert.equal(delta('auroc', 0.9, null), null);
  assert.equal(formatDelta(delta('auroc', 0.91, 0.88)!), '+0.030');
  assert.equal(formatDelta(delta('ece', 0.021, 0.025)!), '−0.004');
  assert.equal(formatDelta(delta('auroc', 0.9102, 0.91)!), '±0.000');
  assert.equal(formatDelta(delta('gates', 4, 3)!), '+1');
});

function changed(report: Report): Report {
  const r = structuredClone(report);
  r.createdAt = '2026-11-23T08:40:00.000Z';
  for (const row of r.ood) if (row.model === 'ensemble' && row.score === 'energy') row.auroc -= 0.05;
  for (const row of r.calibration) row.ece += 0.01;
  return r;
}

test('headline numbers with their change: AUROC per OOD split, ECE and accuracy on ID, gates; status-bar line', () => {
  const before = loadFixture();
  const after = changed(before);
  const prev = runMetrics(before, [{ passed: true }, { passed: true }] as never);
  const now = runMetrics(after, [{ passed: true }, { passed: false }] as never);
  const d = headlineDeltas(now, prev, 'ensemble', 'energy', 'id');
  assert.deepEqual(d.auroc.map((a) => [a.split, a.delta?.change, formatDelta(a.delta!)]), [['ood_near', 'worse', '−0.050'], ['noise:20', 'worse', '−0.050']]);
  assert.deepEqual([d.ece?.split, d.ece?.delta?.change, formatDelta(d.ece!.delta!)], ['id', 'worse', '+0.010']);
  assert.equal(d.accuracy?.delta?.change, 'same');
  assert.deepEqual([d.gates?.passed, d.gates?.total, d.gates?.delta?.change], [1, 2, 'worse']);
  assert.equal(headlineDeltas(now, undefined, 'ensemble', 'energy').auroc[0].delta, null);
  const h = headline(after)!;
  assert.equal(formatHeadlineDelta(h, prev), `AUROC ${h.auroc!.value.toFixed(3)} (−0.050) · ECE ${h.ece!.value.toFixed(3)} (+0.010)`);
  assert.equal(formatHeadlineDelta(h, undefined), `AUROC ${h.auroc!.value.toFixed(3)} · ECE ${h.ece!.value.toFixed(3)}`);
});

test('keeping runs: a copy per run beside latest.json, the index with model hashes, the oldest pruned past N', async () => {
  const t = tempDir();
  try {
    const model = path.join(t.dir, 'm.onnx');
    writeFileSync(model, 'weights v1');
    const first = loadFixture();
    first.models = first.models.map((m) => ({ ...m, path: model }));
    const run = { key: 'config:/w/oodlens.json', origin: 'oodlens.json', gates: [], keep: 2 };
    const c1 = await keepRun(t.dir, first, run);
    assert.equal(c1.previous, undefined);
    assert.equal(c1.current?.models[0].sha256, createHash('sha256').update('weights v1').digest('hex'));
    writeFileSync(model, 'weights v2');
    const second = changed(first);
    const c2 = await keepRun(t.dir, second, run);
    assert.equal(c2.previous?.createdAt, first.createdAt);
    assert.notEqual(c2.current?.models[0].sha256, c2.previous?.models[0].sha256);
    const copy = JSON.parse(readFileSync(path.join(t.dir, c2.current!.file), 'utf8')) as Report;
    assert.equal(copy.createdAt, second.createdAt);
    assert.equal(copy.samples.length, second.samples.length);
    const third = { ...changed(first), createdAt: '2026-11-24T08:40:00.000Z' };
    await keepRun(t.dir, third, run);
    const index = await readHistory(t.dir);
    assert.deepEqual(index.entries.map((e) => e.createdAt), [second.createdAt, third.createdAt]);
    assert.deepEqual(readdirSync(t.dir).filter((f) => f.startsWith('run-')).sort(), index.entries.map((e) => e.file).sort(), 'the pruned copy is deleted');
    assert.ok(!readdirSync(t.dir).some((f) => f.endsWith('.tmp')), 'no temporary file left');
    // keep = 0 keeps nothing and empties the history.
    await keepRun(t.dir, { ...third, createdAt: '2026-11-25T08:40:00.000Z' }, { ...run, keep: 0 });
    assert.deepEqual((await readHistory(t.dir)).entries, []);
    assert.ok(!readdirSync(t.dir).some((f) => f.startsWith('run-')));
  } finally {
    t.cleanup();
  }
});

test('a damaged index starts a new history and its orphaned copies are removed; unreadable models hash to null', async () => {
  const t = tempDir();
  try {
    writeFileSync(path.join(t.dir, 'history.json'), '{ not json');
    writeFileSync(path.join(t.dir, 'run-2020-01-01T00-00-00-000Z.json'), '{}');
    writeFileSync(path.join(t.dir, 'latest.json'), '{}');
    assert.deepEqual((await readHistory(t.dir)).entries, []);
    const ctx = await keepRun(t.dir, loadFixture(), { key: 'k', origin: 'o', gates: [], keep: 5 });
    assert.equal(ctx.entries.length, 1);
    assert.ok(!existsSync(path.join(t.dir, 'run-2020-01-01T00-00-00-000Z.json')));
    assert.ok(existsSync(path.join(t.dir, 'latest.json')), 'latest.json is not the history\'s to delete');
    assert.equal(await hashFile(path.join(t.dir, 'missing.onnx')), null);
    assert.equal(await hashFile(t.dir), null);
  } finally {
    t.cleanup();
  }
});
