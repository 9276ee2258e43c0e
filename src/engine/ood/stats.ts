// Small statistics shared by the OOD methods, with numpy's conventions so the golden references agree exactly.

/** numpy.percentile(values, q) with the default 'linear' method: sorts a copy (values stay as given). */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  // numpy's _lerp: a + (b − a)·t, switched to b − (b − a)·(1 − t) for t ≥ 0.5, which keeps the result monotone.
  const a = sorted[lo], b = sorted[hi];
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

/** A growing float32 store of fit rows (features or logits) for methods that keep the fit split. */
export class RowStore {
  private data: Float32Array;
  rows = 0;

  constructor(readonly width: number, capacity = 1024) {
    this.data = new Float32Array(Math.max(1, capacity) * width);
  }

  push(x: Float32Array, n: number): void {
    const need = (this.rows + n) * this.width;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, this.data.length * 2));
      grown.set(this.data.subarray(0, this.rows * this.width));
      this.data = grown;
    }
    this.data.set(x.subarray(0, n * this.width), this.rows * this.width);
    this.rows += n;
  }

  /** The rows held, without copying. */
  view(): Float32Array {
    return this.data.subarray(0, this.rows * this.width);
  }
}
