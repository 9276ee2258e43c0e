// Row-block operations of the feature methods, on the dense engine: second moments Σ x xᵀ, projections ‖B(x − m)‖²,
// and nearest class means, each as one matrix product per block of rows instead of a JavaScript loop per row.
import type { Dense } from './dense';
import { freshName } from './kept';

/** Rows per product: big enough for the kernels to run at full speed, small enough to stay ~32 MB. */
export const blockRows = (d: number): number => Math.max(256, Math.min(8192, Math.floor(2 ** 22 / Math.max(1, d))));

/** A float64 array in shared memory: handed to the dense thread without a copy. */
export const sharedF64 = (length: number): Float64Array => new Float64Array(new SharedArrayBuffer(length * 8));

/** A shared buffer one detector reuses from batch to batch: touching fresh memory costs more than the products. */
export class Scratch {
  private buf = sharedF64(0);

  get(length: number): Float64Array {
    if (this.buf.length < length) this.buf = sharedF64(length);
    return this.buf.subarray(0, length);
  }
}

/**
 * Σ (x − r)(x − r)ᵀ over pushed rows (full d×d, float64): one product per block of rows, summed on the dense
 * thread, so only the rows travel there (in shared memory) and the sum once at the end.
 */
export class GramAccumulator {
  private readonly buf: Float64Array;
  private readonly name = freshName('gram');
  private rows = 0;
  private flushed = false;
  private readonly cap: number;

  constructor(readonly d: number, private readonly dense: Dense) {
    this.cap = blockRows(d);
    this.buf = sharedF64(this.cap * d);
  }

  /** Appends x[off..off+d) − ref; call flush() when `full`. */
  push(x: ArrayLike<number>, off: number, ref: ArrayLike<number> | null): void {
    const o = this.rows++ * this.d;
    for (let j = 0; j < this.d; j++) this.buf[o + j] = x[off + j] - (ref ? ref[j] : 0);
  }

  get full(): boolean {
    return this.rows >= this.cap;
  }

  async flush(): Promise<void> {
    if (!this.rows) return;
    // The buffer is written again only after the product has read it.
    await this.dense.gramAdd(this.name, this.buf, this.rows, this.d);
    this.flushed = true;
    this.rows = 0;
  }

  /** The sum over every row pushed (after the last flush); the accumulator is spent. */
  async total(): Promise<Float64Array> {
    await this.flush();
    return this.flushed ? this.dense.take(this.name) : new Float64Array(this.d * this.d);
  }
}

/**
 * x_i − m for the rows i of a float32 batch (m omitted: x_i), as float64 in shared memory (`scratch`'s when given),
 * and whether each row was usable (`ok(i)`); unusable rows are zeros.
 */
export function centredRows(x: Float32Array, from: number, n: number, d: number, m: ArrayLike<number> | null, ok: (i: number) => boolean, scratch?: Scratch): { rows: Float64Array; ok: Uint8Array } {
  const rows = scratch ? scratch.get(n * d) : sharedF64(n * d);
  const good = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!ok(from + i)) {
      rows.fill(0, i * d, (i + 1) * d);
      continue;
    }
    good[i] = 1;
    const a = (from + i) * d;
    for (let j = 0; j < d; j++) rows[i * d + j] = x[a + j] - (m ? m[j] : 0);
  }
  return { rows, ok: good };
}

/** Z = X·Bᵀ for X [n, d] and a kept basis B [r, d] (by name), in blocks of rows. */
export async function project(dense: Dense, X: Float64Array, n: number, d: number, basis: string, r: number): Promise<Float64Array> {
  if (r === 0 || n === 0) return new Float64Array(n * r);
  const step = blockRows(d);
  if (n <= step) return dense.gemm(X.subarray(0, n * d), basis, n, d, r, { transB: true });
  const out = new Float64Array(n * r);
  for (let from = 0; from < n; from += step) {
    const m = Math.min(step, n - from);
    out.set(await dense.gemm(X.subarray(from * d, (from + m) * d), basis, m, d, r, { transB: true }), from * r);
  }
  return out;
}

/** Σ_t z[i, t]² per row of Z [n, r]. */
export function rowSq(Z: Float64Array, n: number, r: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < r; t++) s += Z[i * r + t] * Z[i * r + t];
    out[i] = s;
  }
  return out;
}

/**
 * min_c ‖z_i − μ_c‖² over the rows μ_c of M [K, r] (kept as `means`), for Z [n, r]. The product Z·Mᵀ ranks the
 * classes through ‖z‖² − 2 z·μ + ‖μ‖², which cancels when z is near a mean; so every class within that form's
 * rounding bound of the smallest is measured again as Σ (z − μ)², and the result is the direct form's.
 */
export async function nearestMean(dense: Dense, Z: Float64Array, n: number, r: number, M: Float64Array, means: string, K: number): Promise<Float64Array> {
  const out = new Float64Array(n);
  const mm = rowSq(M, K, r);
  const zz = rowSq(Z, n, r);
  const step = Math.max(1, Math.floor(2 ** 22 / Math.max(K, r)));
  let maxM = 0;
  for (const v of mm) maxM = Math.max(maxM, v);
  for (let from = 0; from < n; from += step) {
    const m = Math.min(step, n - from);
    const G = await dense.gemm(Z.subarray(from * r, (from + m) * r), means, m, r, K, { transB: true });
    for (let i = 0; i < m; i++) {
      const zi = zz[from + i];
      let best = Infinity;
      for (let c = 0; c < K; c++) best = Math.min(best, zi - 2 * G[i * K + c] + mm[c]);
      // |error| of the expanded form ≤ ~(r + 3)·eps·(‖z‖² + ‖μ‖² + 2|z·μ|) ≤ 4(r + 3)·eps·(‖z‖² + max‖μ‖²).
      const slack = 8 * (r + 3) * Number.EPSILON * (zi + maxM);
      let exact = Infinity;
      const o = (from + i) * r;
      for (let c = 0; c < K; c++) {
        if (zi - 2 * G[i * K + c] + mm[c] > best + slack) continue;
        let s = 0;
        for (let t = 0; t < r; t++) { const e = Z[o + t] - M[c * r + t]; s += e * e; }
        exact = Math.min(exact, s);
      }
      out[from + i] = exact;
    }
  }
  return out;
}

/** ‖B(x_i − m)‖² per row of a float32 batch for a kept basis B [r, d]; NaN where `ok(i)` is false. */
export async function projectedSqRows(dense: Dense, x: Float32Array, n: number, d: number, m: ArrayLike<number> | null, basis: string, r: number, ok: (i: number) => boolean, scratch?: Scratch): Promise<Float64Array> {
  const { rows, ok: good } = centredRows(x, 0, n, d, m, ok, scratch);
  const sq = rowSq(await project(dense, rows, n, d, basis, r), n, r);
  for (let i = 0; i < n; i++) if (!good[i]) sq[i] = NaN;
  return sq;
}

/** The d×d matrix S/N with its upper triangle mirrored (a product's two triangles may differ in the last bit). */
export function symmetricScaled(S: Float64Array, d: number, N: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let p = 0; p < d; p++) for (let q = p; q < d; q++) out[p * d + q] = out[q * d + p] = S[p * d + q] / N;
  return out;
}
