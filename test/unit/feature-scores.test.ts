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

test('detectors fitted on nothing score NaN instead of throwing', () => {
  const m = new MahalanobisDetector(g.d, g.classes);
  m.finish();
  const knn = new KnnDetector(g.d);
  knn.finish();
  const vim = new VimDetector(f32(g.vim.W), Float32Array.from(g.vim.b), g.vim.dim);
  vim.finish();
  for (const s of [m.score(Q, 2), knn.score(Q, 2), vim.score(Q, null, 2)]) assert.ok(Number.isNaN(s[0]) && Number.isNaN(s[1]));
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

function checkEigen(A: Float64Array, d: number, what: string): Float64Array {
  const { values, vectors } = symmetricEigen(A, d);
  for (let i = 1; i < d; i++) assert.ok(values[i] <= values[i - 1], `${what}: descending`);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let recon = 0;
      let orth = 0;
      for (let t = 0; t < d; t++) {
        recon += vectors[i * d + t] * values[t] * vectors[j * d + t];
        orth += vectors[t * d + i] * vectors[t * d + j];
      }
      assertClose(recon, A[i * d + j], 1e-13, `${what}: A[${i},${j}]`);
      assertClose(orth, i === j ? 1 : 0, 1e-13, `${what}: VᵀV[${i},${j}]`);
    }
  }
  return values;
}

test('symmetric eigen-decomposition: dense, rank-deficient, diagonal with repeats, zero, 1×1 and 2×2', () => {
  const d = 9;
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) A[i * d + j] = A[j * d + i] = Math.sin(i * 7 + j * 3) + (i === j ? 2 : 0);
  checkEigen(A, d, 'dense');
  // B Bᵀ with B 9×3: rank 3, six zero eigenvalues.
  const Bm = Array.from({ length: d * 3 }, (_, i) => Math.cos(i * 1.3));
  const G = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let t = 0; t < 3; t++) G[i * d + j] += Bm[i * 3 + t] * Bm[j * 3 + t];
  const gv = checkEigen(G, d, 'rank 3');
  for (let i = 3; i < d; i++) assert.ok(Math.abs(gv[i]) < 1e-13 * gv[0]);
  const D = new Float64Array(16);
  [3, 1, 3, -2].forEach((x, i) => (D[i * 4 + i] = x));
  assert.deepEqual(Array.from(checkEigen(D, 4, 'diagonal')), [3, 3, 1, -2]);
  assert.deepEqual(Array.from(checkEigen(new Float64Array(9), 3, 'zero')), [0, 0, 0]);
  assert.deepEqual(Array.from(checkEigen(Float64Array.from([5]), 1, '1×1')), [5]);
  const two = checkEigen(Float64Array.from([2, 1, 1, 2]), 2, '2×2');
  assertClose(two[0], 3, 1e-15, '2×2 λ1');
  assertClose(two[1], 1, 1e-15, '2×2 λ2');
});
