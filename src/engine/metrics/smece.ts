// SmoothECE (Błasiok & Nakkiran 2023) computed as relplot 1.0.3 computes it, in float64: the residuals f − y are
// spread linearly onto a grid of M points, convolved with a Gaussian reflected once at 0 and 1 (the endpoint grid
// values are not repeated, so mass at confidence exactly 1 counts once), read back by linear interpolation, divided by
// the smoothed density + 1e-4, and averaged |·| weighted by that density. σ is relplot's fixed-point search: the
// smallest dyadic σ (10 halvings of [0, 1]) with σ ≥ smECE_σ.

/** relplot adds this to the smoothed density before dividing (kernels.BaseKernelMixin.smooth). */
const DENSITY_EPS = 1e-4;
/** Kernel terms below this fraction of the peak are skipped: under double rounding wherever the density + 1e-4 is. */
const KERNEL_CUTOFF = 1e-20;

export interface SmeceResult {
  /** NaN when there are no samples. */
  smece: number;
  /** The bandwidth σ the search settled on (NaN when there are no samples). */
  sigma: number;
}

/** Python's round(): half to even. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace(0, 1, num). */
export function linspace01(num: number): Float64Array {
  const out = new Float64Array(num);
  const step = 1 / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step;
  if (num > 1) out[num - 1] = 1;
  return out;
}

/** Grid size relplot's ReflectedGaussianKernel.apply uses for σ. */
function gridSize(sigma: number): number {
  return Math.floor(Math.max(2000, pyRound(20 / sigma)) / 2) + 1;
}

/**
 * A reflected Gaussian smoother at one σ on relplot's grid; `smooth(w, xEval)` returns Σ_i w_i K(x, f_i) read at xEval
 * (the densities are those of relplot's pdf kernel, not normalized over [0, 1]).
 */
export class ReflectedSmoother {
  readonly M: number;
  private readonly ker: Float64Array;
  private readonly lo: number;
  private readonly hi: number;
  private readonly bin: Int32Array;
  private readonly frac: Float64Array;

  constructor(readonly f: Float64Array, readonly sigma: number) {
    const M = (this.M = gridSize(sigma));
    const t = linspace01(M);
    const norm = Math.sqrt(2 * Math.PI) * sigma;
    const ker = (this.ker = new Float64Array(M));
    for (let j = 0; j < M; j++) ker[j] = Math.exp(-(t[j] - 0.5) * (t[j] - 0.5) / (2 * sigma * sigma)) / norm;
    let lo = 0;
    let hi = M - 1;
    const floor = ker[M >> 1] * KERNEL_CUTOFF;
    while (lo < hi && ker[lo] < floor) lo++;
    while (hi > lo && ker[hi] < floor) hi--;
    this.lo = lo;
    this.hi = hi;
    this.bin = new Int32Array(f.length);
    this.frac = new Float64Array(f.length);
    for (let i = 0; i < f.length; i++) {
      const b = Math.min(M - 2, Math.max(0, Math.trunc(f[i] * (M - 1))));
      this.bin[i] = b;
      this.frac[i] = f[i] * (M - 1) - b;
    }
  }

  /** Σ_i w_i K(·, f_i) at xEval; `rows` picks (with repeats) the samples to use, default all. */
  smooth(w: ArrayLike<number>, xEval: Float64Array, rows?: Uint32Array): Float64Array {
    const M = this.M;
    const values = new Float64Array(M);
    const n = rows ? rows.length : this.f.length;
    for (let s = 0; s < n; s++) {
      const i = rows ? rows[s] : s;
      values[this.bin[i]] += (1 - this.frac[i]) * w[i];
      values[this.bin[i] + 1] += this.frac[i] * w[i];
    }
    const cache = new Float64Array(M).fill(NaN);
    const at = (k: number): number => {
      let v = cache[k];
      if (v !== v) cache[k] = v = this.convolveAt(values, k);
      return v;
    };
    const out = new Float64Array(xEval.length);
    const step = 1 / (M - 1);
    for (let e = 0; e < xEval.length; e++) {
      const x = xEval[e];
      const b = Math.min(M - 2, Math.max(0, Math.trunc(x * (M - 1))));
      const r = (x - b * step) / step;
      out[e] = at(b) * (1 - r) + at(b + 1) * r;
    }
    return out;
  }

  /**
   * numpy.convolve(ext, ker, 'valid')[M//2 + k] with ext = [values reversed without its last, values, values reversed
   * without its first]: Σ_j ext[M//2 + k + j]·ker[M−1−j].
   */
  private convolveAt(values: Float64Array, k: number): number {
    const M = this.M;
    const ker = this.ker;
    const base = (M >> 1) + k; // e = base + j indexes ext
    const first = M - 1 - this.hi;
    const last = M - 1 - this.lo;
    // The three parts of ext in turn (same terms in the same order as one loop over j, without a branch per term).
    const end1 = Math.min(last, M - 2 - base);
    const end2 = Math.min(last, 2 * M - 2 - base);
    let s = 0;
    let j = first;
    for (; j <= end1; j++) s += values[M - 1 - base - j] * ker[M - 1 - j];
    for (; j <= end2; j++) s += values[base + j - (M - 1)] * ker[M - 1 - j];
    for (; j <= last; j++) s += values[3 * M - 3 - base - j] * ker[M - 1 - j];
    return s;
  }
}

/** smECE at a fixed σ (relplot's smECE_sigma). */
export function smeceAtSigma(conf: Float64Array, correct: ArrayLike<number>, sigma: number): number {
  const n = conf.length;
  if (n === 0) return NaN;
  const t = linspace01(Math.max(pyRound(10 / sigma), 200));
  const k = new ReflectedSmoother(conf, sigma);
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) resid[i] = conf[i] - correct[i];
  const ys = k.smooth(resid, t);
  const dens = k.smooth(new Float64Array(n).fill(1), t);
  let num = 0;
  let den = 0;
  for (let e = 0; e < t.length; e++) {
    const d = dens[e] + DENSITY_EPS;
    num += Math.abs(ys[e] / d) * d;
    den += d;
  }
  return num / den;
}

/** smECE with relplot's bandwidth search, on confidences in [0, 1] and correctness in {0, 1}. */
export function smece(confidences: Float64Array, correct: Uint8Array | Float64Array): SmeceResult {
  if (confidences.length === 0) return { smece: NaN, sigma: NaN };
  const fixedPoint = (s: number) => s < 0.001 || s < smeceAtSigma(confidences, correct, s);
  let sigma = 1;
  if (!fixedPoint(1)) {
    let end = 0;
    for (let i = 0; i < 10; i++) {
      const mid = (sigma + end) / 2;
      if (fixedPoint(mid)) end = mid;
      else sigma = mid;
    }
  }
  return { smece: smeceAtSigma(confidences, correct, sigma), sigma };
}

/** Max-softmax confidence and correctness (argmax, first maximum on ties) of labelled rows with finite logits. */
export function topLabel(logits: Float32Array, labels: Int32Array, n: number, k: number): { conf: Float64Array; correct: Uint8Array } {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || labels[i] >= k) continue;
    let finite = true;
    for (let j = 0; j < k; j++) if (!Number.isFinite(logits[i * k + j])) finite = false;
    if (finite) rows.push(i);
  }
  const conf = new Float64Array(rows.length);
  const correct = new Uint8Array(rows.length);
  rows.forEach((i, s) => {
    const off = i * k;
    let m = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) if (logits[off + j] > m) { m = logits[off + j]; arg = j; }
    let S = 0;
    for (let j = 0; j < k; j++) S += Math.exp(logits[off + j] - m);
    conf[s] = 1 / S;
    correct[s] = arg === labels[i] ? 1 : 0;
  });
  return { conf, correct };
}

/** smECE of softmax(logits) (top label) against labels; unlabelled rows and rows with a non-finite logit are skipped. */
export function smeceFromLogits(logits: Float32Array, labels: Int32Array, n: number, k: number): SmeceResult {
  const { conf, correct } = topLabel(logits, labels, n, k);
  return smece(conf, correct);
}
