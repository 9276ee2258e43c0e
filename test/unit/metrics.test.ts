import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCI, keepCount, mulberry32, oodMetrics, OOD_METRIC_NAMES, rocPrCurves } from '../../src/engine/metrics/ood-metrics';
import { sortedWithoutNaN } from '../../src/engine/metrics/sort';
import { assertAllClose, assertClose, loadGolden } from '../helpers/golden';

interface OodCase {
  name: string;
  id: number[];
  ood: number[];
  roc_fpr?: number[];
  roc_tpr?: number[];
  [metric: string]: unknown;
}
const golden = loadGolden<{ cases: OodCase[] }>('ood-metrics');
const f64 = (a: number[]) => Float64Array.from(a);

test('ood metrics match sklearn/numpy golden cases within 1e-9', () => {
  for (const c of golden.cases) {
    const m = oodMetrics(f64(c.id), f64(c.ood));
    for (const k of ['n_id', 'n_ood', 'n_excluded_id', 'n_excluded_ood']) assert.equal(m[k as keyof typeof m], c[k], `${c.name} ${k}`);
    for (const k of OOD_METRIC_NAMES) assertClose(m[k], c[k] as number, 1e-9, `${c.name} ${k}`);
    assert.equal(typeof m.reason === 'string', m.n_id === 0 || m.n_ood === 0, `${c.name} reason`);
  }
});

test('exact ROC points equal sklearn roc_curve(drop_intermediate=False) when not downsampled', () => {
  for (const c of golden.cases) {
    if (!c.roc_fpr || !c.roc_tpr) continue;
    const curves = rocPrCurves(f64(c.id), f64(c.ood), 1e9);
    assertAllClose(curves.roc.fpr, c.roc_fpr, 1e-12, `${c.name} fpr`);
    assertAllClose(curves.roc.tpr, c.roc_tpr, 1e-12, `${c.name} tpr`);
    // AP is the step sum over the full PR curve.
    let ap = 0;
    for (let i = 1; i < curves.pr.recall.length; i++) ap += (curves.pr.recall[i] - curves.pr.recall[i - 1]) * curves.pr.precision[i];
    assertClose(ap, c.aupr_out as number, 1e-9, `${c.name} AP from curve`);
  }
});

test('hand-worked conventions: auroc ties count ½, swapping ID/OOD flips auroc, fpr95 keeps 95% of ID', () => {
  assert.equal(oodMetrics(f64([0, 1]), f64([1, 2])).auroc, 0.875);
  assert.equal(oodMetrics(f64([1, 2]), f64([0, 1])).auroc, 0.125);
  // ID = 1..20: k = ceil(0.95·20) = 19, t = 19; OOD accepted (≤ 19): 18.5 and 19 → 2 of 4.
  const id = f64(Array.from({ length: 20 }, (_, i) => i + 1));
  const m = oodMetrics(id, f64([18.5, 19, 19.5, 25]));
  assert.equal(m.fpr95_threshold, 19);
  assert.equal(m.fpr95, 0.5);
  // OOD-positive variant: every OOD flagged first at threshold 18.5, where ID 19 and 20 are flagged: 2/20.
  assert.equal(m.fpr95_ood_positive, 0.1);
  // Higher = more OOD: OOD scoring above ID must give auroc 1, aupr 1, fpr95 0.
  const sep = oodMetrics(f64([0, 0.1, 0.2]), f64([1, 2]));
  assert.deepEqual([sep.auroc, sep.aupr_out, sep.aupr_in, sep.fpr95, sep.detection_error], [1, 1, 1, 0, 0]);
  const eq = oodMetrics(f64([3, 3, 3]), f64([3, 3]));
  assert.equal(eq.auroc, 0.5);
  assert.equal(eq.fpr95, 1);
});

test('edge cases never throw and say why metrics are NaN', () => {
  const e = oodMetrics(new Float64Array(0), f64([1]));
  assert.ok(Number.isNaN(e.auroc) && e.reason === 'ID split has no scores (empty or all NaN)');
  const nan = oodMetrics(f64([NaN, NaN]), f64([NaN]));
  assert.equal(nan.n_excluded_id, 2);
  assert.equal(nan.n_excluded_ood, 1);
  assert.equal(nan.reason, 'ID and OOD splits have no scores (empty or all NaN)');
  const one = oodMetrics(f64([1]), f64([2]));
  assert.equal(one.auroc, 1);
  assert.equal(one.fpr95_threshold, 1);
  assert.equal(keepCount(20, 0.95), 19);
  assert.equal(keepCount(1, 0.95), 1);
  assert.equal(keepCount(101, 0.95), 96);
  for (let n = 1; n <= 100000; n++) assert.equal(keepCount(n, 0.95), Math.ceil((95 * n) / 100), `keepCount(${n})`);
});

test('downsampled curves keep ≤ maxPoints, both ends and the exact fpr95 point', () => {
  const rand = mulberry32(7);
  const id = new Float64Array(20000).map(() => rand());
  const ood = new Float64Array(15000).map(() => rand() + 0.3);
  const c = rocPrCurves(id, ood, 1000);
  const m = oodMetrics(id, ood);
  assert.ok(c.roc.fpr.length <= 1000 && c.pr.recall.length <= 1000);
  assert.deepEqual([c.roc.fpr[0], c.roc.tpr[0]], [0, 0]);
  assert.deepEqual([c.roc.fpr.at(-1), c.roc.tpr.at(-1)], [1, 1]);
  assertClose(c.fpr95Point.tpr, 1 - m.fpr95, 1e-12, "fpr95 point tpr");
  assert.equal(c.fpr95Point.fpr, 1000 / 20000); // 5% of ID lies above the threshold
  const k = c.roc.fpr.findIndex((x, i) => x === c.fpr95Point.fpr && c.roc.tpr[i] === c.fpr95Point.tpr);
  assert.ok(k > 0, 'fpr95 point is on the drawn ROC');
  for (let i = 1; i < c.roc.fpr.length; i++) assert.ok(c.roc.fpr[i] >= c.roc.fpr[i - 1] && c.roc.tpr[i] >= c.roc.tpr[i - 1]);
  assert.deepEqual([c.pr.recall[0], c.pr.precision[0], c.pr.recall.at(-1)], [0, 1, 1]);
});

test('radix sort equals the built-in sort (NaN dropped, ±0, ±Infinity, subnormals)', () => {
  const rand = mulberry32(3);
  const a = new Float64Array(100000).map(() => (rand() - 0.5) * Math.exp(60 * rand() - 30));
  a.set([NaN, -0, 0, Infinity, -Infinity, 5e-324, -5e-324, -NaN], 10);
  const s = sortedWithoutNaN(a);
  const ref = a.filter((x) => !Number.isNaN(x)).sort();
  assert.equal(s.length, a.length - 2);
  for (let i = 0; i < s.length; i++) assert.ok(Object.is(s[i], ref[i]), `index ${i}`);
  assert.ok(Number.isNaN(a[10]), 'input untouched');
});

test('bootstrap CI is seeded, brackets the point estimate and respects alpha', () => {
  const rand = mulberry32(11);
  const id = new Float64Array(400).map(() => rand());
  const ood = new Float64Array(300).map(() => rand() + 0.4);
  const m = oodMetrics(id, ood);
  const ci = bootstrapCI(id, ood, ['auroc', 'fpr95'], { seed: 5, resamples: 200 });
  assert.deepEqual(ci, bootstrapCI(id, ood, ['auroc', 'fpr95'], { seed: 5, resamples: 200 }));
  assert.notDeepEqual(ci, bootstrapCI(id, ood, ['auroc', 'fpr95'], { seed: 6, resamples: 200 }));
  for (const k of ['auroc', 'fpr95'] as const) assert.ok(ci[k].lo < m[k] && m[k] < ci[k].hi, k);
  const wide = bootstrapCI(id, ood, ['auroc'], { seed: 5, alpha: 0.01 });
  assert.ok(wide.auroc.lo <= ci.auroc.lo && wide.auroc.hi >= ci.auroc.hi);
});
