// Consistency bands for a binned reliability diagram (Bröcker & Smith 2007, "Increasing the reliability of
// reliability diagrams"): keep every sample's confidence and its bin, redraw its correctness as y* ~ Bernoulli(conf),
// and recompute each bin's accuracy. The per-bin quantiles of those accuracies are where the bars of a perfectly
// calibrated model with the same confidences would fall; a bar outside its band is evidence of miscalibration there.
import { mulberry32, quantile } from './ood-metrics';

export interface ConsistencyOptions {
  /** Resamples (default 1000). */
  resamples?: number;
  /** mulberry32 seed (default 0). Draws go resample by resample, sample by sample in input order. */
  seed?: number;
  /** Band quantiles, numpy's linear interpolation (default 0.05 and 0.95). */
  lower?: number;
  upper?: number;
}

export const CONSISTENCY_RESAMPLES = 1000;

/** Per bin [lower, upper] quantiles of the resampled accuracy; null for an empty bin. */
export function consistencyBands(conf: Float64Array, bin: Int32Array, B: number, opts: ConsistencyOptions = {}): ({ lo: number; hi: number } | null)[] {
  const R = opts.resamples ?? CONSISTENCY_RESAMPLES;
  const rand = mulberry32(opts.seed ?? 0);
  const count = new Float64Array(B);
  for (let i = 0; i < conf.length; i++) count[bin[i]]++;
  const acc = new Float64Array(B * R); // bin-major, so each bin's R values are contiguous
  const hits = new Float64Array(B);
  for (let r = 0; r < R; r++) {
    hits.fill(0);
    for (let i = 0; i < conf.length; i++) if (rand() < conf[i]) hits[bin[i]]++;
    for (let b = 0; b < B; b++) if (count[b]) acc[b * R + r] = hits[b] / count[b];
  }
  const out: ({ lo: number; hi: number } | null)[] = [];
  for (let b = 0; b < B; b++) {
    if (!count[b]) {
      out.push(null);
      continue;
    }
    const v = acc.subarray(b * R, (b + 1) * R).sort();
    out.push({ lo: quantile(v, opts.lower ?? 0.05), hi: quantile(v, opts.upper ?? 0.95) });
  }
  return out;
}
