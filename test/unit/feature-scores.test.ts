import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KnnDetector, MahalanobisDetector, VimDetector, vimDim } from '../../src/engine/scores/feature-scores';
import { symmetricEigen } from '../../src/engine/scores/linalg';
import { assertAllClose, assertClose, loadGolden } from '../helpers/golden';

interface FeatureGolden {
  n: number;
  d: number;
  classes: number;
  features: number[][];
  labels: number[];
  queries: number[][];
  mahalanobis: number[];
  rank_deficient: { features: number[][]; queries: number[][]; mahalanobis: number[]; rank: number };
  knn: Record<string, number[]>;
  vim: { W: number[][]; b: number[]; dim: number; origin: number[]; alpha: number; scores: number[] };
}
const g = loadGolden<FeatureGolden>('features');
const f32 = (rows: number[][]) => Float32Array.from(rows.flat());
const X = f32(g.features);
const Q = f32(g.queries);
const y = Int32Array.from(g.labels);
const nq = g.queries.length;

test('Mahalanobis (tied covariance, pinv) matches numpy within 1e-9, fitted in uneven batches', () => {
  const m = new MahalanobisDetector(g.d, g.classes);
  for (const [a, b] of [[0, 1], [1, 150], [150, 400]]) m.add(X.subarray(a * g.d, b * g.d), y.subarray(a, b), b - a);
  m.finish();
  assertAllClose(m.score(Q, nq), g.mahalanobis, 1e-9, 'mahalanobis');
});

test('Mahalanobis survives a rank-deficient covariance (duplicate and constant features)', () => {
  const r = g.rank_deficient;
  const m = new MahalanobisDetector(g.d, g.classes);
  m.add(f32(r.features), y, g.n);
  m.finish();
  assert.equal(m.covarianceRank, r.rank);
  assertAllClose(m.score(f32(r.queries), nq), r.mahalanobis, 1e-9, 'rank-deficient mahalanobis');
});

test('Mahalanobis: unlabelled rows are left out of the class fit; NaN rows score NaN', () => {
  const m = new MahalanobisDetector(g.d, g.classes);
  const labels = Int32Array.from(y);
  const withExtra = new Float32Array(X.length + g.d).fill(1e6);
  withExtra.set(X);
  m.add(withExtra, Int32Array.from([...labels, -1]), g.n + 1); // a far unlabelled outlier must not move the fit
  m.finish();
  assert.equal(m.skipped, 1);
  assertAllClose(m.score(Q, nq), g.mahalanobis, 1e-9, 'unaffected by the unlabelled row');
  const q = Float32Array.from(Q.subarray(0, g.d));
  q[2] = NaN;
  assert.ok(Number.isNaN(m.score(q, 1)[0]));
});

test('KNN matches sklearn NearestNeighbors (k = 1, 5, 50) within 1e-9', () => {
  for (const k of [1, 5, 50]) {
    const det = new KnnDetector(g.d, k);
    det.add(X.subarray(0, 100 * g.d), 100);
    det.add(X.subarray(100 * g.d), g.n - 100);
    det.finish();
    assert.equal(det.size, g.n);
    assertAllClose(det.score(Q, nq), g.knn[String(k)], 1e-9, `knn k=${k}`);
  }
});

test('ViM matches the numpy reference (origin −W⁺b, complement of the top-dim subspace, α, α‖r‖ − lse)', () => {
  const W = f32(g.vim.W);
  const b = Float32Array.from(g.vim.b);
  const vim = new VimDetector(W, b, g.vim.dim);
  assertAllClose(vim.origin, g.vim.origin, 1e-9, 'origin');
  vim.add(X, null, g.n); // logits computed from W, b
  vim.finish();
  assertClose(vim.alpha, g.vim.alpha, 1e-9, 'alpha');
  assertAllClose(vim.score(Q, null, nq), g.vim.scores, 1e-9, 'vim');
  // Passing the logits explicitly gives the same scores.
  const logits = new Float32Array(nq * b.length);
  for (let i = 0; i < nq; i++) {
    for (let c = 0; c < b.length; c++) {
      let v = b[c];
      for (let j = 0; j < g.d; j++) v += W[c * g.d + j] * Q[i * g.d + j];
      logits[i * b.length + c] = v;
    }
  }
  assertAllClose(vim.score(Q, logits, nq), g.vim.scores, 1e-5, 'vim with float32 logits');
  assert.deepEqual([vimDim(2048), vimDim(1024), vimDim(768), vimDim(512), vimDim(10)], [1000, 512, 512, 256, 5]);
});

test('Jacobi eigen-decomposition reconstructs a symmetric matrix', () => {
  const d = 6;
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) A[i * d + j] = A[j * d + i] = Math.sin(i * 7 + j * 3) + (i === j ? 2 : 0);
  const { values, vectors } = symmetricEigen(A, d);
  for (let i = 1; i < d; i++) assert.ok(values[i] <= values[i - 1]);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += vectors[i * d + t] * values[t] * vectors[j * d + t];
      assertClose(s, A[i * d + j], 1e-13, `A[${i},${j}]`);
    }
  }
});
