// Dirichlet calibration with ODIR regularisation (Kull et al. 2019): matrix scaling on log-probabilities,
//   z′ = W · ln softmax(z) + b,
// fitted on the calibration split by minimizing
//   mean NLL(softmax(z′)) + λ/(k(k−1)) Σ_{i≠j} W_ij² + μ/k Σ_j b_j²
// (off-diagonal and intercept regularisation; the diagonal is free). The paper picks λ and μ by cross-validation;
// we fix λ = μ = 0.01, which keeps k² weights from chasing a small calibration split. Start: W = I, b = 0 (the
// identity map). Optimizer: lbfgs.ts until max |∇| ≤ 1e-9 or f stops decreasing, within 100–1000 iterations as
// WORK_BUDGET allows (each costs ~n·k² multiply-adds: 200 at k = 100, n = 5000, where the fit is still moving).
// Conditioning: the NLL does not change when the same vector is added to every row of W (every logit shifts
// alike) or a constant to b; only the regulariser's tiny curvature, 2λ/(k(k−1)), holds those directions. The optimum
// has Σ_{i≠j} W_ij = 0 in every column and Σ b = 0 (the regulariser's minimum along them), so the search stays on
// that subspace (the gradient is projected onto it), and runs in parameters scaled by the Gauss–Newton Hessian's
// diagonal at the start (a Jacobi preconditioner). Neither moves the optimum. Iterations on the main golden case:
// 185 plain, 99 projected, 59 projected and scaled; synthetic k = 30, n = 3000: 562 projected, 247 with both.
import { lbfgs } from './lbfgs';
import { finiteRow, softmaxInto } from '../util/rows';

export const ODIR_LAMBDA = 0.01;
export const ODIR_MU = 0.01;
/** Multiply-adds of the gradient evaluations a fit may spend (≈ 20–40 s of JavaScript). */
export const WORK_BUDGET = 1e10;

export interface DirichletFit {
  /** Row-major [k, k]. */
  W: Float64Array;
  b: Float64Array;
  objective: number;
  iterations: number;
  converged: boolean;
}

/** ln softmax of row `off` into out[o..o+k), float64. */
export function logSoftmaxInto(z: ArrayLike<number>, off: number, k: number, out: Float64Array, o: number): void {
  const lse = softmaxInto(z, off, k, out, o);
  for (let j = 0; j < k; j++) out[o + j] = z[off + j] - lse;
}

export function fitDirichletOdir(logits: Float32Array, labels: Int32Array, n: number, k: number, opts: { lambda?: number; mu?: number; maxIterations?: number } = {}): DirichletFit {
  const lambda = opts.lambda ?? ODIR_LAMBDA;
  const mu = opts.mu ?? ODIR_MU;
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] >= 0 && labels[i] < k && finiteRow(logits, i, k)) rows.push(i);
  const N = rows.length;
  if (N === 0) throw new RangeError('Dirichlet calibration needs labelled samples with finite logits');
  const X = new Float64Array(N * k);
  rows.forEach((i, r) => logSoftmaxInto(logits, i * k, k, X, r * k));
  const y = Int32Array.from(rows, (i) => labels[i]);
  const kk = k * k;
  const offDiag = (2 * lambda) / (k * (k - 1));
  const bias = (2 * mu) / k;
  const z = new Float64Array(k);

  const fg = (x: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let f = 0;
    for (let r = 0; r < N; r++) {
      const off = r * k;
      let m = -Infinity;
      for (let c = 0; c < k; c++) {
        let v = x[kk + c];
        for (let j = 0; j < k; j++) v += x[c * k + j] * X[off + j];
        z[c] = v;
        if (v > m) m = v;
      }
      const zy = z[y[r]];
      let S = 0;
      for (let c = 0; c < k; c++) S += (z[c] = Math.exp(z[c] - m));
      f += Math.log(S) + m - zy;
      for (let c = 0; c < k; c++) {
        const res = z[c] / S - (c === y[r] ? 1 : 0);
        g[kk + c] += res;
        for (let j = 0; j < k; j++) g[c * k + j] += res * X[off + j];
      }
    }
    f /= N;
    for (let p = 0; p < kk + k; p++) g[p] /= N;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < k; j++) {
        if (j === c) continue;
        const w = x[c * k + j];
        f += (offDiag / 2) * w * w;
        g[c * k + j] += offDiag * w;
      }
      f += (bias / 2) * x[kk + c] * x[kk + c];
      g[kk + c] += bias * x[kk + c];
    }
    return f;
  };
  // Search in u = θ / s, s = 1/√(the Gauss–Newton Hessian's diagonal at the start): a Jacobi preconditioner.
  const s = jacobiScale(X, N, k, offDiag, bias);
  const theta = new Float64Array(kk + k);
  const gRaw = new Float64Array(kk + k);
  const fu = (u: Float64Array, gu: Float64Array): number => {
    for (let p = 0; p < u.length; p++) theta[p] = s[p] * u[p];
    const f = fg(theta, gRaw);
    for (let p = 0; p < u.length; p++) gu[p] = s[p] * gRaw[p];
    projectOntoSubspace(gu, s, k);
    return f;
  };
  const u0 = new Float64Array(kk + k);
  for (let c = 0; c < k; c++) u0[c * k + c] = 1 / s[c * k + c];
  const maxIterations = opts.maxIterations ?? Math.min(1000, Math.max(100, Math.floor(WORK_BUDGET / (N * kk))));
  const res = lbfgs(fu, u0, { maxIterations, relTol: 0 });
  const x = res.x.map((v, p) => v * s[p]);
  return { W: x.slice(0, kk), b: x.slice(kk), objective: res.f, iterations: res.iterations, converged: res.converged };
}

function jacobiScale(X: Float64Array, N: number, k: number, offDiag: number, bias: number): Float64Array {
  const kk = k * k;
  const d = new Float64Array(kk + k);
  const p = new Float64Array(k);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < k; c++) p[c] = Math.exp(X[r * k + c]);
    for (let c = 0; c < k; c++) {
      const v = p[c] * (1 - p[c]);
      d[kk + c] += v;
      for (let j = 0; j < k; j++) d[c * k + j] += v * X[r * k + j] * X[r * k + j];
    }
  }
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < k; j++) d[c * k + j] = d[c * k + j] / N + (j === c ? 0 : offDiag);
    d[kk + c] = d[kk + c] / N + bias;
  }
  return d.map((v) => 1 / Math.sqrt(Math.max(v, 1e-12)));
}

/**
 * Projects g (in u = θ / s) onto {u : s ⊙ u keeps each column's off-diagonal sum of W and the sum of b}: the
 * component along s is removed from each column's off-diagonal entries and from b.
 */
function projectOntoSubspace(g: Float64Array, s: Float64Array, k: number): void {
  const kk = k * k;
  const remove = (idx: number[]) => {
    let ag = 0, aa = 0;
    for (const p of idx) { ag += s[p] * g[p]; aa += s[p] * s[p]; }
    for (const p of idx) g[p] -= (ag / aa) * s[p];
  };
  for (let j = 0; j < k; j++) remove(Array.from({ length: k - 1 }, (_, t) => (t < j ? t : t + 1) * k + j));
  remove(Array.from({ length: k }, (_, c) => kk + c));
}
