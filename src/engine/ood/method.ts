// One shape for every post-hoc OOD method (as oodeel's one class per method): what it needs, a streaming fit over
// the fit split's batches, and a score over a batch. Scores are oriented higher = more OOD, computed in float64.
import type { LastLayer } from '../onnx/last-layer';
import type { Dense } from '../linalg/dense';

/** One batch of samples, row-major. */
export interface Batch {
  /** [n, d] penultimate features (the input of the final linear layer); null when the model has none. */
  features: Float32Array | null;
  /** [n, k] logits. */
  logits: Float32Array;
  /** [n] model class index of each sample's folder, −1 when unlabelled (fit split only; −1 elsewhere). */
  labels: Int32Array;
  n: number;
}

export interface MethodContext {
  /** Feature dimension (0 without features) and number of classes. */
  d: number;
  k: number;
  /** W [k, d] and b [k] of the final linear layer (logits = W·h + b); null when not readable. */
  layer: LastLayer | null;
  /** The method's defaults with the user's `--param name.key=value` applied. */
  params: Record<string, number>;
  /** Where the heavy products, searches and eigen-decompositions run (onnxruntime in a run). */
  dense: Dense;
}

export interface OodDetector {
  /** One batch of the fit split (only for methods whose `needs.fit` is true). */
  fit?(batch: Batch): void | Promise<void>;
  /** After the last fit batch. */
  finish?(): void | Promise<void>;
  /** Scores of one batch, higher = more OOD; NaN for rows with a non-finite input. */
  score(batch: Batch): Float64Array | Promise<Float64Array>;
}

export interface MethodSpec {
  /** The `--scores` name. */
  name: string;
  needs: { features: boolean; lastLayer: boolean; fit: boolean };
  /** Defaults (OpenOOD v1.5's configs/postprocessors/*.yml unless `source` says otherwise). */
  defaults: Record<string, number>;
  /** The score in one line, for the README table and `--help`. */
  formula: string;
  /** The paper, and where the defaults and conventions come from. */
  source: string;
  create(ctx: MethodContext): OodDetector;
}

export { finiteRow } from '../util/rows';

/** −T·logsumexp(z/T) of one logit row in float64 (the energy score, higher = more OOD). */
export function energyOf(z: ArrayLike<number>, off: number, k: number, T = 1): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, z[off + c] / T);
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(z[off + c] / T - m);
  return -T * (m + Math.log(s));
}
