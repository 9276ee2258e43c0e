// Activation shaping of the penultimate features before the final linear layer (ReAct, ASH-S, SCALE), shared by
// the methods of that family and by any logit score through `shapedLogits`. Shapings see the pooled [n, d]
// features only (OpenOOD v1.5 also shapes the pooled features for all three); everything is float64.
import type { LastLayer } from '../onnx/last-layer';
import { UserError } from '../util/errors';
import { energyOf, finiteRow, type Batch, type OodDetector } from './method';
import { RowStore } from './stats';
import type { Dense } from '../linalg/dense';
import { keptWeights } from '../linalg/kept';
import { Scratch } from '../linalg/rows';

export interface Shaping {
  /** Rows of the fit split (only shapings whose thresholds come from it). */
  fit?(features: Float32Array, n: number, d: number): void;
  /** After the last fit batch. */
  finish?(): void;
  /** shape(row i of h) into out[0, d); the row is finite. */
  apply(h: Float32Array, i: number, d: number, out: Float64Array): void;
}

export const identityShaping: Shaping = { apply: (h, i, d, out) => out.set(h.subarray(i * d, (i + 1) * d)) };

/** numpy.round (half to even), as OpenOOD's k = d − round(d·p/100). */
const roundHalfEven = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

/** The k-th smallest (0-based) of a, partially reordering a in place (Hoare's quickselect). */
function select(a: Float32Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const p = a[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { const t = a[i]; a[i++] = a[j]; a[j--] = t; }
    }
    if (k <= j) hi = j; else if (k >= i) lo = i; else break;
  }
  return a[k];
}

/**
 * The finite fit features, kept to take percentiles over all activations flattened (numpy.percentile 'linear',
 * exact) — as ReAct and VRA do. Selection works in place on the float32 rows, with no float64 copy of them.
 */
export class ActivationLog {
  private store: RowStore | null = null;

  push(features: Float32Array, n: number, d: number): void {
    this.store ??= new RowStore(d);
    for (let i = 0; i < n; i++) if (finiteRow(features, i, d)) this.store.push(features.subarray(i * d, (i + 1) * d), 1);
  }

  /** The percentiles qs (0–100) of every activation held; NaN without any. Frees the rows. */
  percentiles(qs: number[]): number[] {
    const a = this.store?.view() ?? new Float32Array(0);
    this.store = null;
    return qs.map((q) => {
      if (a.length === 0) return NaN;
      const pos = (q / 100) * (a.length - 1);
      const lo = Math.floor(pos), frac = pos - lo;
      const x = select(a, lo);
      // After the selection every value right of lo is ≥ x: the next order statistic is their minimum.
      let y = x;
      if (lo + 1 < a.length) { y = Infinity; for (let j = lo + 1; j < a.length; j++) if (a[j] < y) y = a[j]; }
      return frac >= 0.5 ? y - (y - x) * (1 - frac) : x + (y - x) * frac; // numpy's _lerp
    });
  }
}

/** ReAct: h ← min(h, c), c the `percentile`-th percentile of all fit activations. */
export function reactShaping(percentile: number): Shaping {
  const log = new ActivationLog();
  let clip = NaN;
  return {
    fit: (h, n, d) => log.push(h, n, d),
    finish: () => void ([clip] = log.percentiles([percentile])),
    apply: (h, i, d, out) => { for (let j = 0; j < d; j++) out[j] = Math.min(h[i * d + j], clip); },
  };
}

/**
 * The ASH/SCALE core on one row: keeps[j] = 1 for the k = d − round(d·p/100) largest entries (ties: lowest index),
 * and the sharpening exponent Σh / Σkept (0 when Σkept = 0, i.e. an all-zero post-ReLU row, where torch gives NaN).
 */
function topK(h: Float32Array, i: number, d: number, percentile: number, keep: Uint8Array, work: Float32Array): number {
  const k = d - roundHalfEven((d * percentile) / 100);
  const row = h.subarray(i * d, (i + 1) * d);
  keep.fill(0);
  let total = 0, kept = 0;
  for (let j = 0; j < d; j++) total += row[j];
  if (k > 0) {
    work.set(row);
    const t = select(work, d - k); // the k-th largest
    let above = 0;
    for (let j = 0; j < d; j++) if (row[j] > t) above++;
    let ties = k - above;
    for (let j = 0; j < d; j++) if (row[j] > t || (row[j] === t && ties-- > 0)) { keep[j] = 1; kept += row[j]; }
  }
  return kept === 0 ? 0 : total / kept;
}

/** ASH-S (prune = true: the rest zeroed) or SCALE (prune = false: the whole row kept), times exp(Σh / Σtop-k). */
function sharpen(percentile: number, prune: boolean): Shaping {
  let keep = new Uint8Array(0);
  let work = new Float32Array(0);
  return {
    apply(h, i, d, out) {
      if (keep.length !== d) [keep, work] = [new Uint8Array(d), new Float32Array(d)];
      const f = Math.exp(topK(h, i, d, percentile, keep, work));
      for (let j = 0; j < d; j++) out[j] = keep[j] || !prune ? h[i * d + j] * f : 0;
    },
  };
}

/** ASH-S: keep the top (100 − p)% of the row, zero the rest, scale the kept ones by exp(Σh / Σkept). */
export const ashShaping = (percentile: number): Shaping => sharpen(percentile, true);

/** SCALE: the whole row scaled by ASH-S's factor exp(Σh / Σ top-(100 − p)%), nothing pruned. */
export const scaleShaping = (percentile: number): Shaping => sharpen(percentile, false);

/** [n, k] logits W·shape(h) + b in float64; a row is NaN where its features or logits are not all finite. */
export async function shapedLogits(layer: LastLayer, shaping: Shaping, batch: Batch, dense: Dense, scratch = new Scratch()): Promise<Float64Array> {
  const { b, k, d } = layer;
  const { features, logits, n } = batch;
  const h = scratch.get(n * d);
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, k)) {
      h.fill(0, i * d, (i + 1) * d);
      continue;
    }
    shaping.apply(features, i, d, h.subarray(i * d, (i + 1) * d));
    ok[i] = 1;
  }
  const z = await dense.gemm(h, await keptWeights(dense, layer), n, d, k, { transB: true });
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) z[i * k + c] = ok[i] ? z[i * k + c] + b[c] : NaN;
  return z;
}

/** Energy −logsumexp of the shaped logits per row (NaN where shapedLogits gives NaN). */
export async function shapedEnergy(layer: LastLayer, shaping: Shaping, batch: Batch, dense: Dense, scratch?: Scratch): Promise<Float64Array> {
  const z = await shapedLogits(layer, shaping, batch, dense, scratch);
  const out = new Float64Array(batch.n);
  for (let i = 0; i < batch.n; i++) out[i] = energyOf(z, i * layer.k, layer.k);
  return out;
}

/** A detector scoring the energy of W·shape(h) + b, fitting the shaping on the fit split when it has a fit. */
export function shapedEnergyDetector(layer: LastLayer | null, shaping: Shaping, dense: Dense): OodDetector {
  if (!layer) throw new Error('activation shaping needs the final linear layer (W, b)');
  const scratch = new Scratch();
  return {
    fit: (b) => void (b.features && shaping.fit?.(b.features, b.n, layer.d)),
    finish: () => shaping.finish?.(),
    score: (b) => shapedEnergy(layer, shaping, b, dense, scratch),
  };
}

/** A percentile parameter, checked to lie in [0, 100] (numpy refuses others). */
export function percentileParam(method: string, params: Record<string, number>, key: string): number {
  const v = params[key];
  if (!(v >= 0 && v <= 100)) throw new UserError(`${method}.${key} must be a percentile in [0, 100], got ${v}`);
  return v;
}
