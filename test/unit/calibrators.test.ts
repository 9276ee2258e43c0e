import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CalibratorParameters } from '../../src/engine/report/types';
import { calibratedLogits, topLabelConfidence } from '../../src/engine/calibration/apply';
import { fitDirichletOdir, ODIR_LAMBDA, ODIR_MU } from '../../src/engine/calibration/dirichlet';
import { fitEnsembleTemperature } from '../../src/engine/calibration/ensemble-temperature';
import { applyHistogramBinning, fitHistogramBinning } from '../../src/engine/calibration/histogram-binning';
import { applyIsotonic, fitIsotonic } from '../../src/engine/calibration/isotonic';
import { fitTemperature } from '../../src/engine/calibration/temperature';
import { topLabelMetrics, spreadTopLabel } from '../../src/engine/calibration/top-label';
import { topLabel } from '../../src/engine/metrics/smece';
import { softmaxInto } from '../../src/engine/util/rows';
import { assertAllClose, assertClose, repoRoot } from '../helpers/golden';

interface Split { logits: number[]; labels: number[] }
interface TopLabelGolden { id_confidence: number[]; metrics: Record<string, number> }
interface Case {
  name: string; k: number; calib: Split; id: Split; temperature: number;
  histogram: TopLabelGolden & { edges: number[]; values: number[] };
  isotonic: TopLabelGolden & { x: number[]; y: number[] };
  dirichlet: { lambda: number; mu: number; W: number[][]; b: number[]; objective: number; id_probs: number[] };
  ets: { temperature: number; weights: number[]; objective: number; id_probs: number[] };
}
// Written by scripts/trust_golden/calibrators.py (float64 numpy / scipy / sklearn).
const golden: { cases: Case[] } = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'trust', 'calibrators.json'), 'utf8'));

/** The labelled rows of a split, float32 logits (unlabelled rows are what every fit skips). */
function labelled(s: Split, k: number): { logits: Float32Array; labels: Int32Array; n: number } {
  const rows = s.labels.flatMap((y, i) => (y >= 0 ? [i] : []));
  return {
    logits: Float32Array.from(rows.flatMap((i) => s.logits.slice(i * k, (i + 1) * k))),
    labels: Int32Array.from(rows, (i) => s.labels[i]),
    n: rows.length,
  };
}

const probsOf = (logits: Float32Array, k: number) => {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length / k; i++) softmaxInto(logits, i * k, k, out, i * k);
  return out;
};

const METRIC_KEYS = ['accuracy', 'ece', 'ece_em', 'mce', 'classwise_ece', 'nll', 'brier'] as const;

test('histogram binning and isotonic regression match numpy / sklearn within 1e-9 (fit, predictions, metrics)', () => {
  for (const c of golden.cases) {
    const cal = labelled(c.calib, c.k), id = labelled(c.id, c.k);
    const { conf, correct } = topLabel(cal.logits, cal.labels, cal.n, c.k);
    const hist = fitHistogramBinning(conf, correct);
    assertAllClose(hist.edges, c.histogram.edges, 1e-12, `${c.name} histogram edges`);
    assertAllClose(hist.values, c.histogram.values, 1e-12, `${c.name} histogram values`);
    const iso = fitIsotonic(conf, correct);
    assertAllClose(iso.x, c.isotonic.x, 1e-12, `${c.name} isotonic x`);
    assertAllClose(iso.y, c.isotonic.y, 1e-12, `${c.name} isotonic y`);
    for (const [name, map, g] of [['histogram', (v: number) => applyHistogramBinning(hist, v), c.histogram], ['isotonic', (v: number) => applyIsotonic(iso, v), c.isotonic]] as const) {
      const params: CalibratorParameters = name === 'histogram' ? { kind: 'histogram', ...hist } : { kind: 'isotonic', ...iso };
      assertAllClose(topLabelConfidence(params, id.logits, id.n, c.k), g.id_confidence, 1e-9, `${c.name} ${name} g(c)`);
      const m = topLabelMetrics(id.logits, id.labels, id.n, c.k, map, 15);
      assert.equal(m.n, id.n);
      for (const key of METRIC_KEYS) assertClose(m[key], g.metrics[key], 1e-9, `${c.name} ${name} ${key}`);
      assert.ok(Number.isFinite(m.smece) && Number.isFinite(m.ece_debiased), `${c.name} ${name} smECE and debiased ECE are filled in`);
    }
  }
});

// Where the optimum is unique the parameters agree to ~6e-8 (the L-BFGS stops at |∇| ≤ 1e-9 or when f stalls in
// float64; scipy's Newton steps go on to |∇| ≈ 1e-13). With a class absent from the calibration split there is no
// minimizer (that class's diagonal weight is free and the NLL keeps falling as its probability goes to 0): only the
// objective is compared.
test('Dirichlet ODIR: the L-BFGS optimum matches scipy trust-exact (objective 1e-9 relative, parameters 1e-6)', () => {
  assert.equal(ODIR_LAMBDA, golden.cases[0].dirichlet.lambda);
  assert.equal(ODIR_MU, golden.cases[0].dirichlet.mu);
  let compared = 0;
  for (const c of golden.cases) {
    const cal = labelled(c.calib, c.k), id = labelled(c.id, c.k);
    const fit = fitDirichletOdir(cal.logits, cal.labels, cal.n, c.k);
    assert.ok(fit.converged, `${c.name} converged`);
    assertClose(fit.objective, c.dirichlet.objective, 1e-9, `${c.name} objective`);
    const everyClass = Array.from({ length: c.k }, (_, y) => cal.labels.includes(y)).every(Boolean);
    if (everyClass) {
      assertAllClose(fit.W, c.dirichlet.W.flat(), 1e-6, `${c.name} W`);
      assertAllClose(fit.b, c.dirichlet.b, 1e-6, `${c.name} b`);
      compared++;
    }
    // Applied from the golden's own parameters, the engine's map equals numpy's up to float32 logits.
    const params: CalibratorParameters = { kind: 'dirichlet', W: c.dirichlet.W, b: c.dirichlet.b };
    assertAllClose(probsOf(calibratedLogits(params, id.logits, id.n, c.k), c.k), c.dirichlet.id_probs, 1e-6, `${c.name} Dirichlet probabilities`);
  }
  assert.ok(compared >= 2, `parameters compared on ${compared} cases`);
});

test('ensemble temperature scaling: T and simplex weights match scipy (objective 1e-9 relative, weights 1e-6)', () => {
  for (const c of golden.cases) {
    const cal = labelled(c.calib, c.k), id = labelled(c.id, c.k);
    const T = fitTemperature(cal.logits, cal.labels, cal.n, c.k).temperature;
    assertClose(T, c.temperature, 1e-9, `${c.name} T`);
    const fit = fitEnsembleTemperature(cal.logits, cal.labels, cal.n, c.k, T);
    assertClose(fit.objective, c.ets.objective, 1e-9, `${c.name} objective`);
    assertAllClose(fit.weights, c.ets.weights, 1e-6, `${c.name} weights`);
    assertClose(fit.weights[0] + fit.weights[1] + fit.weights[2], 1, 1e-15, `${c.name} weights sum`);
    const params: CalibratorParameters = { kind: 'ensemble_temperature', temperature: c.temperature, weights: c.ets.weights as [number, number, number], classes: c.k };
    assertAllClose(probsOf(calibratedLogits(params, id.logits, id.n, c.k), c.k), c.ets.id_probs, 1e-6, `${c.name} ETS probabilities`);
  }
});

test('histogram bins: ties never straddle an edge, an emptied bin joins the next, fewer samples than bins', () => {
  // Six tied confidences in a 3-bin split of 9: chunks [a a a][a a a][b c d] give edges a, (a+b)/2, 1 → bin 1 empty.
  const conf = Float64Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.7, 0.8, 0.9]);
  const h = fitHistogramBinning(conf, [1, 0, 1, 0, 1, 0, 1, 1, 0], 3);
  assert.deepEqual(h.edges, [0.5, 1]);
  assert.deepEqual(h.values, [0.5, 2 / 3]);
  assert.equal(applyHistogramBinning(h, 0.5), 0.5, 'an edge value takes the lower bin');
  assert.equal(applyHistogramBinning(h, 0.6), 2 / 3);
  assert.deepEqual(fitHistogramBinning(Float64Array.from([0.9, 0.4]), [1, 0]).edges, [0.65, 1]);
});

test('isotonic: tied x pooled to their mean, out-of-range inputs clipped, a single breakpoint is constant', () => {
  const f = fitIsotonic(Float64Array.from([0.6, 0.6, 0.7, 0.9, 0.8]), [1, 0, 0, 1, 1]);
  // (0.6: mean 0.5, weight 2) and 0.7: 0 violate, pooled to 1/3; then 0.8 → 1, 0.9 → 1.
  assert.deepEqual(f.x, [0.6, 0.7, 0.8, 0.9]);
  assertAllClose(f.y, [1 / 3, 1 / 3, 1, 1], 1e-15, 'pooled values');
  assert.equal(applyIsotonic(f, 0.1), 1 / 3);
  assert.equal(applyIsotonic(f, 1), 1);
  assertClose(applyIsotonic(f, 0.75), 2 / 3, 1e-15, 'interpolated');
  assert.deepEqual(fitIsotonic(Float64Array.from([0.7, 0.7]), [1, 0]), { x: [0.7], y: [0.5] });
  assert.equal(applyIsotonic({ x: [0.7], y: [0.5] }, 0.2), 0.5);
});

test('the top-label spread keeps the prediction and the odds among the other classes, even when c rounds to 1', () => {
  const q = new Float64Array(3);
  spreadTopLabel(Float32Array.from([2, 1, 0]), 0, 3, 0, 0.9, q);
  const e = Math.E;
  assertAllClose(q, [0.9, (0.1 * e) / (e + 1), 0.1 / (e + 1)], 1e-15, 'proportional spread');
  spreadTopLabel(Float32Array.from([60, 1, 0]), 0, 3, 0, 0.99, q);
  assertAllClose(q, [0.99, (0.01 * e) / (e + 1), 0.01 / (e + 1)], 1e-15, 'p_top = 1 in float64');
  // g below the runner-up's share: the prediction (and accuracy) stay those of the model.
  const m = topLabelMetrics(Float32Array.from([1, 0.9, 0]), Int32Array.of(0), 1, 3, () => 0.2, 15);
  assert.equal(m.accuracy, 1);
  assertClose(m.nll, -Math.log(0.2), 1e-15, 'NLL of the kept prediction');
  const zero = topLabelMetrics(Float32Array.from([3, 0, 0]), Int32Array.of(1), 1, 3, () => 1, 15);
  assertClose(zero.nll, -Math.log(1e-15), 1e-12, 'q_y = 0 is clipped at 1e-15');
});
