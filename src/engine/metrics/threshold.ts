// Deployment thresholds fitted on one split alone (no OOD data needed). A sample is flagged OOD when score > t.
import { keepCount } from './ood-metrics';
import { sortedWithoutNaN } from './sort';

/**
 * The threshold keeping a fraction `keep` of the split: t = k-th smallest non-NaN score, k = ceil(keep·n)
 * (the same rule as fpr95's threshold, so deploymentThreshold(id, 0.95) === fpr95_threshold). NaN when every
 * score is NaN.
 */
export function deploymentThreshold(scores: Float64Array, keep = 0.95): number {
  return thresholdOfSorted(sortedWithoutNaN(scores), keep);
}

/** deploymentThreshold on ascending NaN-free scores. */
export function thresholdOfSorted(s: Float64Array, keep = 0.95): number {
  return s.length ? s[keepCount(s.length, keep) - 1] : NaN;
}

/** Fraction of the scores above t, NaN scores left out (NaN when none is left or t is NaN). */
export function flaggedFraction(scores: Float64Array, t: number): number {
  let n = 0;
  let above = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (v !== v) continue;
    n++;
    if (v > t) above++;
  }
  return n && t === t ? above / n : NaN;
}

export interface ScaledEntropyThreshold {
  /** Threshold on the min-max scaled entropy, in [0, 1]. */
  scaled: number;
  /** The same threshold in entropy units (nats): min + scaled·(max − min). */
  raw: number;
  /** Scaling fitted on the split: scaled = (H − min) / (max − min). */
  min: number;
  max: number;
}

/**
 * The seed blog's recipe: entropy min-max scaled to [0, 1] on the fitting split, threshold at its q quantile.
 * "Quantile" uses the same k-th smallest rule as deploymentThreshold (the scaling is monotone, so the raw
 * threshold equals deploymentThreshold(entropy, q) and flags the same samples). When all entropies are equal,
 * max − min = 0 and scaled is 0.
 */
export function scaledEntropyThreshold(entropy: Float64Array, q = 0.95): ScaledEntropyThreshold {
  return scaledEntropyOfSorted(sortedWithoutNaN(entropy), q);
}

/** scaledEntropyThreshold on ascending NaN-free entropies. */
export function scaledEntropyOfSorted(s: Float64Array, q = 0.95): ScaledEntropyThreshold {
  if (!s.length) return { scaled: NaN, raw: NaN, min: NaN, max: NaN };
  const min = s[0];
  const max = s[s.length - 1];
  const raw = s[keepCount(s.length, q) - 1];
  return { scaled: max > min ? (raw - min) / (max - min) : 0, raw, min, max };
}

/** Min-max scaling with a fitted (min, max), for applying the scaled threshold to new samples. */
export function minMaxScale(values: Float64Array, min: number, max: number): Float64Array {
  const out = new Float64Array(values.length);
  const range = max - min;
  for (let i = 0; i < values.length; i++) out[i] = range > 0 || values[i] !== values[i] ? (values[i] - min) / range : 0;
  return out;
}
