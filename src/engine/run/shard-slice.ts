// Deterministic slices of a split for `--shard I/N`. Slices are whole inference batches of the single run (batch j
// holds listing indices [j·B, (j + 1)·B)), so every shard runs exactly the batches a single run would: onnxruntime
// then returns the same bits, and merged numbers equal the single run's to the last digit.
import type { SplitPlan } from './plan';

export interface Shard {
  index: number;
  count: number;
}

/** Listing indices [start, end) of shard `index` of `count`, for a split of `n` samples in batches of `batch`. */
export function shardRange(n: number, batch: number, shard: Shard): { start: number; end: number } {
  const chunks = Math.ceil(n / batch);
  const first = Math.floor((shard.index * chunks) / shard.count);
  const last = Math.floor(((shard.index + 1) * chunks) / shard.count);
  return { start: Math.min(n, first * batch), end: Math.min(n, last * batch) };
}

/** The part of `plan` a shard collects; listing-level skips stay with the whole split (the shard file keeps them). */
export function slicePlan(plan: SplitPlan, range: { start: number; end: number }): SplitPlan {
  const count = range.end - range.start;
  if (plan.noise) return { ...plan, skipped: [], noise: { ...plan.noise, count, offset: (plan.noise.offset ?? 0) + range.start } };
  const indices = Int32Array.from({ length: count }, (_, i) => range.start + i);
  return { ...plan, skipped: [], files: plan.files.subset(indices), folderClass: plan.folderClass.slice(range.start, range.end), size: undefined };
}
