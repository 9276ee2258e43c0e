// Post-hoc recalibration maps fitted by multinomial logistic regression (softmax cross-entropy):
//   vector scaling   z' = a ⊙ z + c                    (2k parameters)
//   matrix scaling   z' = A z + c                      (k² + k)
//   logistic regr.   z' = W x + c on features x        (k·d + k, a last-layer refit)
// Objective: mean NLL over the labelled rows + λ/2 ‖P − P₀‖², where P is a (or A, or W) and P₀ is the identity
// for the two scaling maps (λ → ∞ gives back the original logits) and 0 for logistic regression; biases are not
// penalized. λ defaults to 1e-3. Optimizer: L-BFGS (memory 10) until max |∇| ≤ 1e-9 (or f stalls, or 1000 iterations).
// Rows with label −1 / out of range / non-finite inputs are skipped.
import { lbfgs } from './lbfgs';

export interface ScalingOptions {
  /** λ in mean NLL + λ/2 ‖P − P₀‖² (default 1e-3). */
  l2?: number;
  maxIterations?: number;
}

export interface LinearCalibrator {
  kind: 'vector' | 'matrix' | 'logistic';
  /** Input width (k for scaling maps, d for logistic regression) and classes. */
  d: number;
  k: number;
  /** Row-major [k, d]; for vector scaling the diagonal only (length k). Full precision: apply() uses these. */
  weights: Float64Array;
  bias: Float64Array;
  /** Final objective value and optimizer report. */
  objective: number;
  iterations: number;
  converged: boolean;
  apply(inputs: Float32Array, n: number): Float32Array;
}

export const DEFAULT_L2 = 1e-3;

export function fitVectorScaling(logits: Float32Array, labels: Int32Array, n: number, k: number, opts: ScalingOptions = {}): LinearCalibrator {
  return fit('vector', logits, labels, n, k, k, opts);
}

export function fitMatrixScaling(logits: Float32Array, labels: Int32Array, n: number, k: number, opts: ScalingOptions = {}): LinearCalibrator {
  return fit('matrix', logits, labels, n, k, k, opts);
}

export function fitLogisticRegression(
  features: Float32Array,
  labels: Int32Array,
  n: number,
  d: number,
  k: number,
  opts: ScalingOptions = {},
): LinearCalibrator {
  return fit('logistic', features, labels, n, d, k, opts);
}

function fit(kind: LinearCalibrator['kind'], X: Float32Array, labels: Int32Array, n: number, d: number, k: number, opts: ScalingOptions): LinearCalibrator {
  const l2 = opts.l2 ?? DEFAULT_L2;
  const diag = kind === 'vector';
  const nw = diag ? k : k * d;
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || labels[i] >= k) continue;
    let ok = true;
    for (let j = 0; j < d; j++) if (!Number.isFinite(X[i * d + j])) { ok = false; break; }
    if (ok) rows.push(i);
  }
  const idx = Int32Array.from(rows);
  // P₀: identity for the scaling maps, zero for logistic regression.
  const center = new Float64Array(nw);
  if (kind !== 'logistic') for (let c = 0; c < k; c++) center[diag ? c : c * d + c] = 1;
  const x0 = new Float64Array(nw + k);
  x0.set(center);

  const z = new Float64Array(k);
  const fg = (x: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let f = 0;
    for (const i of idx) {
      const off = i * d;
      let m = -Infinity;
      for (let c = 0; c < k; c++) {
        let v = x[nw + c];
        if (diag) v += x[c] * X[off + c];
        else for (let j = 0; j < d; j++) v += x[c * d + j] * X[off + j];
        z[c] = v;
        if (v > m) m = v;
      }
      const y = labels[i];
      const zy = z[y];
      let S = 0;
      for (let c = 0; c < k; c++) { z[c] = Math.exp(z[c] - m); S += z[c]; }
      f += Math.log(S) + m - zy;
      for (let c = 0; c < k; c++) {
        const r = z[c] / S - (c === y ? 1 : 0); // ∂NLL/∂z'_c
        g[nw + c] += r;
        if (diag) g[c] += r * X[off + c];
        else for (let j = 0; j < d; j++) g[c * d + j] += r * X[off + j];
      }
    }
    const inv = idx.length ? 1 / idx.length : 0;
    f *= inv;
    for (let p = 0; p < nw + k; p++) g[p] *= inv;
    for (let p = 0; p < nw; p++) {
      const w = x[p] - center[p];
      f += 0.5 * l2 * w * w;
      g[p] += l2 * w;
    }
    return f;
  };
  const res = lbfgs(fg, x0, { maxIterations: opts.maxIterations ?? 1000 });
  const W64 = res.x.slice(0, nw);
  const b64 = res.x.slice(nw);
  return {
    kind, d, k, weights: W64, bias: b64,
    objective: res.f,
    iterations: res.iterations,
    converged: res.converged,
    apply(inputs: Float32Array, m: number): Float32Array {
      const out = new Float32Array(m * k);
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < k; c++) {
          let v = b64[c];
          if (diag) v += W64[c] * inputs[i * d + c];
          else for (let j = 0; j < d; j++) v += W64[c * d + j] * inputs[i * d + j];
          out[i * k + c] = v;
        }
      }
      return out;
    },
  };
}
