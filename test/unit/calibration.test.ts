import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binEdges, binIndex, calibrationMetrics } from '../../src/engine/metrics/calibration-metrics';
import { fitTemperature } from '../../src/engine/calibration/temperature';
import { fitLogisticRegression, fitMatrixScaling, fitVectorScaling } from '../../src/engine/calibration/scaling';
import { deploymentThreshold, flaggedFraction, minMaxScale, scaledEntropyThreshold } from '../../src/engine/metrics/threshold';
import { oodMetrics } from '../../src/engine/metrics/ood-metrics';
import { assertAllClose, assertClose, loadGolden } from '../helpers/golden';

const f32 = (rows: number[][]) => Float32Array.from(rows.flat());

interface CalCase {
  name: string;
  n: number;
  k: number;
  bins_count: number;
  logits: number[][];
  labels: number[];
  expected: Record<string, unknown> & { bins?: { lo: number; hi: number; count: number; accuracy: number | null; confidence: number | null }[] };
}
interface TempCase { name: string; n: number; k: number; logits: number[][]; labels: number[]; temperature: number; nllBefore: number; nllAfter: number }
const golden = loadGolden<{ cases: CalCase[]; temperature: TempCase[] }>('calibration');

test('calibration metrics match the numpy reference within 1e-9 (bins, exclusions, extremes)', () => {
  for (const c of golden.cases) {
    const m = calibrationMetrics(f32(c.logits), Int32Array.from(c.labels), c.n, c.k, { bins: c.bins_count });
    for (const key of ['n', 'n_unlabelled', 'n_invalid_label', 'n_nonfinite']) assert.equal(m[key as keyof typeof m], c.expected[key], `${c.name} ${key}`);
    for (const key of ['accuracy', 'ece', 'ece_em', 'mce', 'classwise_ece', 'brier', 'nll'] as const) {
      assertClose(m[key], c.expected[key] as number, 1e-9, `${c.name} ${key}`);
    }
    if (!c.expected.bins) continue;
    assert.equal(m.bins.length, c.bins_count);
    c.expected.bins.forEach((b, i) => {
      const got = m.bins[i];
      assert.equal(got.count, b.count, `${c.name} bin ${i} count`);
      assert.equal(got.lo, b.lo);
      assert.equal(got.hi, b.hi);
      if (b.accuracy === null) assert.equal(got.accuracy, null);
      else assertClose(got.accuracy!, b.accuracy, 1e-12, `${c.name} bin ${i} acc`);
      if (b.confidence === null) assert.equal(got.confidence, null);
      else assertClose(got.confidence!, b.confidence, 1e-12, `${c.name} bin ${i} conf`);
    });
  }
});

test('bins are (lo, hi]: an edge value goes to the lower bin, 0 to the first, 1 to the last', () => {
  const e = binEdges(15);
  assert.equal(binIndex(e, 0), 0);
  assert.equal(binIndex(e, e[1]), 0);
  assert.equal(binIndex(e, e[1] + 1e-12), 1);
  assert.equal(binIndex(e, 1), 14);
  // Two-class rows with confidence exactly 0.6 = edge 9/15: numpy.linspace gives 9 * (1/15) = 0.6000000000000001 > 0.6.
  assert.equal(binIndex(e, 0.6), 8);
});

test('hand-worked ECE/Brier/NLL on two samples', () => {
  // Row 0: p = (0.75, 0.25), label 0 (correct). Row 1: same probabilities, label 1 (wrong). Both in bin (0.733, 0.8].
  const z = Math.log(3);
  const m = calibrationMetrics(Float32Array.from([z, 0, z, 0]), Int32Array.from([0, 1]), 2, 2);
  assert.equal(m.accuracy, 0.5);
  assertClose(m.ece, Math.abs(0.5 - 0.75), 1e-7, 'ece'); // float32 ln 3
  assertClose(m.mce, 0.25, 1e-7, 'mce');
  assertClose(m.brier, (2 * 0.0625 + 2 * 0.5625) / 2, 1e-7, 'brier');
  assertClose(m.nll, (-Math.log(0.75) - Math.log(0.25)) / 2, 1e-7, 'nll');
  const none = calibrationMetrics(Float32Array.from([1, 2]), Int32Array.from([-1]), 1, 2);
  assert.ok(Number.isNaN(none.ece) && none.messages.some((s) => /unlabelled/.test(s)));
});

test('temperature matches scipy minimize_scalar on ln T within 1e-6 relative and lowers the NLL', () => {
  for (const c of golden.temperature) {
    const r = fitTemperature(f32(c.logits), Int32Array.from(c.labels), c.n, c.k);
    assertClose(r.temperature, c.temperature, 1e-6, `${c.name} T`);
    assertClose(r.nllBefore, c.nllBefore, 1e-9, `${c.name} nll before`);
    assertClose(r.nllAfter, c.nllAfter, 1e-9, `${c.name} nll after`);
    assert.ok(r.nllAfter <= c.nllAfter + 1e-12, `${c.name}: at least as good as scipy`);
    assert.ok(r.iterations < 50);
  }
  const over = golden.temperature.find((c) => c.name === 'overconfident')!;
  assert.ok(over.temperature > 1, 'overconfident logits need T > 1');
  assert.ok(golden.temperature.find((c) => c.name === 'underconfident')!.temperature < 1);
});

test('temperature edge cases: separable data hits the lower bound with a note; no labels → NaN', () => {
  const sep = fitTemperature(Float32Array.from([5, 0, 0, 5]), Int32Array.from([0, 1]), 2, 2);
  assert.equal(sep.temperature, 1e-3);
  assert.match(sep.note ?? '', /separable/);
  assert.ok(Number.isNaN(fitTemperature(Float32Array.from([1, 0]), Int32Array.from([-1]), 1, 2).temperature));
});

interface FitGolden { objective: number; W: number[][]; b: number[]; predictions: number[]; l2: number; labels: number[]; n: number; k: number }

test('logistic regression and matrix scaling reach scipy L-BFGS-B optimum of the same objective', () => {
  const g = loadGolden<{ logistic: FitGolden & { d: number; features: number[][] }; matrix: FitGolden & { logits: number[][] } }>('scaling');
  const lr = fitLogisticRegression(f32(g.logistic.features), Int32Array.from(g.logistic.labels), g.logistic.n, g.logistic.d, g.logistic.k, { l2: g.logistic.l2 });
  assert.ok(lr.converged);
  assertClose(lr.objective, g.logistic.objective, 1e-9, 'LR objective');
  assertAllClose(lr.weights, g.logistic.W.flat(), 1e-4, 'LR W');
  const out = lr.apply(f32(g.logistic.features), g.logistic.n);
  const argmax = (row: number) => {
    let best = 0;
    for (let c = 1; c < g.logistic.k; c++) if (out[row * g.logistic.k + c] > out[row * g.logistic.k + best]) best = c;
    return best;
  };
  assert.deepEqual(Array.from({ length: g.logistic.n }, (_, i) => argmax(i)), g.logistic.predictions);

  const ms = fitMatrixScaling(f32(g.matrix.logits), Int32Array.from(g.matrix.labels), g.matrix.n, g.matrix.k, { l2: g.matrix.l2 });
  assertClose(ms.objective, g.matrix.objective, 1e-9, 'matrix scaling objective');
  assertAllClose(ms.weights, g.matrix.W.flat(), 1e-4, 'matrix scaling W');
});

test('vector scaling with a huge λ returns the identity map; with λ small it beats the raw NLL', () => {
  const c = golden.temperature[0];
  const z = f32(c.logits);
  const y = Int32Array.from(c.labels);
  const stiff = fitVectorScaling(z, y, c.n, c.k, { l2: 1e6 });
  assertAllClose(stiff.weights, new Array(c.k).fill(1), 1e-4, 'identity scale');
  const vs = fitVectorScaling(z, y, c.n, c.k, { l2: 1e-6 });
  const after = calibrationMetrics(vs.apply(z, c.n), y, c.n, c.k).nll;
  assert.ok(after < c.nllAfter, 'vector scaling (2k params) at least matches temperature scaling on its fit set');
});

test('deployment threshold uses the fpr95 rule; flagged fraction is score > t; scaled entropy threshold', () => {
  const id = Float64Array.from({ length: 20 }, (_, i) => i + 1);
  const t = deploymentThreshold(id, 0.95);
  assert.equal(t, 19);
  assert.equal(t, oodMetrics(id, Float64Array.from([0])).fpr95_threshold);
  assert.equal(flaggedFraction(id, t), 0.05);
  assert.equal(flaggedFraction(Float64Array.from([1, NaN, 3]), 2), 0.5);
  const h = Float64Array.from([0.5, 1, 1.5, 2, 2.5]);
  const s = scaledEntropyThreshold(h, 0.6); // k = 3 → raw 1.5, scaled (1.5 − 0.5)/2 = 0.5
  assert.deepEqual(s, { scaled: 0.5, raw: 1.5, min: 0.5, max: 2.5 });
  assert.deepEqual(Array.from(minMaxScale(h, s.min, s.max)), [0, 0.25, 0.5, 0.75, 1]);
});
