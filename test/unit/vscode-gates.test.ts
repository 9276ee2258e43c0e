import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGates } from '../../src/engine/gates';
import { loadFixture } from '../helpers/report-fixture';

test('gates default to the ensemble and the energy score, one result per OOD split for a single bound', () => {
  const r = evaluateGates(loadFixture(), { auroc_min: 0.8 });
  assert.deepEqual(r.map((g) => [g.model, g.split, g.score, g.pointer]), [
    ['ensemble', 'ood_near', 'energy', '/gates/auroc_min'],
    ['ensemble', 'noise:20', 'energy', '/gates/auroc_min'],
  ]);
  assert.ok(r.every((g) => g.passed));
  assert.equal(r[0].actual, 0.87);
});

test('per-split bounds point at their own key; min and max compare in the right direction', () => {
  const [auroc, fpr] = evaluateGates(loadFixture(), { auroc_min: { ood_near: 0.9 }, fpr95_max: { 'noise:20': 0.01 } });
  assert.equal(auroc.pointer, '/gates/auroc_min/ood_near');
  assert.equal(auroc.passed, false);
  assert.match(auroc.message, /AUROC 0\.870 for ensemble on ood_near \(energy\) fails ≥ 0\.9/);
  assert.equal(fpr.pointer, '/gates/fpr95_max/noise:20');
  assert.deepEqual([fpr.actual, fpr.passed], [0, true]);
});

test('a gate that finds no row fails instead of passing silently', () => {
  const [missingSplit] = evaluateGates(loadFixture(), { auroc_min: { ood_far: 0.5 } });
  assert.equal(missingSplit.passed, false);
  assert.equal(missingSplit.actual, null);
  const [missingScore] = evaluateGates(loadFixture(), { score: 'mahalanobis', auroc_min: { ood_near: 0.5 } });
  assert.equal(missingScore.passed, false);
  const [unknown] = evaluateGates(loadFixture(), { auroc_minimum: 0.5 } as never);
  assert.equal(unknown.passed, false);
  assert.match(unknown.message, /Unknown gate "auroc_minimum"/);
  const [malformed] = evaluateGates(loadFixture(), { ece_max: 'low' } as never);
  assert.equal(malformed.passed, false);
});

test('calibration gates read the ID split before scaling, or after scaling on request', () => {
  const before = evaluateGates(loadFixture(), { ece_max: 0.05 });
  assert.deepEqual(before.map((g) => [g.split, g.actual, g.passed]), [['id', 0.067, false]]);
  const after = evaluateGates(loadFixture(), { ece_max: 0.05, calibration_stage: 'after' });
  assert.deepEqual(after.map((g) => [g.split, g.actual, g.passed]), [['id', 0.021, true]]);
});

test('"*" gates every model; a named model only that one; no ensemble means every model', () => {
  assert.equal(evaluateGates(loadFixture(), { model: '*', accuracy_min: 0.5 }).length, 3);
  assert.deepEqual(evaluateGates(loadFixture(), { model: 'convnet_b', accuracy_min: 0.5 }).map((g) => g.model), ['convnet_b']);
  const report = loadFixture();
  report.ood = report.ood.filter((o) => o.model !== 'ensemble');
  report.calibration = report.calibration.filter((o) => o.model !== 'ensemble');
  report.histograms = report.histograms.filter((o) => o.model !== 'ensemble');
  assert.deepEqual(evaluateGates(report, { auroc_min: { ood_near: 0.5 } }).map((g) => g.model), ['convnet_a', 'convnet_b']);
});

test('a partial report says so in every message', () => {
  const report = loadFixture();
  report.partial = true;
  assert.ok(evaluateGates(report, { auroc_min: 0.5 }).every((g) => g.message.includes('partial run')));
});
