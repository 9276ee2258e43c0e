// Ensemble temperature scaling (Mix-n-Match, Zhang et al. 2020):
//   q = w₀ softmax(z/T) + w₁ softmax(z) + w₂ / k,   w on the simplex,
// with T the temperature-scaling fit and w minimizing the mean NLL on the calibration split, as the paper's code
// does (T first, then w). The NLL −mean ln(aᵢ·w), aᵢ = (softmax(zᵢ/T)_y, softmax(zᵢ)_y, 1/k), is convex in w, so its
// minimum over the simplex is the best of the minima over the faces' relative interiors: the 3 vertices, each
// edge's 1-D minimum (safeguarded Newton on the derivative) and the interior's 2-D minimum (damped Newton that
// stays inside). That is exact to rounding, unlike an unconstrained reparametrisation, whose optimum can sit at
// infinity when a weight is 0.
import { finiteRow, softmaxInto } from '../util/rows';

export interface EnsembleTemperatureFit {
  temperature: number;
  weights: [number, number, number];
  /** Mean NLL on the calibration split at the optimum. */
  objective: number;
  iterations: number;
}

type W3 = [number, number, number];

/** The three candidate probabilities of the true class per usable row, [N, 3]. */
function trueClassColumns(logits: Float32Array, labels: Int32Array, n: number, k: number, T: number): Float64Array {
  const out: number[] = [];
  const zt = new Float64Array(k), p = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y < 0 || y >= k || !finiteRow(logits, i, k)) continue;
    for (let j = 0; j < k; j++) zt[j] = logits[i * k + j] / T;
    softmaxInto(zt, 0, k, p);
    const pT = p[y];
    softmaxInto(logits, i * k, k, p);
    out.push(pT, p[y], 1 / k);
  }
  return Float64Array.from(out);
}

function nll(a: Float64Array, w: W3): number {
  let f = 0;
  for (let i = 0; i < a.length; i += 3) f -= Math.log(a[i] * w[0] + a[i + 1] * w[1] + a[i + 2] * w[2]);
  return f / (a.length / 3);
}

/** Minimum of t ↦ NLL(t e_j + (1 − t) e_l) over t ∈ [0, 1]: the derivative is increasing, so bracket its root. */
function edgeMinimum(a: Float64Array, j: number, l: number): { w: W3; it: number } {
  const at = (t: number): W3 => {
    const w: W3 = [0, 0, 0];
    w[j] = t;
    w[l] = 1 - t;
    return w;
  };
  const deriv = (t: number) => {
    let d1 = 0, d2 = 0;
    for (let i = 0; i < a.length; i += 3) {
      const d = a[i + j] - a[i + l];
      const s = a[i + l] + t * d;
      d1 -= d / s;
      d2 += (d / s) * (d / s);
    }
    return { d1, d2 };
  };
  if (!(deriv(0).d1 < 0)) return { w: at(0), it: 0 };
  if (!(deriv(1).d1 > 0)) return { w: at(1), it: 0 };
  let lo = 0, hi = 1, t = 0.5, it = 0;
  for (; it < 200 && hi - lo > 1e-16; it++) {
    const { d1, d2 } = deriv(t);
    if (d1 === 0) break;
    if (d1 > 0) hi = t;
    else lo = t;
    let next = d2 > 0 ? t - d1 / d2 : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next === t) break;
    t = next;
  }
  return { w: at(t), it };
}

/** Damped Newton on (w₀, w₁), w₂ = 1 − w₀ − w₁, from the centre, every iterate strictly inside the simplex. */
function interiorMinimum(a: Float64Array): { w: W3; it: number } {
  let w: W3 = [1 / 3, 1 / 3, 1 / 3];
  let f = nll(a, w);
  const N = a.length / 3;
  let it = 0;
  for (; it < 100; it++) {
    let g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    for (let i = 0; i < a.length; i += 3) {
      const s = a[i] * w[0] + a[i + 1] * w[1] + a[i + 2] * w[2];
      const d0 = (a[i] - a[i + 2]) / s, d1 = (a[i + 1] - a[i + 2]) / s;
      g0 -= d0; g1 -= d1;
      h00 += d0 * d0; h01 += d0 * d1; h11 += d1 * d1;
    }
    [g0, g1, h00, h01, h11] = [g0 / N, g1 / N, h00 / N, h01 / N, h11 / N];
    const det = h00 * h11 - h01 * h01;
    let s0 = det > 1e-300 ? -(h11 * g0 - h01 * g1) / det : -g0;
    let s1 = det > 1e-300 ? -(h00 * g1 - h01 * g0) / det : -g1;
    if (s0 * g0 + s1 * g1 >= 0) [s0, s1] = [-g0, -g1];
    let step = 1, moved = false;
    for (let ls = 0; ls < 60; ls++, step /= 2) {
      const cand: W3 = [w[0] + step * s0, w[1] + step * s1, 0];
      cand[2] = 1 - cand[0] - cand[1];
      if (!(cand[0] > 0 && cand[1] > 0 && cand[2] > 0)) continue;
      const fc = nll(a, cand);
      if (fc <= f + 1e-4 * step * (s0 * g0 + s1 * g1)) {
        moved = fc < f;
        w = cand;
        f = fc;
        break;
      }
    }
    if (!moved || Math.max(Math.abs(step * s0), Math.abs(step * s1)) < 1e-15) break;
  }
  return { w, it };
}

export function fitEnsembleTemperature(logits: Float32Array, labels: Int32Array, n: number, k: number, temperature: number): EnsembleTemperatureFit {
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`temperature must be positive, got ${temperature}`);
  const a = trueClassColumns(logits, labels, n, k, temperature);
  if (a.length === 0) throw new RangeError('ensemble temperature scaling needs labelled samples with finite logits');
  const candidates: { w: W3; it: number }[] = [
    { w: [1, 0, 0], it: 0 }, { w: [0, 1, 0], it: 0 }, { w: [0, 0, 1], it: 0 },
    edgeMinimum(a, 0, 1), edgeMinimum(a, 0, 2), edgeMinimum(a, 1, 2), interiorMinimum(a),
  ];
  let best = candidates[0];
  let bestF = nll(a, best.w);
  for (const c of candidates.slice(1)) {
    const f = nll(a, c.w);
    if (f < bestF) { best = c; bestF = f; }
  }
  return { temperature, weights: best.w, objective: bestF, iterations: candidates.reduce((s, c) => s + c.it, 0) };
}
