// Exact OOD detection metrics (every score: higher = more OOD; OOD is the positive class unless stated).
// Both splits are sorted once (NaN scores excluded and counted; ±Infinity are ordinary values); every metric
// comes from one merge walk over the two sorted arrays, so ties are handled exactly (all samples sharing a score
// move together, as in sklearn's roc_curve) and no per-sample objects are made.
import type { CurveSet } from '../report/types';
import { sortedWithoutNaN } from './sort';

export interface OodMetrics {
  n_id: number;
  n_ood: number;
  /** NaN scores, left out of every metric. */
  n_excluded_id: number;
  n_excluded_ood: number;
  /** sklearn roc_auc_score with OOD positive (ties count ½). */
  auroc: number;
  /** sklearn average_precision_score with OOD positive (step-wise, not trapezoid). */
  aupr_out: number;
  /** average_precision_score with ID positive on the negated score. */
  aupr_in: number;
  /** Fraction of OOD with score ≤ t, t = k-th smallest ID score, k = ceil(0.95·n_id). */
  fpr95: number;
  fpr95_threshold: number;
  /** ID false-positive rate at the first ROC point (exact, all thresholds) where OOD TPR ≥ 0.95. */
  fpr95_ood_positive: number;
  /** min over thresholds of ½(FPR + FNR), including flag-nothing and flag-everything. */
  detection_error: number;
  /** Set when the metrics are NaN because a split has no usable scores. */
  reason?: string;
}

export type OodMetricName = 'auroc' | 'aupr_out' | 'aupr_in' | 'fpr95' | 'fpr95_threshold' | 'fpr95_ood_positive' | 'detection_error';
export const OOD_METRIC_NAMES: readonly OodMetricName[] = ['auroc', 'aupr_out', 'aupr_in', 'fpr95', 'fpr95_threshold', 'fpr95_ood_positive', 'detection_error'];

/** k = ceil(q·n), in [1, n], ignoring the few ulps by which q·n can land above an integer (e.g. 0.95·n). */
export function keepCount(n: number, q: number): number {
  const qn = q * n;
  const k = Math.ceil(qn - 4 * Number.EPSILON * qn);
  return Math.min(n, Math.max(1, k));
}

export function oodMetrics(id: Float64Array, ood: Float64Array): OodMetrics {
  return metricsFromSorted(sortedWithoutNaN(id), sortedWithoutNaN(ood), id.length, ood.length);
}

/** Scores of one split as the metrics read them: sorted without NaN (see sortedWithoutNaN), and how many there were. */
export interface SortedScores {
  sorted: Float64Array;
  total: number;
}

export function sortScores(scores: Float64Array): SortedScores {
  return { sorted: sortedWithoutNaN(scores), total: scores.length };
}

/** oodMetrics on splits sorted beforehand, for callers that also draw curves or fit thresholds on them. */
export function oodMetricsOfSorted(id: SortedScores, ood: SortedScores): OodMetrics {
  return metricsFromSorted(id.sorted, ood.sorted, id.total, ood.total);
}

function emptyMetrics(nId: number, nOod: number, exId: number, exOod: number, reason: string): OodMetrics {
  return {
    n_id: nId, n_ood: nOod, n_excluded_id: exId, n_excluded_ood: exOod,
    auroc: NaN, aupr_out: NaN, aupr_in: NaN, fpr95: NaN, fpr95_threshold: NaN, fpr95_ood_positive: NaN, detection_error: NaN,
    reason,
  };
}

function metricsFromSorted(a: Float64Array, b: Float64Array, totalId: number, totalOod: number): OodMetrics {
  const nId = a.length;
  const nOod = b.length;
  const exId = totalId - nId;
  const exOod = totalOod - nOod;
  if (nId === 0 || nOod === 0) {
    const which = nId === 0 && nOod === 0 ? 'ID and OOD splits have' : nId === 0 ? 'ID split has' : 'OOD split has';
    return emptyMetrics(nId, nOod, exId, exOod, `${which} no scores (empty or all NaN)`);
  }

  // One ascending walk over the distinct scores v. ID-positive metrics (AUPR-In on −score) use the counts ≤ v;
  // OOD-positive ones (sklearn's descending thresholds, flag score ≥ v) use the counts ≥ v: tp = nOod − oodBelow,
  // fp = nId − idBelow. Their sums do not depend on the walk direction.
  let i = 0;
  let j = 0;
  let idBelow = 0;
  let oodBelow = 0;
  let aucSum = 0;
  let apIn = 0;
  let apOut = 0;
  let fprAtTpr95 = NaN; // set at the first v (tpr = 1 there), then while tpr stays ≥ 0.95
  let detErr = 0.5; // flag nothing: FPR 0, FNR 1
  while (i < nId || j < nOod) {
    const v = i < nId && (j >= nOod || a[i] <= b[j]) ? a[i] : b[j];
    let ci = 0;
    let co = 0;
    while (i < nId && a[i] === v) { i++; ci++; }
    while (j < nOod && b[j] === v) { j++; co++; }
    const tp = nOod - oodBelow;
    const fp = nId - idBelow;
    aucSum += co * (idBelow + 0.5 * ci);
    if (co > 0) apOut += (co / nOod) * (tp / (tp + fp));
    const tpr = tp / nOod;
    const fpr = fp / nId;
    if (tpr >= 0.95) fprAtTpr95 = fpr; // the last such v ascending = the first descending
    const e = 0.5 * (fpr + 1 - tpr);
    if (e < detErr) detErr = e;
    idBelow += ci;
    oodBelow += co;
    if (ci > 0) apIn += (ci / nId) * (idBelow / (idBelow + oodBelow));
  }

  const t = a[keepCount(nId, 0.95) - 1];
  return {
    n_id: nId, n_ood: nOod, n_excluded_id: exId, n_excluded_ood: exOod,
    auroc: aucSum / nId / nOod,
    aupr_out: apOut,
    aupr_in: apIn,
    fpr95: countAtMost(b, t) / nOod,
    fpr95_threshold: t,
    fpr95_ood_positive: fprAtTpr95,
    detection_error: detErr,
  };
}

/** Number of values ≤ t in an ascending array (binary search). */
export function countAtMost(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type Curves = Omit<CurveSet, 'model' | 'split' | 'score'>;

/**
 * ROC and PR curves with OOD positive, exact points downsampled for drawing: points are kept at equal steps of
 * L1 arc length (so steep and flat parts both keep their shape), plus both ends and the fpr95 operating point.
 * PR starts at (recall 0, precision 1) as in sklearn's precision_recall_curve, then one point per threshold
 * that flags at least one OOD sample. Points are computed on the fly (O(maxPoints) memory beyond the sorts).
 */
export function rocPrCurves(id: Float64Array, ood: Float64Array, maxPoints = 1000): Curves {
  return curvesOfSorted(sortedWithoutNaN(id), sortedWithoutNaN(ood), maxPoints);
}

/** rocPrCurves on ascending NaN-free scores (SortedScores.sorted). */
export function curvesOfSorted(a: Float64Array, b: Float64Array, maxPoints = 1000): Curves {
  const nId = a.length;
  const nOod = b.length;
  if (nId === 0 || nOod === 0) {
    return { roc: { fpr: [], tpr: [] }, pr: { recall: [], precision: [] }, fpr95Point: { fpr: NaN, tpr: NaN } };
  }
  const t = a[keepCount(nId, 0.95) - 1];
  // Flagging score > t is the ROC point reached just before the threshold t is passed (counts strictly above t).
  const fp95 = nId - countAtMost(a, t);
  const tp95 = nOod - countAtMost(b, t);
  const fpr95Point = { fpr: fp95 / nId, tpr: tp95 / nOod };

  // ROC: from (0, 0) to (1, 1), monotone, so its L1 length is exactly 2.
  const roc = new CurveSampler(maxPoints, 2, true);
  roc.add(0, 0, false);
  walkDescending(a, b, (tp, fp, last) => roc.add(fp / nId, tp / nOod, last, fp === fp95 && tp === tp95));

  // PR: a first walk measures its L1 length, the second samples it.
  let length = 0;
  let px = 0;
  let py = 1;
  walkDescending(a, b, (tp, fp) => {
    if (tp === 0) return;
    const x = tp / nOod;
    const y = tp / (tp + fp);
    length += Math.abs(x - px) + Math.abs(y - py);
    px = x;
    py = y;
  });
  const pr = new CurveSampler(maxPoints, length, false);
  pr.add(0, 1, false);
  walkDescending(a, b, (tp, fp, last) => {
    if (tp > 0) pr.add(tp / nOod, tp / (tp + fp), last);
  });

  return { roc: { fpr: roc.xs, tpr: roc.ys }, pr: { recall: pr.xs, precision: pr.ys }, fpr95Point };
}

/** Calls visit(tp, fp, isLast) per distinct score from the top: counts of OOD / ID with score ≥ that value. */
function walkDescending(a: Float64Array, b: Float64Array, visit: (tp: number, fp: number, last: boolean) => void): void {
  let i = a.length - 1;
  let j = b.length - 1;
  let tp = 0;
  let fp = 0;
  while (i >= 0 || j >= 0) {
    const v = i >= 0 && (j < 0 || a[i] >= b[j]) ? a[i] : b[j];
    while (i >= 0 && a[i] === v) { i--; fp++; }
    while (j >= 0 && b[j] === v) { j--; tp++; }
    visit(tp, fp, i < 0 && j < 0);
  }
}

/** Keeps the first and last points, any point marked `keep`, and points at equal L1 arc-length steps between. */
class CurveSampler {
  readonly xs: number[] = [];
  readonly ys: number[] = [];
  private walked = 0;
  private next: number;
  private readonly step: number;
  private px = NaN;
  private py = NaN;

  constructor(private readonly maxPoints: number, length: number, reserveKeep: boolean) {
    this.step = length / Math.max(1, maxPoints - (reserveKeep ? 3 : 2));
    this.next = this.step;
  }

  add(x: number, y: number, last: boolean, keep = false): void {
    if (this.xs.length > 0) this.walked += Math.abs(x - this.px) + Math.abs(y - this.py);
    this.px = x;
    this.py = y;
    const first = this.xs.length === 0;
    const due = this.walked >= this.next && this.xs.length < this.maxPoints - 2;
    if (first || last || keep || due) {
      this.xs.push(x);
      this.ys.push(y);
      if (due) this.next = this.walked + this.step;
    }
  }
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  alpha?: number;
}

/**
 * Percentile bootstrap: ID and OOD (non-NaN scores) are resampled with replacement separately, so each
 * resample keeps the split sizes (O(n) per resample, no re-sort); the interval is the (α/2, 1−α/2) quantiles with numpy's default linear
 * interpolation. Deterministic for a given seed (mulberry32).
 */
export function bootstrapCI(
  id: Float64Array,
  ood: Float64Array,
  metrics: readonly OodMetricName[],
  opts: BootstrapOptions = {},
): Record<string, { lo: number; hi: number }> {
  const resamples = opts.resamples ?? 200;
  const alpha = opts.alpha ?? 0.05;
  const rand = mulberry32(opts.seed ?? 0);
  const a = sortedWithoutNaN(id);
  const b = sortedWithoutNaN(ood);
  const values: Record<string, Float64Array> = {};
  for (const name of metrics) values[name] = new Float64Array(resamples);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const counts = new Uint32Array(Math.max(a.length, b.length));
  for (let r = 0; r < resamples; r++) {
    resampleSorted(a, ra, counts, rand);
    resampleSorted(b, rb, counts, rand);
    const m = metricsFromSorted(ra, rb, a.length, b.length);
    for (const name of metrics) values[name][r] = m[name];
  }
  const out: Record<string, { lo: number; hi: number }> = {};
  for (const name of metrics) {
    const v = sortedWithoutNaN(values[name]);
    out[name] = { lo: quantile(v, alpha / 2), hi: quantile(v, 1 - alpha / 2) };
  }
  return out;
}

/**
 * A with-replacement resample of an ascending array, itself ascending without a sort: draw how many times each
 * index is picked, then write each value that many times in order.
 */
function resampleSorted(src: Float64Array, dst: Float64Array, counts: Uint32Array, rand: () => number): void {
  const n = src.length;
  counts.fill(0, 0, n);
  for (let i = 0; i < n; i++) counts[Math.floor(rand() * n)]++;
  let w = 0;
  for (let i = 0; i < n; i++) for (let c = counts[i]; c > 0; c--) dst[w++] = src[i];
}

/** numpy.quantile (linear) on an ascending array; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** mulberry32: a small, fast, seedable 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
