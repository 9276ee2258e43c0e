import type { HistogramSet } from '../report/types';

/** Histogram of one score over several splits on shared equal-width edges spanning every finite value. */
export function histogram(model: string, score: string, bySplit: Map<string, Float64Array>, bins: number, threshold: number | null): HistogramSet {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of bySplit.values()) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (Number.isFinite(x)) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
  }
  if (!Number.isFinite(lo)) return { model, score, edges: [], counts: {}, threshold };
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const counts: Record<string, number[]> = {};
  for (const [split, v] of bySplit) {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!Number.isFinite(x)) continue;
      c[Math.min(bins - 1, Math.floor((x - lo) / width))]++;
    }
    counts[split] = c;
  }
  return { model, score, edges, counts, threshold };
}
