import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen } from '../../src/engine/scores/linalg';
import { assertAllClose, assertClose, loadGolden } from '../helpers/golden';
import type { Batch, MethodSpec } from '../../src/engine/ood/method';
import { mahalanobis } from '../../src/engine/ood/methods/mahalanobis';
import { knn } from '../../src/engine/ood/methods/knn';
import { originOf, vim, vimDim } from '../../src/engine/ood/methods/vim';
import { jsDense, OrtDense, type Dense } from '../../src/engine/linalg/dense';

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

const ort = new OrtDense();
after(() => ort.close());
// Every check runs on both engines: plain JavaScript, and onnxruntime on the dense thread (what a run uses).
const engines: [string, Dense][] = [['js', jsDense()], ['onnxruntime', ort]];

function logitsOf(W: Float32Array, b: Float32Array, x: Float32Array, n: number, d: number): Float32Array {
  const k = b.length;
  const z = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
    let v = b[c];
    for (let j = 0; j < d; j++) v += W[c * d + j] * x[i * d + j];
    z[i * k + c] = v;
  }
  return z;
}

const layer = { W: f32(g.vim.W), b: Float32Array.from(g.vim.b), k: g.vim.b.length, d: g.d };
const batch = (features: Float32Array, n: number, labels: Int32Array = new Int32Array(n).fill(-1)): Batch => ({ features, logits: logitsOf(layer.W, layer.b, features, n, g.d), labels, n });

/** Fits `spec` on the given row ranges of the fit features, then scores the queries. */
async function fitScore(spec: MethodSpec, dense: Dense, fit: Batch[], queries: Batch, params: Record<string, number> = {}): Promise<Float64Array> {
  const det = spec.create({ d: g.d, k: spec === mahalanobis ? g.classes : layer.k, layer, params: { ...spec.defaults, ...params }, dense });
  for (const b of fit) await det.fit?.(b);
  await det.finish?.();
  return det.score(queries);
}

const slices = (x: Float32Array, labels: Int32Array, cuts: number[]): Batch[] =>
  cuts.slice(1).map((to, i) => batch(x.subarray(cuts[i] * g.d, to * g.d), to - cuts[i], labels.subarray(cuts[i], to)));

for (const [engine, dense] of engines) {
  test(`Mahalanobis (tied covariance, pinv) matches numpy within 1e-9, fitted in uneven batches (${engine})`, async () => {
    assertAllClose(await fitScore(mahalanobis, dense, slices(X, y, [0, 1, 150, 400]), batch(Q, nq)), g.mahalanobis, 1e-9, 'mahalanobis');
  });

  test(`Mahalanobis survives a rank-deficient covariance (duplicate and constant features) (${engine})`, async () => {
    const r = g.rank_deficient;
    assertAllClose(await fitScore(mahalanobis, dense, [batch(f32(r.features), g.n, y)], batch(f32(r.queries), nq)), r.mahalanobis, 1e-9, 'rank-deficient mahalanobis');
  });

  test(`Mahalanobis: unlabelled rows are left out of the class fit; NaN rows score NaN (${engine})`, async () => {
    const withExtra = new Float32Array(X.length + g.d).fill(1e6);
    withExtra.set(X);
    // A far unlabelled outlier must not move the fit.
    const fit = [batch(withExtra, g.n + 1, Int32Array.from([...y, -1]))];
    assertAllClose(await fitScore(mahalanobis, dense, fit, batch(Q, nq)), g.mahalanobis, 1e-9, 'unaffected by the unlabelled row');
    const q = Float32Array.from(Q.subarray(0, 2 * g.d));
    q[2] = NaN;
    const s = await fitScore(mahalanobis, dense, fit, batch(q, 2));
    assert.ok(Number.isNaN(s[0]) && Number.isFinite(s[1]));
  });

  test(`detectors fitted on nothing score NaN instead of throwing (${engine})`, async () => {
    for (const spec of [mahalanobis, knn, vim]) {
      const s = await fitScore(spec, dense, [], batch(Q.subarray(0, 2 * g.d), 2));
      assert.ok(Number.isNaN(s[0]) && Number.isNaN(s[1]), spec.name);
    }
  });

  test(`KNN matches sklearn NearestNeighbors (k = 1, 5, 50) within 1e-9 (${engine})`, async () => {
    for (const k of [1, 5, 50]) {
      const fit = slices(X, y, [0, 100, g.n]);
      assertAllClose(await fitScore(knn, dense, fit, batch(Q, nq), { k }), g.knn[String(k)], 1e-9, `knn k=${k}`);
    }
  });

  test(`ViM matches the numpy reference (origin −W⁺b, complement of the top-dim subspace, α, α‖r‖ − lse) (${engine})`, async () => {
    assertAllClose(await originOf(dense, { ...layer }), g.vim.origin, 1e-9, 'origin');
    // The golden logits are W·h + b in float64; the batch's are float32, hence 1e-5.
    assertAllClose(await fitScore(vim, dense, [batch(X, g.n)], batch(Q, nq), { dim: g.vim.dim }), g.vim.scores, 1e-5, 'vim');
  });
}

test('a bank bigger than one message goes to the dense thread in parts, whole (Node empties transfers of 4 GiB)', async () => {
  const parts = new OrtDense(4096); // bytes per message: the fit rows below take several
  try {
    const fit = slices(X, y, [0, g.n]);
    assertAllClose(await fitScore(knn, parts, fit, batch(Q, nq), { k: 5 }), g.knn['5'], 1e-9, 'knn k=5 with a bank sent in parts');
  } finally {
    parts.close();
  }
});

test('ViM dimension rule', () => {
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
