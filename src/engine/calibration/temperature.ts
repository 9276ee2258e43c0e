// Temperature scaling (Guo et al. 2017): one scalar T minimizing the mean NLL of softmax(z / T).
// The NLL is not convex in ln T in general, but it is convex in β = 1/T: f(β) = mean[lse(βz) − βz_y], with
// f'(β) = mean[E_β(z) − z_y] and f''(β) = mean[Var_β(z)] ≥ 0 (E, Var under softmax(βz)). So we solve f'(β) = 0 by
// Newton steps kept inside a sign bracket of f' (bisection when a step leaves it or does not shrink |f'| enough).
// Rows that are unlabelled (label −1), out of range or non-finite are skipped.

export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  iterations: number;
  /** Set when the optimum lies at a search bound (e.g. labels no better than chance → T → ∞). */
  note?: string;
}

/** Search range for T; beyond it the fit reports the bound with a note. */
export const T_MIN = 1e-3;
export const T_MAX = 1e3;

interface Moments { f: number; g: number; h: number }

export function fitTemperature(logits: Float32Array, labels: Int32Array, n: number, k: number): TemperatureFit {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y < 0 || y >= k) continue;
    let ok = true;
    for (let j = 0; j < k; j++) if (!Number.isFinite(logits[i * k + j])) { ok = false; break; }
    if (ok) rows.push(i);
  }
  const idx = Int32Array.from(rows);
  if (idx.length === 0) return { temperature: NaN, nllBefore: NaN, nllAfter: NaN, iterations: 0, note: 'no labelled samples with finite logits' };
  const ev = (beta: number): Moments => moments(logits, labels, idx, k, beta);

  const nllBefore = ev(1).f;
  let lo = 1 / T_MAX;
  let hi = 1 / T_MIN;
  const gLo = ev(lo).g;
  const gHi = ev(hi).g;
  if (gLo >= 0) return done(lo, 0, 'optimum at T ≥ T_MAX: predictions carry no label information');
  if (gHi <= 0) return done(hi, 0, 'optimum at T ≤ T_MIN: the calibration set is (nearly) separable');

  let beta = 1;
  let cur = ev(beta);
  let it = 0;
  for (; it < 100; it++) {
    if (cur.g > 0) hi = beta;
    else lo = beta;
    let next = cur.h > 0 ? beta - cur.g / cur.h : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    const step = Math.abs(next - beta);
    beta = next;
    cur = ev(beta);
    if (step <= 1e-13 * beta || hi - lo <= 1e-13 * beta) break;
  }
  return done(beta, it + 1);

  function done(b: number, iterations: number, note?: string): TemperatureFit {
    const fit: TemperatureFit = { temperature: 1 / b, nllBefore, nllAfter: ev(b).f, iterations };
    if (note) fit.note = note;
    return fit;
  }
}

/** Mean NLL of softmax(βz) and its first two derivatives in β. */
function moments(logits: Float32Array, labels: Int32Array, idx: Int32Array, k: number, beta: number): Moments {
  let f = 0;
  let g = 0;
  let h = 0;
  for (const i of idx) {
    const off = i * k;
    let m = -Infinity;
    for (let j = 0; j < k; j++) if (logits[off + j] > m) m = logits[off + j];
    let S = 0;
    let Ez = 0;
    let Ez2 = 0;
    for (let j = 0; j < k; j++) {
      const d = logits[off + j] - m; // shift by the max for both the exponent and the moments
      const e = Math.exp(beta * d);
      S += e;
      Ez += e * d;
      Ez2 += e * d * d;
    }
    Ez /= S;
    Ez2 /= S;
    const dy = logits[off + labels[i]] - m;
    f += Math.log(S) - beta * dy;
    g += Ez - dy;
    h += Math.max(0, Ez2 - Ez * Ez);
  }
  const n = idx.length;
  return { f: f / n, g: g / n, h: h / n };
}
