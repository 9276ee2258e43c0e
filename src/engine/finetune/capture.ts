// Keeps every collected feature row and logit row of one model, per split, from runScore's onFeatures tap.
import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from '../run/plan';
import { planSize } from '../run/plan';
import { UserError } from '../util/errors';

/** Features and logits of one split are kept whole: at most this many floats in all (512 MB). */
const MAX_FLOATS = 128 * 1024 * 1024;

export interface CapturedSplit {
  plan: SplitPlan;
  features: Float32Array;
  logits: Float32Array;
  folderClass: Int32Array;
  /** Rows received (the highest offset + n: rows that failed to decode leave no gap, collect packs them). */
  n: number;
  d: number;
  k: number;
}

export class FeatureCapture {
  readonly splits = new Map<string, CapturedSplit>();
  private floats = 0;
  model: ModelPlan | null = null;

  /** runScore's onFeatures hook. */
  readonly onFeatures = (model: ModelPlan, split: SplitPlan, features: Float32Array | null, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): void => {
    if (!features) throw new UserError(`${model.name} has no feature tensor: fine-tuning needs the input of the final linear layer (name it with --features-node)`);
    this.model = model;
    const k = logits.length / n;
    let s = this.splits.get(split.name);
    if (!s) {
      const rows = planSize(split);
      this.floats += rows * (d + k);
      if (this.floats > MAX_FLOATS) throw new UserError(`Fine-tuning keeps every feature row in memory: ${this.floats.toLocaleString('en-US')} floats is over the ${MAX_FLOATS.toLocaleString('en-US')} it allows (use smaller fit or outlier sets)`);
      s = { plan: split, features: new Float32Array(rows * d), logits: new Float32Array(rows * k), folderClass: new Int32Array(rows).fill(-1), n: 0, d, k };
      this.splits.set(split.name, s);
    }
    s.features.set(features.subarray(0, n * d), offset * d);
    s.logits.set(logits.subarray(0, n * k), offset * k);
    s.folderClass.set(folderClass.subarray(0, n), offset);
    s.n = Math.max(s.n, offset + n);
  };

  /** A split's rows, trimmed to those received. */
  get(name: string): CapturedSplit | undefined {
    const s = this.splits.get(name);
    if (!s) return undefined;
    return { ...s, features: s.features.subarray(0, s.n * s.d), logits: s.logits.subarray(0, s.n * s.k), folderClass: s.folderClass.subarray(0, s.n) };
  }
}
