import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oodMetrics } from '../../src/engine/metrics/ood-metrics';
import { operatingPoint, POOLED_OOD, thresholdForFpr, withConfiguredThresholds } from '../../src/engine/operating-point';
import type { Report, SampleRow, SplitInfo } from '../../src/engine/report/types';
import { loadFixture } from '../helpers/report-fixture';

const split = (name: string, role: SplitInfo['role']): SplitInfo => ({ name, role, source: name, count: 0, skipped: [], classes: [] });
const rows = (name: string, values: (number | null)[]): SampleRow[] =>
  values.map((v, i) => ({ path: `${name}/${i}.png`, split: name, label: null, prediction: { m: 0 }, scores: { m: { energy: v } } }));

/** ID 0.1…0.5 (and one non-finite score), near OOD 0.35…0.8, far OOD 0.05 and 0.9. */
function small(): Pick<Report, 'samples' | 'splits'> {
  return {
    splits: [split('id', 'id'), split('near', 'ood'), split('far', 'ood')],
    samples: [...rows('id', [0.1, 0.2, 0.3, 0.4, 0.5, null]), ...rows('near', [0.35, 0.6, 0.7, 0.8]), ...rows('far', [0.05, 0.9])],
  };
}

test('operating point: flagged fractions, confusion counts, TPR/FPR and precision by hand (OOD positive, score > t)', () => {
  const p = operatingPoint(small(), 'm', 'energy', 0.3);
  assert.deepEqual(p.splits.map((s) => [s.split, s.n, s.flagged, s.fraction]), [['id', 5, 2, 0.4], ['near', 4, 4, 1], ['far', 2, 1, 0.5]]);
  const [near, far, pooled] = p.confusion;
  assert.deepEqual({ ...near }, { idSplit: 'id', oodSplit: 'near', tp: 4, fp: 2, tn: 3, fn: 0, tpr: 1, fpr: 0.4, precision: 4 / 6 });
  assert.deepEqual([far.tp, far.fn, far.tpr, far.precision], [1, 1, 0.5, 1 / 3]);
  assert.equal(pooled.oodSplit, POOLED_OOD);
  assert.deepEqual([pooled.tp, pooled.fn, pooled.fp, pooled.tn, pooled.tpr, pooled.precision], [5, 1, 2, 3, 5 / 6, 5 / 7]);
});

test('a score equal to the threshold is kept, not flagged; nothing flagged gives precision NaN', () => {
  const p = operatingPoint(small(), 'm', 'energy', 0.5);
  assert.equal(p.splits[0].flagged, 0);
  const top = operatingPoint(small(), 'm', 'energy', 10);
  assert.ok(Number.isNaN(top.confusion[0].precision));
  assert.deepEqual([top.confusion[0].tpr, top.confusion[0].fpr], [0, 0]);
});

test('a click on the ROC curve at FPR f gives the threshold keeping 1 − f of ID (the deployment rule)', () => {
  const r = small();
  assert.equal(thresholdForFpr(r, 'm', 'energy', 0.4), 0.3);
  assert.equal(operatingPoint(r, 'm', 'energy', thresholdForFpr(r, 'm', 'energy', 0.4)).confusion[0].fpr, 0.4);
  assert.equal(thresholdForFpr(r, 'm', 'energy', 0), 0.5);
  assert.ok(Number.isNaN(thresholdForFpr(r, 'm', 'missing', 0.1)));
});

test('at the engine\'s fpr95 threshold the operating point\'s TPR is 1 − fpr95 (same conventions as the metrics)', () => {
  let seed = 3;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const id = Array.from({ length: 200 }, () => Math.round(rand() * 50) / 10);
  const ood = Array.from({ length: 150 }, () => Math.round((rand() * 50 + 15) / 10 * 10) / 10);
  const m = oodMetrics(Float64Array.from(id), Float64Array.from(ood));
  const p = operatingPoint({ splits: [split('id', 'id'), split('ood', 'ood')], samples: [...rows('id', id), ...rows('ood', ood)] }, 'm', 'energy', m.fpr95_threshold);
  assert.ok(Math.abs(p.confusion[0].tpr - (1 - m.fpr95)) < 1e-12, `${p.confusion[0].tpr} vs 1 − ${m.fpr95}`);
  assert.ok(p.confusion[0].fpr <= 0.05);
});

test('configured thresholds replace the keepFraction rows from the samples, and say so', () => {
  const report = loadFixture();
  const out = withConfiguredThresholds(report, [{ model: 'convnet_a', score: 'energy', threshold: 0.5 }]);
  const row = out.thresholds.find((t) => t.model === 'convnet_a' && t.score === 'energy')!;
  const point = operatingPoint(report, 'convnet_a', 'energy', 0.5);
  assert.equal(row.source, 'config');
  assert.equal(row.threshold, 0.5);
  for (const s of point.splits) assert.equal(row.flagged[s.split], s.fraction, s.split);
  assert.equal(row.keepFraction, 1 - row.flagged[row.fittedOn]);
  assert.equal(out.histograms.find((h) => h.model === 'convnet_a' && h.score === 'energy')!.threshold, 0.5);
  assert.deepEqual(out.thresholds.filter((t) => t !== row), report.thresholds.filter((t) => !(t.model === 'convnet_a' && t.score === 'energy')));
  // Without per-sample scores nothing can be recomputed: the report stays as it is.
  const bare = { ...report, samples: [] };
  assert.equal(withConfiguredThresholds(bare, [{ model: 'convnet_a', score: 'energy', threshold: 0.5 }]), bare);
});
