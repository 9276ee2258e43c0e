// Split conformal prediction sets for classifiers (LAC, APS, RAPS, class-conditional LAC), all in float64: APS
// thresholds sit within 1e-6 of many scores, and float32 softmax or cumulative sums change the sets.
//
// Conventions (checked against TorchCP's score/lac.py, aps.py, raps.py, predictor/split.py, class_conditional.py
// and utils/common.py calculate_conformal_value):
// - p = softmax(logits) in float64 (max-shifted, exp-sum added in class order). A class is in the set when its own
//   score ≤ q̂ (so sets can be empty, as in TorchCP).
// - Classes are ranked by p descending, ties by class index ascending (TorchCP leaves tie order to torch.sort).
//   APS score of the class at rank r = p summed over ranks 1..r, added in rank order; randomized, the last term
//   is u·p_c instead of p_c, with one u per row shared by its classes (Romano et al.; TorchCP draws one u per class).
//   The sums are plain float64: a last class summing to 1 + 1 ulp is left out when q̂ = 1, exactly as in the reference.
// - RAPS adds λ·max(0, r − k_reg), r 1-based (TorchCP: penalty·max(0, idx + 1 − kreg)).
// - q̂ = the m-th smallest calibration score, m = ⌈(n+1)(1−α)⌉, +∞ when m > n or n = 0 (TorchCP: kthvalue).
// - Rows whose label is outside [0, k) (−1 = unlabelled) or with a non-finite logit are left out of calibration
//   and of every test metric; their prediction set is still computed (empty when a logit is non-finite).
//   Every test metric (coverage, set sizes) is over the same usable test rows, n of them.

import { finiteRow, softmaxInto } from '../util/rows';

export type ConformalMethod = 'lac' | 'aps' | 'raps' | 'lac_classwise';
export interface ConformalOptions {
  /** Miscoverage level in (0, 1). */
  alpha: number;
  /** RAPS λ (default 0.1) and k_reg (default 1). */
  rapsLambda?: number; rapsKReg?: number;
  /** APS/RAPS randomized scores (default false), uniforms from mulberry32(seed) (default seed 0). */
  randomized?: boolean; seed?: number;
}
export interface ConformalSplit { logits: Float32Array; labels: Int32Array }
export interface ConformalResult {
  method: ConformalMethod; alpha: number;
  /** q̂ (for lac_classwise: null, with per-class q̂ in qhat_per_class) — +Infinity when k > n. */
  qhat: number | null; qhat_per_class?: (number | null)[];
  n_calib: number; n: number;
  coverage: number; mean_set_size: number; empty_fraction: number; singleton_fraction: number;
  /** Per class c: coverage among test samples of class c (null when none); covgap = mean over classes with samples of |coverage_c − (1 − α)|. */
  per_class_coverage: (number | null)[]; covgap: number;
  /** set_size_counts[s] = test rows whose set has s classes (s = 0..k), for the set-size histogram. */
  set_size_counts: number[];
}

/**
 * mulberry32: the randomized scores' uniforms, u = draw / 2³² in [0, 1). Row i of a split takes draw i (every row
 * draws, labelled or not); calibration uses `seed`, test rows `seed + 1`, so the two streams differ.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * m = ⌈(n+1)(1−α)⌉. 1 − α carries at most about one ε of absolute error (α's own rounding plus the subtraction), so
 * the product is off by ≲ 2ε(n+1): a value within 4ε(n+1) above an integer is taken as that integer (α = 0.45,
 * n = 99 gives 55.00000000000001 → 55, where TorchCP's plain math.ceil takes 56).
 */
export function conformalRank(n: number, alpha: number): number {
  return Math.ceil((n + 1) * (1 - alpha) - 4 * Number.EPSILON * (n + 1));
}

/** q̂ from unsorted calibration scores: the m-th smallest, +∞ when m > n (too few scores to guarantee 1 − α). */
export function conformalQuantile(scores: ArrayLike<number>, alpha: number): number {
  const n = scores.length;
  const m = conformalRank(n, alpha);
  if (n === 0 || m > n) return Infinity;
  return Float64Array.from(scores).sort()[Math.max(1, m) - 1];
}

/** softmax of row `row` into p (float64); false when a logit is non-finite. */
function softmaxRow(logits: Float32Array, row: number, k: number, p: Float64Array): boolean {
  if (!finiteRow(logits, row, k)) return false;
  softmaxInto(logits, row * k, k, p);
  return true;
}

/** Scores of every class of one row (u: the row's uniform, used only when randomized). */
function classScores(method: ConformalMethod, p: Float64Array, u: number, opts: ConformalOptions, order: number[], out: Float64Array): void {
  const k = p.length;
  if (method === 'lac' || method === 'lac_classwise') {
    for (let c = 0; c < k; c++) out[c] = 1 - p[c];
    return;
  }
  for (let c = 0; c < k; c++) order[c] = c;
  order.sort((a, b) => p[b] - p[a] || a - b);
  const lam = method === 'raps' ? opts.rapsLambda ?? 0.1 : 0;
  const kreg = opts.rapsKReg ?? 1;
  let before = 0; // Σ p over the higher ranks
  for (let r = 0; r < k; r++) {
    const c = order[r];
    out[c] = (opts.randomized ? before + u * p[c] : before + p[c]) + (lam ? lam * Math.max(0, r + 1 - kreg) : 0);
    before += p[c];
  }
}

function validate(k: number, opts: ConformalOptions): void {
  if (!(opts.alpha > 0 && opts.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${opts.alpha}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const kreg = opts.rapsKReg ?? 1;
  if (!(Number.isInteger(kreg) && kreg >= 0)) throw new RangeError(`rapsKReg must be a nonnegative integer, got ${kreg}`);
  if (!((opts.rapsLambda ?? 0.1) >= 0)) throw new RangeError(`rapsLambda must be ≥ 0, got ${opts.rapsLambda}`);
}

/** Calibration scores (score of the true class) of the usable rows, and their labels. */
function calibrationScores(method: ConformalMethod, calib: ConformalSplit, k: number, opts: ConformalOptions): { scores: Float64Array; labels: Int32Array } {
  const n = calib.labels.length;
  const rand = mulberry32(opts.seed ?? 0);
  const p = new Float64Array(k), s = new Float64Array(k), order: number[] = new Array(k);
  const scores = new Float64Array(n), labels = new Int32Array(n);
  let N = 0;
  for (let i = 0; i < n; i++) {
    const u = rand();
    const y = calib.labels[i];
    if (y < 0 || y >= k || !softmaxRow(calib.logits, i, k, p)) continue;
    classScores(method, p, u, opts, order, s);
    scores[N] = s[y];
    labels[N++] = y;
  }
  return { scores: scores.subarray(0, N), labels: labels.subarray(0, N) };
}

/** q̂ per class for lac_classwise (each from that class's calibration scores alone), else one q̂ for every class. */
export function calibrateConformal(method: ConformalMethod, calib: ConformalSplit, k: number, opts: ConformalOptions): { qhat: Float64Array; n_calib: number } {
  validate(k, opts);
  if (calib.logits.length !== calib.labels.length * k) throw new RangeError('calibration logits must be [n, k] with n = labels.length');
  const { scores, labels } = calibrationScores(method, calib, k, opts);
  if (method !== 'lac_classwise') return { qhat: Float64Array.of(conformalQuantile(scores, opts.alpha)), n_calib: scores.length };
  const qhat = new Float64Array(k);
  for (let c = 0; c < k; c++) qhat[c] = conformalQuantile(scores.filter((_, i) => labels[i] === c), opts.alpha);
  return { qhat, n_calib: scores.length };
}

/**
 * Prediction sets of every row of `logits` [n, k] as a bitmask [n, k] (1 = in the set): class c is in when its score
 * ≤ q̂ (qhat of length 1) or ≤ q̂_c (length k, lac_classwise). Randomized rows draw from mulberry32(seed + 1).
 */
export function predictionSets(method: ConformalMethod, logits: Float32Array, k: number, qhat: ArrayLike<number>, opts: ConformalOptions): Uint8Array {
  const n = Math.floor(logits.length / k);
  const rand = mulberry32((opts.seed ?? 0) + 1);
  const p = new Float64Array(k), s = new Float64Array(k), order: number[] = new Array(k);
  const sets = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (!softmaxRow(logits, i, k, p)) continue;
    classScores(method, p, u, opts, order, s);
    for (let c = 0; c < k; c++) sets[i * k + c] = s[c] <= qhat[qhat.length === 1 ? 0 : c] ? 1 : 0;
  }
  return sets;
}

/** Calibrate on `calib`, predict `test`, and measure the sets on the usable (labelled, finite) test rows. */
export function conformal(method: ConformalMethod, calib: ConformalSplit, test: ConformalSplit, k: number, opts: ConformalOptions): ConformalResult {
  const { qhat, n_calib } = calibrateConformal(method, calib, k, opts);
  if (test.logits.length !== test.labels.length * k) throw new RangeError('test logits must be [n, k] with n = labels.length');
  const sets = predictionSets(method, test.logits, k, qhat, opts);
  const count = new Float64Array(k), hit = new Float64Array(k);
  const sizes = new Array<number>(k + 1).fill(0);
  let n = 0, covered = 0, size = 0, empty = 0, single = 0;
  for (let i = 0; i < test.labels.length; i++) {
    const y = test.labels[i];
    if (y < 0 || y >= k || !finiteRow(test.logits, i, k)) continue;
    let sz = 0;
    for (let c = 0; c < k; c++) sz += sets[i * k + c];
    n++;
    size += sz;
    sizes[sz]++;
    if (sz === 0) empty++;
    if (sz === 1) single++;
    count[y]++;
    if (sets[i * k + y]) { hit[y]++; covered++; }
  }
  const perClass = Array.from(count, (c, y) => (c ? hit[y] / c : null));
  const present = perClass.filter((v): v is number => v !== null);
  const covgap = present.reduce((a, v) => a + Math.abs(v - (1 - opts.alpha)), 0) / present.length;
  return {
    method, alpha: opts.alpha,
    qhat: method === 'lac_classwise' ? null : qhat[0],
    ...(method === 'lac_classwise' ? { qhat_per_class: Array.from(qhat) } : {}),
    n_calib, n,
    coverage: covered / n, mean_set_size: size / n, empty_fraction: empty / n, singleton_fraction: single / n,
    per_class_coverage: perClass, covgap, set_size_counts: sizes,
  };
}
