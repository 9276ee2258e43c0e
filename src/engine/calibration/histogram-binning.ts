// Top-label histogram binning (Zadrozny & Elkan 2001; Gupta & Ramdas 2022 for the top label): the calibration
// confidences are cut into equal-mass bins and each bin maps to the accuracy of its calibration samples.
// Bins: binned-estimators.ts's equalMassUpperEdges (Kumar et al.'s get_equal_bins: min(B, n) chunks split as
// numpy.array_split does, edges halfway between neighbouring chunks, the last edge 1, duplicates dropped); a bin is
// (previous edge, edge], the first one open below. Ties can leave a bin empty; its range joins the next bin (the last
// bin, when empty, joins the one before), so every bin maps to an observed accuracy.
import { equalMassUpperEdges } from '../metrics/binned-estimators';

/** Bins of the fit (15, like the ECE bins; fewer when the calibration split has fewer samples). */
export const HISTOGRAM_BINS = 15;

export interface HistogramBinning {
  /** Upper edges, increasing, the last one 1. */
  edges: number[];
  /** Calibrated confidence of each bin: the fraction of its calibration samples that were right. */
  values: number[];
}

/** Index of the bin of c: the number of edges below c, at most edges.length − 1. */
export function histogramBin(edges: ArrayLike<number>, c: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function fitHistogramBinning(conf: Float64Array, correct: ArrayLike<number>, B = HISTOGRAM_BINS): HistogramBinning {
  if (conf.length === 0) throw new RangeError('histogram binning needs calibration samples');
  const raw = equalMassUpperEdges(conf, B);
  const count = new Float64Array(raw.length);
  const hits = new Float64Array(raw.length);
  for (let i = 0; i < conf.length; i++) {
    const b = histogramBin(raw, conf[i]);
    count[b]++;
    hits[b] += correct[i];
  }
  const kept = raw.map((_, b) => b).filter((b) => count[b] > 0);
  const edges = kept.map((b) => raw[b]);
  edges[edges.length - 1] = 1;
  return { edges, values: kept.map((b) => hits[b] / count[b]) };
}

export function applyHistogramBinning(h: HistogramBinning, c: number): number {
  return h.values[histogramBin(h.edges, c)];
}
