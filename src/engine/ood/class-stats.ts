// Fit-split statistics shared by the class-statistics OOD methods (klm, she, rmds, residual, neco, nci, fdbd):
// float64 streaming sums (class means, scatter matrices as products on the dense engine) and what their
// eigen-decompositions give (principal subspaces, pseudo-inverse whitening), with numpy's and sklearn's conventions
// so the golden references of scripts/ood_golden/class_stats.py agree to rounding.
import { rankTolerance } from '../scores/linalg';
import type { Dense } from '../linalg/dense';
import { GramAccumulator } from '../linalg/rows';
import { finiteRow, type Batch } from './method';

/** Index of the first maximum of z[off .. off+k) (numpy's argmax on ties). */
export function argmaxRow(z: ArrayLike<number>, off: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (z[off + c] > z[off + best]) best = c;
  return best;
}

/** Squared Euclidean norm of x − m over w values (m omitted: of x). */
export function sqDist(x: ArrayLike<number>, off: number, m: ArrayLike<number> | null, w: number): number {
  let s = 0;
  for (let j = 0; j < w; j++) { const t = x[off + j] - (m ? m[j] : 0); s += t * t; }
  return s;
}

/** Per-group float64 sums and counts of w-wide rows (a group per class), for class means. */
export class GroupMeans {
  readonly sums: Float64Array;
  readonly counts: Float64Array;

  constructor(readonly w: number, readonly groups: number) {
    this.sums = new Float64Array(w * groups);
    this.counts = new Float64Array(groups);
  }

  add(g: number, x: ArrayLike<number>, off: number): void {
    this.counts[g]++;
    for (let j = 0; j < this.w; j++) this.sums[g * this.w + j] += x[off + j];
  }

  /** Adds x[off..) − ref to group g. */
  addCentred(g: number, x: ArrayLike<number>, off: number, ref: ArrayLike<number>): void {
    this.counts[g]++;
    for (let j = 0; j < this.w; j++) this.sums[g * this.w + j] += x[off + j] - ref[j];
  }

  /** The mean row of group g, or null when it has no row. */
  mean(g: number): Float64Array | null {
    const n = this.counts[g];
    if (!n) return null;
    const m = new Float64Array(this.w);
    for (let j = 0; j < this.w; j++) m[j] = this.sums[g * this.w + j] / n;
    return m;
  }
}

/** The mean of the finite fit feature rows, streamed: a detector's fit and finish, and the mean they leave. */
export function fitMean(d: number): { fit(b: Batch): void; finish(): void; mean: () => Float64Array | null } {
  const sums = new GroupMeans(d, 1);
  let mu: Float64Array | null = null;
  return {
    fit: ({ features, n }) => {
      for (let i = 0; i < n; i++) if (finiteRow(features!, i, d)) sums.add(0, features!, i * d);
    },
    finish: () => void (mu = sums.mean(0)),
    mean: () => mu,
  };
}

/**
 * Streaming ML covariances of d-wide rows: Σ (x − r)(x − r)ᵀ around r = the first row added (which avoids the
 * cancellation of raw second moments), per-class sums of x − r, labelled and unlabelled rows kept apart so the
 * pooled within-class covariance uses labelled rows only while the total one uses every row. The second moments
 * are matrix products on the dense engine, one per block of rows.
 */
export class ClassScatter {
  private ref: Float64Array | null = null;
  private readonly labelled: GramAccumulator;
  private readonly unlabelled: GramAccumulator;
  /** The second moments, once the fit is over. */
  private moments: { L: Float64Array; U: Float64Array } | null = null;
  /** Sums of x − r: rows 0..k−1 per class, row k every row. */
  readonly sums: GroupMeans;

  constructor(readonly d: number, readonly k: number, private readonly dense: Dense) {
    this.labelled = new GramAccumulator(d, dense);
    this.unlabelled = new GramAccumulator(d, dense);
    this.sums = new GroupMeans(d, k + 1);
  }

  /** Adds the finite rows of a batch with their classes (−1 or out of range: only in the total). */
  async addBatch(x: Float32Array, n: number, labels: Int32Array | null): Promise<void> {
    const d = this.d;
    for (let i = 0; i < n; i++) {
      if (!finiteRow(x, i, d)) continue;
      const off = i * d;
      this.ref ??= Float64Array.from(x.subarray(off, off + d));
      const label = labels ? labels[i] : -1;
      const inClass = label >= 0 && label < this.k;
      const S = inClass ? this.labelled : this.unlabelled;
      S.push(x, off, this.ref);
      if (inClass) this.sums.addCentred(label, x, off, this.ref);
      this.sums.addCentred(this.k, x, off, this.ref);
      if (S.full) await S.flush();
    }
  }

  get count(): number {
    return this.sums.counts[this.k];
  }

  /** Mean of class c (c = k: of every row); null when it has no row. */
  mean(c: number): Float64Array | null {
    const m = this.sums.mean(c);
    if (m) for (let j = 0; j < this.d; j++) m[j] += this.ref![j];
    return m;
  }

  /** (1/N) Σ_c Σ_{i∈c} (x_i − μ_c)(x_i − μ_c)ᵀ over labelled rows (within), or over every row around the mean (total). */
  async covariance(kind: 'within' | 'total'): Promise<Float64Array> {
    const { d, k } = this;
    this.moments ??= { L: await this.labelled.total(), U: await this.unlabelled.total() };
    const groups = kind === 'within' ? [...Array(k).keys()] : [k];
    const N = groups.reduce((s, c) => s + this.sums.counts[c], 0);
    const { L, U } = this.moments;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) cov[i] = L[i] + (kind === 'total' ? U[i] : 0);
    // Σ_c s_c s_cᵀ / n_c for the class sums s_c (of x − r) is one product: Yᵀ Y with rows y_c = s_c / √n_c.
    const used = groups.filter((c) => this.sums.counts[c] > 0);
    const Y = new Float64Array(used.length * d);
    used.forEach((c, i) => {
      const f = 1 / Math.sqrt(this.sums.counts[c]);
      for (let j = 0; j < d; j++) Y[i * d + j] = this.sums.sums[c * d + j] * f;
    });
    const means = used.length ? await this.dense.gemm(Y, Y, d, used.length, d, { transA: true }) : new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) cov[i] -= means[i];
    // The upper triangle is the reference; the product's lower one may differ in the last bit.
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) cov[p * d + q] = cov[q * d + p] = cov[p * d + q] / N;
    }
    return cov;
  }
}

/**
 * The principal subspace of a covariance: its top `dim` eigenvectors (descending eigenvalues) as rows, and the rest
 * (the residual space). When the fit spans fewer than `dim` directions (eigenvalues ≤ d·eps·λmax are zero), the
 * principal subspace is that span only: a split inside the null space would be arbitrary (solver-dependent), so the
 * whole null space goes to the residual.
 */
export async function principalSplit(dense: Dense, cov: Float64Array, d: number, dim: number): Promise<{ top: Float64Array; rest: Float64Array }> {
  const { values, vectors } = await dense.eigh(cov, d);
  const tol = rankTolerance(values, d);
  let kept = 0;
  while (kept < Math.min(dim, d) && values[kept] > tol) kept++;
  const rows = (from: number, to: number) => {
    const out = new Float64Array((to - from) * d);
    for (let t = from; t < to; t++) for (let j = 0; j < d; j++) out[(t - from) * d + j] = vectors[j * d + t];
    return out;
  };
  return { top: rows(0, kept), rest: rows(kept, d) };
}

/** Rows Λ^{-1/2} vᵀ over the eigenvalues above d·eps·λmax, so ‖P(x − μ)‖² = (x − μ)ᵀ Σ⁺ (x − μ) (pinvh's cut-off). */
export async function whitening(dense: Dense, cov: Float64Array, d: number): Promise<{ proj: Float64Array; rank: number }> {
  const { values, vectors } = await dense.eigh(cov, d);
  const tol = rankTolerance(values, d);
  let rank = 0;
  while (rank < d && values[rank] > tol) rank++;
  const proj = new Float64Array(rank * d);
  for (let t = 0; t < rank; t++) {
    const s = 1 / Math.sqrt(values[t]);
    for (let j = 0; j < d; j++) proj[t * d + j] = vectors[j * d + t] * s;
  }
  return { proj, rank };
}
