// smECE, the smooth reliability curve, debiased and top-label ECE against the float64 numpy reference of
// scripts/trust_golden/calibration_estimates.py (test/fixtures/trust/calibration_estimates.json, itself checked against
// relplot 1.0.3 and verified_calibration at generation time); the seeded bands for determinism and coverage.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { calibrationMetrics } from '../../src/engine/metrics/calibration-metrics';
import { debiasedEce } from '../../src/engine/metrics/binned-estimators';
import { consistencyBands } from '../../src/engine/metrics/consistency';
import { mulberry32 } from '../../src/engine/metrics/ood-metrics';
import { smece, smeceFromLogits } from '../../src/engine/metrics/smece';
import { smoothReliability } from '../../src/engine/metrics/smooth-reliability';
import { runScore } from '../../src/engine/run';

interface Expected { smece: number; smece_bandwidth: number; curve: number[]; ece_debiased: number; ece_toplabel?: number }
interface GoldenCase { name: string; k?: number; logits_x32?: number[]; labels?: number[]; confidence?: number[]; correct?: number[]; expected: Expected }
const golden: { cases: GoldenCase[] } = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'trust', 'calibration_estimates.json'), 'utf8'),
);

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= Math.max(1e-12, 1e-9 * Math.abs(expected)), `${what}: ${actual} vs golden ${expected}`);
}

test('every golden value matches the numpy reference (1e-9 relative, 1e-12 absolute; σ exactly)', () => {
  assert.ok(golden.cases.length >= 13);
  for (const c of golden.cases) {
    const e = c.expected;
    let conf: Float64Array;
    let correct: Uint8Array | Float64Array;
    if (c.logits_x32) {
      const k = c.k!;
      const logits = Float32Array.from(c.logits_x32, (v) => v / 32);
      const labels = Int32Array.from(c.labels!);
      const m = calibrationMetrics(logits, labels, labels.length, k);
      close(m.smece, e.smece, `${c.name}.smece`);
      assert.equal(m.smece_bandwidth, e.smece_bandwidth, `${c.name}.smece_bandwidth`);
      close(m.ece_debiased, e.ece_debiased, `${c.name}.ece_debiased`);
      close(m.ece_toplabel, e.ece_toplabel!, `${c.name}.ece_toplabel`);
      assert.ok(m.ece_toplabel >= m.ece - 1e-15, `${c.name}: top-label ECE splits every ECE bin, so it is ≥ ECE`);
      assert.deepEqual(smeceFromLogits(logits, labels, labels.length, k), { smece: m.smece, sigma: m.smece_bandwidth });
      conf = m.confidences;
      correct = m.correct;
    } else {
      conf = Float64Array.from(c.confidence!);
      correct = Float64Array.from(c.correct!);
      const s = smece(conf, correct);
      close(s.smece, e.smece, `${c.name}.smece`);
      assert.equal(s.sigma, e.smece_bandwidth, `${c.name}.sigma`);
      close(debiasedEce(conf, correct), e.ece_debiased, `${c.name}.ece_debiased`);
    }
    const curve = smoothReliability(conf, correct, e.smece_bandwidth, { resamples: 0 });
    assert.equal(curve.x.length, 200);
    curve.accuracy.forEach((v, i) => close(v, e.curve[i], `${c.name}.curve[${i}]`));
  }
});

test('the estimates do not depend on sample order; no samples give NaN', () => {
  const c = golden.cases.find((x) => x.name === 'grid_ties_and_ones')!;
  const conf = Float64Array.from(c.confidence!);
  const y = Float64Array.from(c.correct!);
  const idx = Array.from(conf, (_, i) => i).reverse();
  const rc = Float64Array.from(idx, (i) => conf[i]);
  const ry = Float64Array.from(idx, (i) => y[i]);
  close(debiasedEce(rc, ry), debiasedEce(conf, y), 'reversed ece_debiased');
  close(smece(rc, ry).smece, smece(conf, y).smece, 'reversed smece');
  assert.deepEqual(smece(new Float64Array(0), new Uint8Array(0)), { smece: NaN, sigma: NaN });
  assert.ok(Number.isNaN(debiasedEce(new Float64Array(0), new Uint8Array(0))));
});

/** n samples of a perfectly calibrated model: y ~ Bernoulli(conf), conf spread over [0.2, 1]. */
function calibrated(n: number, seed: number): { conf: Float64Array; y: Uint8Array } {
  const rand = mulberry32(seed);
  const conf = Float64Array.from({ length: n }, () => 0.2 + 0.8 * rand());
  return { conf, y: Uint8Array.from(conf, (c) => (rand() < c ? 1 : 0)) };
}

test('consistency bands: seeded, and they hold a calibrated model\'s bars about 90% of the time (5–95%)', (t) => {
  let inside = 0;
  let total = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const { conf, y } = calibrated(1000, seed);
    const bin = Int32Array.from(conf, (c) => Math.min(14, Math.max(0, Math.ceil(c * 15) - 1)));
    const bands = consistencyBands(conf, bin, 15, { resamples: 400, seed });
    assert.deepEqual(consistencyBands(conf, bin, 15, { resamples: 400, seed }), bands, 'same seed, same bands');
    for (let b = 0; b < 15; b++) {
      let cnt = 0;
      let hits = 0;
      for (let i = 0; i < conf.length; i++) if (bin[i] === b) { cnt++; hits += y[i]; }
      if (!cnt) { assert.equal(bands[b], null, 'an empty bin has no band'); continue; }
      total++;
      if (hits / cnt >= bands[b]!.lo && hits / cnt <= bands[b]!.hi) inside++;
    }
  }
  const rate = inside / total;
  t.diagnostic(`calibrated bars inside their consistency band: ${inside}/${total} = ${rate.toFixed(3)}`);
  assert.ok(rate > 0.85 && rate < 0.98, `calibrated bars inside their band: ${rate} (${total} bins)`);
  const { conf } = calibrated(500, 99);
  const bin = Int32Array.from(conf, (c) => Math.min(14, Math.ceil(c * 15) - 1));
  assert.notDeepEqual(consistencyBands(conf, bin, 15, { seed: 1 }), consistencyBands(conf, bin, 15, { seed: 2 }));
});

test('smooth curve band: seeded, brackets the curve, and holds the diagonal of a calibrated model where data is dense', (t) => {
  let inside = 0;
  let total = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const { conf, y } = calibrated(800, 100 + seed);
    const { sigma } = smece(conf, y);
    const s = smoothReliability(conf, y, sigma, { seed });
    if (seed === 1) assert.deepEqual(smoothReliability(conf, y, sigma, { seed }), s);
    assert.equal(s.resamples, 100);
    s.x.forEach((x, i) => {
      assert.ok(s.lower[i] <= s.upper[i]);
      if (x < 0.3 || x > 0.9) return;
      total++;
      if (x >= s.lower[i] && x <= s.upper[i]) inside++;
    });
  }
  t.diagnostic(`diagonal inside the smooth band at ${inside}/${total} mesh points in [0.3, 0.9]`);
  assert.ok(inside / total > 0.8, `diagonal inside the 95% band at ${inside}/${total} mesh points`);
});

test('a run reports smECE, debiased and top-label ECE, bands and the smooth curve, before and after temperature', async () => {
  const DEMO = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo');
  const r = await runScore({
    models: [path.join(DEMO, 'models', 'ce_seed0.onnx')], id: path.join(DEMO, 'data', 'id_test'), calib: path.join(DEMO, 'data', 'id_calib'),
    ood: [path.join(DEMO, 'data', 'ood_heldout')], scores: ['msp'],
  });
  const row = r.calibration[0];
  const rows = r.samples.filter((s) => s.split === row.split && s.label !== null);
  const conf = Float64Array.from(rows, (s) => -(s.scores.ce_seed0.msp as number));
  const correct = Uint8Array.from(rows, (s) => (s.prediction.ce_seed0 === s.label ? 1 : 0));
  const expected = smece(conf, correct);
  close(row.smece, expected.smece, 'row smece from the samples\' msp');
  assert.equal(row.smece_bandwidth, expected.sigma);
  close(row.ece_debiased, debiasedEce(conf, correct), 'row ece_debiased');
  assert.ok(row.ece_toplabel >= row.ece - 1e-15);
  for (const part of [row, row.scaled as typeof row]) {
    assert.ok(Number.isFinite(part.smece) && Number.isFinite(part.ece_debiased) && Number.isFinite(part.ece_toplabel));
    for (const b of part.bins) {
      if (b.count === 0) assert.equal(b.consistency_lo, null);
      else assert.ok(b.consistency_lo! <= b.consistency_hi! && b.consistency_lo! >= 0 && b.consistency_hi! <= 1);
    }
    assert.equal(part.smooth.x.length, 200);
    assert.equal(part.smooth.lower.length, 200);
  }
});
