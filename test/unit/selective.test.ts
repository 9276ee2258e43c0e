// Selective prediction metrics against the float64 numpy reference of scripts/trust_golden/selective.py
// (test/fixtures/trust/selective.json), plus order independence, non-finite exclusion and hand-computed cases.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { coverageAtRisk, riskCoverageCurve, selectiveMetrics, type SelectiveMetrics } from '../../src/engine/metrics/selective';

interface GoldenCase {
  name: string;
  confidence: number[];
  correct: number[];
  expected: SelectiveMetrics & { coverage_at_risk: number[]; curve: { coverage: number[]; risk: number[]; threshold: number[] } };
}
const golden: { max_risks: number[]; cases: GoldenCase[] } = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'trust', 'selective.json'), 'utf8'),
);
const inputs = (c: GoldenCase) => ({ conf: Float64Array.from(c.confidence), ok: Uint8Array.from(c.correct) });
const METRICS = ['n', 'error_rate', 'aurc', 'eaurc', 'augrc', 'risk_at_95_coverage'] as const;

let maxAbs = 0;
let maxRel = 0;
function close(actual: number, expected: number, what: string): void {
  const err = Math.abs(actual - expected);
  maxAbs = Math.max(maxAbs, err);
  if (expected !== 0) maxRel = Math.max(maxRel, err / Math.abs(expected));
  assert.ok(err <= Math.max(1e-12, 1e-9 * Math.abs(expected)), `${what}: ${actual} vs golden ${expected}`);
}

/** Everything the module returns for one input, for exact comparisons. */
function everything(conf: Float64Array, ok: Uint8Array) {
  return { metrics: selectiveMetrics(conf, ok), curve: riskCoverageCurve(conf, ok), cov: golden.max_risks.map((m) => coverageAtRisk(conf, ok, m)) };
}

/** Deterministic Fisher–Yates (mulberry32) so a failure reproduces. */
function shuffled(conf: Float64Array, ok: Uint8Array, seed: number): { conf: Float64Array; ok: Uint8Array } {
  const idx = Array.from(conf, (_, i) => i);
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return { conf: Float64Array.from(idx, (i) => conf[i]), ok: Uint8Array.from(idx, (i) => ok[i]) };
}

test('every golden value matches the numpy reference (1e-9 relative, 1e-12 absolute)', () => {
  assert.ok(golden.cases.length >= 9);
  for (const c of golden.cases) {
    const { conf, ok } = inputs(c);
    const got = everything(conf, ok);
    for (const k of METRICS) close(got.metrics[k], c.expected[k], `${c.name}.${k}`);
    golden.max_risks.forEach((m, i) => close(got.cov[i], c.expected.coverage_at_risk[i], `${c.name}.coverageAtRisk(${m})`));
    for (const key of ['coverage', 'risk', 'threshold'] as const) {
      assert.equal(got.curve[key].length, c.expected.curve[key].length, `${c.name}.curve.${key} length`);
      got.curve[key].forEach((v, i) => close(v, c.expected.curve[key][i], `${c.name}.curve.${key}[${i}]`));
    }
  }
  console.log(`selective golden: max abs error ${maxAbs.toExponential(2)}, max rel error ${maxRel.toExponential(2)}`);
});

test('a shuffled input gives identical numbers; non-finite confidences are left out', () => {
  for (const c of golden.cases) {
    const { conf, ok } = inputs(c);
    const base = everything(conf, ok);
    for (const seed of [1, 2, 3]) {
      const s = shuffled(conf, ok, seed);
      assert.deepStrictEqual(everything(s.conf, s.ok), base, `${c.name} shuffled (seed ${seed})`);
    }
    const withBad = shuffled(Float64Array.from([...conf, NaN, Infinity, -Infinity, NaN]), Uint8Array.from([...ok, 0, 1, 0, 1]), 7);
    assert.deepStrictEqual(everything(withBad.conf, withBad.ok), base, `${c.name} with non-finite confidences`);
  }
});

test('order independence also holds on the radix-sort path (n ≥ 32768), with heavy ties and signed zeros', () => {
  const n = 40000;
  const conf = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? (i % 2 ? -0 : 0) : Math.round(Math.sin(i) * 1000) / 1000));
  const ok = Uint8Array.from({ length: n }, (_, i) => (Math.cos(3 * i) + conf[i] > 0 ? 1 : 0));
  const base = everything(conf, ok);
  assert.ok(base.curve.coverage.length > 1000 && base.curve.coverage.length < 3000);
  const s = shuffled(conf, ok, 11);
  assert.deepStrictEqual(everything(s.conf, s.ok), base);
});

test("the curve's first point is full coverage at the lowest confidence, then coverage strictly decreases", () => {
  for (const c of golden.cases) {
    const { conf, ok } = inputs(c);
    const curve = riskCoverageCurve(conf, ok);
    assert.equal(curve.coverage[0], 1, c.name);
    assert.ok(curve.threshold[0] === Math.min(...c.confidence), c.name); // === so that −0 and +0 count as one
    close(curve.risk[0], c.expected.error_rate, `${c.name} first risk`);
    for (let p = 1; p < curve.coverage.length; p++) {
      assert.ok(curve.coverage[p] < curve.coverage[p - 1] && curve.threshold[p] > curve.threshold[p - 1], `${c.name} point ${p}`);
    }
  }
});

test('hand-computed: four samples, no ties', () => {
  // Most confident first: 0.9 ✓, 0.8 ✗, 0.7 ✓, 0.6 ✗. Points (coverage, risk): (1, ½) (¾, ⅓) (½, ½) (¼, 0), closed at (0, 0).
  const conf = Float64Array.from([0.9, 0.8, 0.7, 0.6]);
  const ok = Uint8Array.from([1, 0, 1, 0]);
  assert.deepStrictEqual(riskCoverageCurve(conf, ok), { coverage: [1, 0.75, 0.5, 0.25], risk: [0.5, 1 / 3, 0.5, 0], threshold: [0.6, 0.7, 0.8, 0.9] });
  const m = selectiveMetrics(conf, ok);
  // AURC = ¼·[(½+⅓)/2 + (⅓+½)/2 + (½+0)/2] + ¼·0 = 13/48; AUGRC = ¼·[(2/4+1/4)/2 + (1/4+1/4)/2 + (1/4+0)/2] = 3/16.
  close(m.aurc, 13 / 48, 'aurc');
  close(m.augrc, 3 / 16, 'augrc');
  close(m.eaurc, 13 / 48 - (0.5 + 0.5 * Math.log(0.5)), 'eaurc');
  assert.equal(m.error_rate, 0.5);
  assert.equal(m.risk_at_95_coverage, 0.5); // only coverage 1 has 100·k ≥ 95·n
  assert.equal(coverageAtRisk(conf, ok, 0.4), 0.75);
  assert.equal(coverageAtRisk(conf, ok, 0), 0.25);
  assert.equal(coverageAtRisk(conf, ok, -1), 0);
});

test('hand-computed: ties move together', () => {
  // 0.5 ×3 (2 wrong), 0.9 ×2 (1 wrong). Points (1, 3/5) and (2/5, ½), closed at (0, ½) / (0, 0).
  const conf = Float64Array.from([0.5, 0.5, 0.9, 0.5, 0.9]);
  const ok = Uint8Array.from([0, 1, 1, 0, 0]);
  assert.deepStrictEqual(riskCoverageCurve(conf, ok), { coverage: [1, 0.4], risk: [0.6, 0.5], threshold: [0.5, 0.9] });
  const m = selectiveMetrics(conf, ok);
  close(m.aurc, 0.6 * (0.6 + 0.5) / 2 + 0.4 * 0.5, 'aurc'); // 0.53
  close(m.augrc, 0.6 * (0.6 + 0.2) / 2 + 0.4 * 0.2 / 2, 'augrc'); // 0.28
  assert.equal(m.risk_at_95_coverage, 0.6);
  assert.equal(coverageAtRisk(conf, ok, 0.5), 0.4);
  assert.equal(coverageAtRisk(conf, ok, 0.6), 1);
});

test('no usable sample: NaN metrics, empty curve, zero coverage; mismatched lengths throw', () => {
  const conf = Float64Array.from([NaN, Infinity]);
  const ok = Uint8Array.from([1, 0]);
  const m = selectiveMetrics(conf, ok);
  assert.equal(m.n, 0);
  for (const k of ['error_rate', 'aurc', 'eaurc', 'augrc', 'risk_at_95_coverage'] as const) assert.ok(Number.isNaN(m[k]), k);
  assert.deepStrictEqual(riskCoverageCurve(conf, ok), { coverage: [], risk: [], threshold: [] });
  assert.equal(coverageAtRisk(conf, ok, 1), 0);
  assert.throws(() => selectiveMetrics(new Float64Array(3), new Uint8Array(2)), RangeError);
});
