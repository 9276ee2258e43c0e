// Two binned estimators beside the plug-in ECE: Kumar, Liang & Ma's debiased l2 error (the plug-in squared gap is
// biased upward by the label noise in each bin) and Gupta & Ramdas' top-label ECE (bins split by predicted class).

/**
 * Equal-mass bin upper edges as verified_calibration's get_equal_bins builds them: sort, split into min(B, n) chunks as
 * numpy.array_split does, an edge halfway between neighbouring chunks, then 1.0; duplicates dropped. Tied values
 * never straddle an edge (the midpoint of two equal values is that value, and a value on an edge joins the lower bin).
 */
export function equalMassUpperEdges(conf: Float64Array, B: number): number[] {
  const sorted = Float64Array.from(conf).sort();
  const n = sorted.length;
  const parts = Math.min(B, n);
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const edges: number[] = [];
  let end = 0;
  for (let p = 0; p < parts - 1; p++) {
    end += base + (p < extra ? 1 : 0);
    edges.push((sorted[end - 1] + sorted[end]) / 2);
  }
  edges.push(1);
  return [...new Set(edges)].sort((a, b) => a - b);
}

/** Index of the first edge ≥ x (numpy.searchsorted side 'left'): bins are (previous edge, edge]. */
function upperEdgeIndex(edges: number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, edges.length - 1);
}

/**
 * Debiased l2 calibration error (Kumar et al. 2019, lower_bound_scaling_ce with p = 2, debias): over equal-mass bins,
 * sqrt(max(0, Σ_b (n_b/N)·[(mean conf_b − mean y_b)² − ȳ_b(1 − ȳ_b)/(n_b − 1)])), bins with n_b < 2 contributing 0.
 */
export function debiasedEce(conf: Float64Array, correct: ArrayLike<number>, B = 15): number {
  const N = conf.length;
  if (N === 0) return NaN;
  const edges = equalMassUpperEdges(conf, B);
  const count = new Float64Array(edges.length);
  const sumConf = new Float64Array(edges.length);
  const sumY = new Float64Array(edges.length);
  for (let i = 0; i < N; i++) {
    const b = upperEdgeIndex(edges, conf[i]);
    count[b]++;
    sumConf[b] += conf[i];
    sumY[b] += correct[i];
  }
  let sq = 0;
  for (let b = 0; b < edges.length; b++) {
    const c = count[b];
    if (c < 2) continue;
    const y = sumY[b] / c;
    const gap = sumConf[b] / c - y;
    sq += (c / N) * (gap * gap - (y * (1 - y)) / (c - 1));
  }
  return Math.sqrt(Math.max(sq, 0));
}

/**
 * Top-label ECE (Gupta & Ramdas 2022): for each predicted class c, the equal-width (lo, hi] ECE of the top confidence
 * against 1[y = c] over the samples predicted c, weighted by n_c / N; i.e. Σ_{c,b} (n_cb/N)|acc_cb − conf_cb|. With
 * the same B bins as `ece` it is ≥ ece (each ece bin is split by class). Classes never predicted contribute nothing.
 * `bin` holds each sample's equal-width bin (binIndex), `pred` its predicted class in [0, k).
 */
export function topLabelEce(conf: Float64Array, correct: ArrayLike<number>, pred: Int32Array, bin: Int32Array, k: number, B: number): number {
  const N = conf.length;
  if (N === 0) return NaN;
  const count = new Float64Array(k * B);
  const sumConf = new Float64Array(k * B);
  const sumY = new Float64Array(k * B);
  for (let i = 0; i < N; i++) {
    const cell = pred[i] * B + bin[i];
    count[cell]++;
    sumConf[cell] += conf[i];
    sumY[cell] += correct[i];
  }
  let ece = 0;
  for (let cell = 0; cell < k * B; cell++) {
    const c = count[cell];
    if (c) ece += (c / N) * Math.abs(sumY[cell] / c - sumConf[cell] / c);
  }
  return ece;
}
