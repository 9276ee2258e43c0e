import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  calibrateConformal, conformal, conformalQuantile, conformalRank, mulberry32, predictionSets,
  type ConformalMethod, type ConformalOptions, type ConformalResult,
} from '../../src/engine/metrics/conformal';
import { assertClose, repoRoot } from '../helpers/golden';

interface Split { logits: number[]; labels: number[] }
interface Run { method: ConformalMethod; opts: ConformalOptions; expected: ConformalResult & { sets: string[] } }
interface Case { name: string; k: number; calib: Split; test: Split; results: Run[] }

// Written by scripts/trust_golden/conformal.py; "Infinity" strings stand for +∞.
const golden: { cases: Case[] } = JSON.parse(
  fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'trust', 'conformal.json'), 'utf8'),
  (_k, v) => (v === 'Infinity' ? Infinity : v),
);
const split = (s: Split) => ({ logits: Float32Array.from(s.logits), labels: Int32Array.from(s.labels) });
const bits = (sets: Uint8Array, n: number, k: number) => Array.from({ length: n }, (_, i) => sets.subarray(i * k, (i + 1) * k).join(''));

test('conformal matches the float64 numpy reference within 1e-9, sets exactly', () => {
  let maxErr = 0;
  const close = (a: number | null, e: number | null, what: string) => {
    if (e === null || a === null) return assert.equal(a, e, what);
    assertClose(a, e, 1e-9, what);
    if (Number.isFinite(e)) maxErr = Math.max(maxErr, Math.abs(a - e) / Math.max(1, Math.abs(e)));
  };
  let runs = 0;
  for (const c of golden.cases) {
    const calib = split(c.calib), tst = split(c.test);
    for (const { method, opts, expected: e } of c.results) {
      const what = `${c.name} ${method} α=${opts.alpha}${opts.randomized ? ' randomized' : ''}`;
      const r = conformal(method, calib, tst, c.k, opts);
      assert.equal(r.method, method);
      for (const key of ['n_calib', 'n'] as const) assert.equal(r[key], e[key], `${what} ${key}`);
      for (const key of ['qhat', 'coverage', 'mean_set_size', 'empty_fraction', 'singleton_fraction', 'covgap'] as const) close(r[key], e[key], `${what} ${key}`);
      assert.equal(r.per_class_coverage.length, c.k);
      r.per_class_coverage.forEach((v, y) => close(v, e.per_class_coverage[y], `${what} coverage[${y}]`));
      assert.equal(r.qhat_per_class?.length, e.qhat_per_class?.length, `${what} qhat_per_class`);
      r.qhat_per_class?.forEach((v, y) => close(v, e.qhat_per_class![y], `${what} qhat[${y}]`));
      const { qhat } = calibrateConformal(method, calib, c.k, opts);
      assert.deepEqual(bits(predictionSets(method, tst.logits, c.k, qhat, opts), tst.labels.length, c.k), e.sets, `${what} sets`);
      runs++;
    }
  }
  assert.ok(runs >= 40, `${runs} golden runs`);
  console.log(`conformal golden: ${runs} runs, max relative error ${maxErr.toExponential(2)}`);
});

test('the quantile rank survives floating point: ⌈(n+1)(1−α)⌉ on the decimal α', () => {
  assert.equal((99 + 1) * (1 - 0.45), 55.00000000000001); // the trap the guard exists for
  assert.equal(conformalRank(99, 0.45), 55);
  assert.equal(conformalRank(149, 0.18), 123);
  assert.equal(conformalRank(89, 0.3), 63); // 62.99999999999999 still rounds up to 63
  assert.equal(conformalRank(9, 0.1), 9);
  assert.equal(conformalRank(999, 0.1), 900);
  assert.equal(conformalRank(1000, 0.1), 901); // 900.9 → 901
  assert.equal(conformalQuantile([0.3, 0.1, 0.2, 0.5, 0.4], 0.5), 0.3); // m = ⌈3⌉ = 3
  assert.equal(conformalQuantile([0.3, 0.1, 0.2, 0.5, 0.4], 0.1), Infinity); // m = 6 > 5
  assert.equal(conformalQuantile([], 0.5), Infinity);
});

test('hand-computed LAC: q̂ is the 8th of 9 scores, sets and metrics by hand', () => {
  // Calibration scores 1 − p_y: five ≈ 9e-5 ([10,0,0] labelled 0), three 2/3 (equal logits), one ≈ 1 (wrong label).
  // α = 0.2, n = 9: m = ⌈10·0.8⌉ = 8, so q̂ = 2/3 exactly as 1 − 1/3.
  const calib = {
    logits: Float32Array.from([10, 0, 0, 10, 0, 0, 10, 0, 0, 10, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0]),
    labels: Int32Array.from([0, 0, 0, 0, 0, 0, 1, 2, 1]),
  };
  // Test: equal logits → all three in; [10,0,0] → {0}; [0,10,0] → {1} (misses label 0); [10,10,0] → {0,1} (p ≈ ½ each).
  const tst = { logits: Float32Array.from([0, 0, 0, 10, 0, 0, 0, 10, 0, 10, 10, 0, 0, 0, 0]), labels: Int32Array.from([2, 0, 0, 1, -1]) };
  const opts = { alpha: 0.2 };
  const r = conformal('lac', calib, tst, 3, opts);
  assert.equal(r.qhat, 1 - 1 / 3);
  assert.equal(r.n_calib, 9);
  assert.equal(r.n, 4); // the unlabelled row is left out of every metric
  assert.equal(r.coverage, 3 / 4);
  assert.equal(r.mean_set_size, 7 / 4);
  assert.equal(r.singleton_fraction, 1 / 2);
  assert.equal(r.empty_fraction, 0);
  assert.deepEqual(r.per_class_coverage, [0.5, 1, 1]);
  assert.deepEqual(r.set_size_counts, [0, 2, 1, 1], 'sizes of the 4 labelled rows: 1, 1, 2, 3');
  assertClose(r.covgap, (0.3 + 0.2 + 0.2) / 3, 1e-15, 'covgap');
  assert.deepEqual(bits(predictionSets('lac', tst.logits, 3, [r.qhat!], opts), 5, 3), ['111', '100', '010', '110', '111']);
});

test('hand-computed APS and RAPS: equal probabilities are ranked by class index', () => {
  // Calibration: three rows of equal logits labelled 0, 1, 2 → APS scores 1/3, 2/3, 1 (ranks 1, 2, 3).
  // α = 0.5, n = 3: m = ⌈4·0.5⌉ = 2, q̂ = 1/3 + 1/3.
  const calib = { logits: new Float32Array(9), labels: Int32Array.from([0, 1, 2]) };
  // Test rows: equal logits → {0, 1}; [1,0,0]: p0 = e/(e+2) ≈ 0.576 in, 0.576 + 0.212 out → {0};
  // [0,1,1]: p ≈ (0.155, 0.422, 0.422), class 1 ranks first of the tie (0.422 in), class 2 at 0.845 out → {1}.
  const tst = { logits: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 1]), labels: Int32Array.from([1, 0, 2]) };
  const aps = conformal('aps', calib, tst, 3, { alpha: 0.5 });
  assert.equal(aps.qhat, 1 / 3 + 1 / 3);
  assert.deepEqual(bits(predictionSets('aps', tst.logits, 3, [aps.qhat!], { alpha: 0.5 }), 3, 3), ['110', '100', '010']);
  assert.deepEqual([aps.coverage, aps.mean_set_size, aps.singleton_fraction], [2 / 3, 4 / 3, 2 / 3]);
  assert.deepEqual(aps.per_class_coverage, [1, 1, 0]);

  // RAPS, λ = 0.1, k_reg = 1: + 0.1·max(0, r − 1) → calibration 1/3, 2/3 + 0.1, 1 + 0.2; q̂ = 2/3 + 0.1.
  const raps = conformal('raps', calib, tst, 3, { alpha: 0.5 });
  assert.equal(raps.qhat, 1 / 3 + 1 / 3 + 0.1);
  assert.deepEqual(bits(predictionSets('raps', tst.logits, 3, [raps.qhat!], { alpha: 0.5 }), 3, 3), ['110', '100', '010']);
  // λ = 0.3, k_reg = 0: calibration 1/3 + 0.3, 2/3 + 0.6, 1 + 0.9 → q̂ = 2/3 + 0.6; [1,0,0]: 0.876 in, 1.388 out.
  const o = { alpha: 0.5, rapsLambda: 0.3, rapsKReg: 0 };
  const raps0 = calibrateConformal('raps', calib, 3, o);
  assert.equal(raps0.qhat[0], 1 / 3 + 1 / 3 + 0.3 * 2);
  assert.deepEqual(bits(predictionSets('raps', tst.logits, 3, raps0.qhat, o), 3, 3), ['110', '100', '010']);
});

/** Standard normals from mulberry32 (Box–Muller). */
function normals(rand: () => number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

function randomSplit(rand: () => number, n: number, k: number) {
  const z = normals(rand, n * k);
  const logits = new Float32Array(n * k), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rand() * k);
    const sharp = 5 * rand();
    for (let c = 0; c < k; c++) logits[i * k + c] = z[i * k + c] + (c === labels[i] ? sharp : 0);
  }
  return { logits, labels };
}

test('empirical coverage on a large random case is at least 1 − α (loosely)', () => {
  const rand = mulberry32(12345);
  const k = 10;
  const calib = randomSplit(rand, 3000, k), tst = randomSplit(rand, 20000, k);
  for (const method of ['lac', 'aps', 'raps', 'lac_classwise'] as const) {
    for (const alpha of [0.05, 0.1, 0.2]) {
      for (const randomized of method === 'aps' || method === 'raps' ? [false, true] : [false]) {
        const r = conformal(method, calib, tst, k, { alpha, randomized, seed: 3 });
        assert.ok(r.coverage >= 1 - alpha - 0.03, `${method} α=${alpha} randomized=${randomized}: coverage ${r.coverage}`);
        assert.ok(r.coverage <= 1 - alpha + 0.05, `${method} α=${alpha}: coverage ${r.coverage} far above 1 − α`);
        assert.ok(r.mean_set_size < k, `${method} α=${alpha}: sets are not trivial`);
      }
    }
  }
});

test('invalid inputs are refused', () => {
  const s = { logits: new Float32Array(6), labels: Int32Array.from([0, 1]) };
  assert.throws(() => conformal('lac', s, s, 3, { alpha: 0 }), /alpha/);
  assert.throws(() => conformal('lac', s, s, 3, { alpha: 1 }), /alpha/);
  assert.throws(() => conformal('raps', s, s, 3, { alpha: 0.1, rapsKReg: 0.5 }), /rapsKReg/);
  assert.throws(() => conformal('lac', s, s, 4, { alpha: 0.1 }), /\[n, k\]/);
});
