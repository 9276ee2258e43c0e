// Feature-space OOD detectors, fitted in one streaming pass over the fit split (batches via add(), then finish()).
// All scores are higher = more OOD. Rows with a non-finite feature (or logit, for ViM) score NaN and are skipped
// when fitting.
import { kthSmallest } from './select';
import { rankTolerance, symmetricEigen, whitening } from './linalg';

function finiteRow(x: Float32Array, off: number, d: number): boolean {
  for (let j = 0; j < d; j++) if (!Number.isFinite(x[off + j])) return false;
  return true;
}

/**
 * Mahalanobis distance with class means and a shared (tied) covariance (Lee et al. 2018):
 * score = min over fitted classes c of (x − μ_c)ᵀ Σ⁺ (x − μ_c). Σ = (1/N) Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ
 * (maximum likelihood, as sklearn's EmpiricalCovariance), accumulated as sums of (x − r)(x − r)ᵀ around a
 * reference r = the first fitted sample, which avoids the cancellation of raw second moments. Σ⁺ is the
 * pseudo-inverse from a symmetric eigen-decomposition, dropping eigenvalues ≤ d·eps·λmax, so collinear or
 * constant features are fine. Samples with label −1 or ≥ numClasses are not fitted; if none is labelled,
 * every fitted sample counts as one class (the distance to the global mean).
 */
export class MahalanobisDetector {
  private readonly sums: Float64Array; // per class Σ (x − r), numClasses + 1 rows (the last: every sample)
  private readonly counts: Float64Array;
  private readonly scatter: Float64Array; // Σ (x − r)(x − r)ᵀ over labelled rows, upper triangle
  private readonly scatterUnlabelled: Float64Array; // the same over unlabelled rows (used only if none is labelled)
  private ref: Float64Array | null = null;
  private proj: Float64Array | null = null; // r×d, rows Λ^{-1/2} vᵀ
  private projMeans: Float64Array | null = null; // per used class, r values
  private rank = 0;
  private usedClasses = 0;
  /** Samples left out of the class means (unlabelled, out-of-range label) or of the fit (non-finite). */
  skipped = 0;

  constructor(readonly d: number, readonly numClasses: number) {
    this.sums = new Float64Array((numClasses + 1) * d);
    this.counts = new Float64Array(numClasses + 1);
    this.scatter = new Float64Array(d * d);
    this.scatterUnlabelled = new Float64Array(d * d);
  }

  add(features: Float32Array, labels: Int32Array, n: number): void {
    const { d, numClasses } = this;
    const dx = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d)) { this.skipped++; continue; }
      if (!this.ref) this.ref = Float64Array.from(features.subarray(off, off + d));
      const ref = this.ref;
      for (let j = 0; j < d; j++) dx[j] = features[off + j] - ref[j];
      const y = labels[i];
      const labelled = y >= 0 && y < numClasses;
      if (!labelled) this.skipped++;
      else this.accumulate(y, dx);
      this.accumulate(numClasses, dx);
      const scatter = labelled ? this.scatter : this.scatterUnlabelled;
      for (let p = 0; p < d; p++) {
        const xp = dx[p];
        if (xp === 0) continue;
        const row = p * d;
        for (let q = p; q < d; q++) scatter[row + q] += xp * dx[q];
      }
    }
  }

  private accumulate(c: number, dx: Float64Array): void {
    this.counts[c]++;
    for (let j = 0; j < this.d; j++) this.sums[c * this.d + j] += dx[j];
  }

  finish(): void {
    const { d, numClasses } = this;
    const labelled = this.counts.subarray(0, numClasses).reduce((a, b) => a + b, 0);
    const all = this.counts[numClasses];
    if (all === 0) {
      // Nothing to fit: every score will be NaN rather than failing the run.
      this.proj = new Float64Array(0);
      this.projMeans = new Float64Array(0);
      return;
    }
    // Classes used for the means; when nothing is labelled, one pooled class over every sample.
    const classes = labelled > 0 ? [...Array(numClasses).keys()].filter((c) => this.counts[c] > 0) : [numClasses];
    const N = labelled > 0 ? labelled : all;
    const cov = new Float64Array(d * d);
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) cov[p * d + q] = this.scatter[p * d + q] + (labelled > 0 ? 0 : this.scatterUnlabelled[p * d + q]);
    }
    for (const c of classes) {
      const nc = this.counts[c];
      for (let p = 0; p < d; p++) {
        const mp = this.sums[c * d + p] / nc;
        for (let q = p; q < d; q++) cov[p * d + q] -= nc * mp * (this.sums[c * d + q] / nc);
      }
    }
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) {
        const v = cov[p * d + q] / N;
        cov[p * d + q] = v;
        cov[q * d + p] = v;
      }
    }
    const { proj, rank: r } = whitening(cov, d);
    const projMeans = new Float64Array(classes.length * r);
    classes.forEach((c, ci) => {
      for (let k = 0; k < r; k++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += proj[k * d + j] * (this.sums[c * d + j] / this.counts[c]);
        projMeans[ci * r + k] = v;
      }
    });
    this.proj = proj;
    this.projMeans = projMeans;
    this.rank = r;
    this.usedClasses = classes.length;
  }

  /** Rank of the fitted covariance (eigenvalues kept in Σ⁺). */
  get covarianceRank(): number {
    return this.rank;
  }

  score(features: Float32Array, n: number): Float64Array {
    const { d, rank: r } = this;
    const proj = this.proj;
    const means = this.projMeans;
    const ref = this.ref;
    if (!proj || !means) throw new Error('MahalanobisDetector.score before finish()');
    if (!ref || !this.usedClasses) return new Float64Array(n).fill(NaN);
    const out = new Float64Array(n);
    const dx = new Float64Array(d);
    const z = new Float64Array(r);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d)) { out[i] = NaN; continue; }
      for (let j = 0; j < d; j++) dx[j] = features[off + j] - ref[j];
      for (let k = 0; k < r; k++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += proj[k * d + j] * dx[j];
        z[k] = v;
      }
      let best = Infinity;
      for (let c = 0; c < this.usedClasses; c++) {
        let s = 0;
        for (let k = 0; k < r; k++) { const t = z[k] - means[c * r + k]; s += t * t; }
        if (s < best) best = s;
      }
      out[i] = best;
    }
    return out;
  }
}

/**
 * Deep nearest neighbours (Sun et al. 2022): score = Euclidean distance from the L2-normalized query to its k-th
 * nearest L2-normalized training feature (k = min(k, N)). Exact brute force: distances are summed differences in
 * float64 (no 2 − 2a·b cancellation for near neighbours) and the k-th smallest is found by quickselect, not a sort.
 * Memory: the normalized training features are kept as float32, 4·N·d bytes (e.g. 50,000 × 512 → 100 MB),
 * plus 8·N bytes of scratch while scoring. Time O(N·d) per query. Zero vectors stay zero.
 */
export class KnnDetector {
  private data = new Float32Array(0);
  private count = 0;

  constructor(readonly d: number, readonly k = 50) {}

  /** Training features kept so far. */
  get size(): number {
    return this.count;
  }

  add(features: Float32Array, n: number): void {
    const d = this.d;
    const row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d)) continue;
      if ((this.count + 1) * d > this.data.length) {
        const grown = new Float32Array(Math.max(1024 * d, this.data.length * 2));
        grown.set(this.data);
        this.data = grown;
      }
      normalizeInto(features, off, d, row);
      this.data.set(row, this.count * d);
      this.count++;
    }
  }

  /** Drops the spare capacity left by growth. */
  finish(): void {
    this.data = this.data.slice(0, this.count * this.d);
  }

  score(features: Float32Array, n: number): Float64Array {
    const { d, count: N, data } = this;
    const out = new Float64Array(n);
    if (N === 0) return out.fill(NaN);
    const k = Math.min(this.k, N);
    const dist = new Float64Array(N);
    const q = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d)) { out[i] = NaN; continue; }
      normalizeInto(features, off, d, q);
      for (let t = 0; t < N; t++) {
        const base = t * d;
        let s = 0;
        for (let j = 0; j < d; j++) { const e = q[j] - data[base + j]; s += e * e; }
        dist[t] = s;
      }
      out[i] = Math.sqrt(kthSmallest(dist, N, k));
    }
    return out;
  }
}

function normalizeInto(x: Float32Array, off: number, d: number, out: Float64Array): void {
  let s = 0;
  for (let j = 0; j < d; j++) s += x[off + j] * x[off + j];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < d; j++) out[j] = x[off + j] * inv;
}


/** Principal-subspace size used by ViM for feature width d (Wang et al. 2022). */
export function vimDim(d: number): number {
  return d >= 1500 ? 1000 : d >= 768 ? 512 : Math.floor(d / 2);
}

/**
 * ViM, Virtual-logit Matching (Wang et al. 2022). Origin u = −W⁺b; principal subspace = the top `dim` eigenvectors
 * of (1/N) Σ (x − u)(x − u)ᵀ on the fit set; residual = the part of x − u in the orthogonal complement;
 * α = mean max-logit / mean ‖residual‖ over the fit set. The paper's ID score is logsumexp(z) − α‖residual‖;
 * we report its negation, score = α‖residual‖ − logsumexp(z), so higher = more OOD.
 * Logits may be omitted (null) and are then computed as Wx + b. The fit stores the fit features (float32,
 * 4·N·d bytes) because the mean residual norm needs the subspace first; they are dropped by finish().
 */
export class VimDetector {
  readonly d: number;
  readonly k: number;
  readonly dim: number;
  private readonly u: Float64Array;
  private readonly cov: Float64Array;
  private fit = new Float32Array(0);
  private fitCount = 0;
  private maxLogitSum = 0;
  private residualBasis: Float64Array | null = null; // (d − dim)×d, rows = complement eigenvectors
  private alphaValue = NaN;

  constructor(readonly W: Float32Array, readonly b: Float32Array, dim?: number) {
    this.k = b.length;
    this.d = W.length / this.k;
    if (!Number.isInteger(this.d)) throw new Error(`W has ${W.length} values, not a multiple of k = ${this.k}`);
    this.dim = Math.min(this.d, dim ?? vimDim(this.d));
    this.u = originOf(W, b, this.k, this.d);
    this.cov = new Float64Array(this.d * this.d);
  }

  /** The fitted α (NaN before finish()). */
  get alpha(): number {
    return this.alphaValue;
  }

  /** The origin u = −W⁺b. */
  get origin(): Float64Array {
    return this.u;
  }

  add(features: Float32Array, logits: Float32Array | null | undefined, n: number): void {
    const { d, k, u } = this;
    const x = new Float64Array(d);
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d) || (logits && !finiteRow(logits, i * k, k))) continue;
      this.logitsOf(features, off, logits, i, z);
      let mx = -Infinity;
      for (let c = 0; c < k; c++) mx = Math.max(mx, z[c]);
      this.maxLogitSum += mx;
      for (let j = 0; j < d; j++) x[j] = features[off + j] - u[j];
      for (let p = 0; p < d; p++) {
        const xp = x[p];
        for (let q = p; q < d; q++) this.cov[p * d + q] += xp * x[q];
      }
      if ((this.fitCount + 1) * d > this.fit.length) {
        const grown = new Float32Array(Math.max(1024 * d, this.fit.length * 2));
        grown.set(this.fit);
        this.fit = grown;
      }
      this.fit.set(features.subarray(off, off + d), this.fitCount * d);
      this.fitCount++;
    }
  }

  finish(): void {
    const { d, dim } = this;
    const N = this.fitCount;
    if (N === 0) {
      // Nothing to fit: α stays NaN, so every score is NaN rather than failing the run.
      this.residualBasis = new Float64Array(0);
      return;
    }
    const cov = new Float64Array(d * d);
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) cov[p * d + q] = cov[q * d + p] = this.cov[p * d + q] / N;
    }
    const { vectors } = symmetricEigen(cov, d);
    const r = d - dim;
    const basis = new Float64Array(r * d);
    for (let t = 0; t < r; t++) for (let j = 0; j < d; j++) basis[t * d + j] = vectors[j * d + dim + t];
    this.residualBasis = basis;
    let resSum = 0;
    for (let i = 0; i < N; i++) resSum += this.residualNorm(this.fit, i * d);
    this.alphaValue = this.maxLogitSum / N / (resSum / N);
    this.fit = new Float32Array(0);
  }

  score(features: Float32Array, logits: Float32Array | null | undefined, n: number): Float64Array {
    if (!this.residualBasis) throw new Error('VimDetector.score before finish()');
    const { d, k } = this;
    const out = new Float64Array(n);
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      if (!finiteRow(features, off, d) || (logits && !finiteRow(logits, i * k, k))) { out[i] = NaN; continue; }
      this.logitsOf(features, off, logits, i, z);
      let mx = -Infinity;
      for (let c = 0; c < k; c++) mx = Math.max(mx, z[c]);
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(z[c] - mx);
      out[i] = this.alphaValue * this.residualNorm(features, off) - (mx + Math.log(s));
    }
    return out;
  }

  private logitsOf(features: Float32Array, off: number, logits: Float32Array | null | undefined, i: number, z: Float64Array): void {
    const { d, k, W, b } = this;
    if (logits) {
      for (let c = 0; c < k; c++) z[c] = logits[i * k + c];
      return;
    }
    for (let c = 0; c < k; c++) {
      let v = b[c];
      for (let j = 0; j < d; j++) v += W[c * d + j] * features[off + j];
      z[c] = v;
    }
  }

  private residualNorm(x: Float32Array, off: number): number {
    const { d, u } = this;
    const basis = this.residualBasis!;
    const r = basis.length / d;
    let s = 0;
    for (let t = 0; t < r; t++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += basis[t * d + j] * (x[off + j] - u[j]);
      s += v * v;
    }
    return Math.sqrt(s);
  }
}

/** u = −W⁺b (ViM's origin), with W⁺ from the eigen-decomposition of the smaller Gram matrix (WWᵀ if k ≤ d, else WᵀW). */
export function originOf(W: Float32Array, b: Float32Array, k: number, d: number): Float64Array {
  const u = new Float64Array(d);
  if (k <= d) {
    // W⁺b = Wᵀ (WWᵀ)⁺ b
    const G = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let c = a; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += W[a * d + j] * W[c * d + j];
        G[a * k + c] = G[c * k + a] = s;
      }
    }
    const v = pinvApply(G, k, Float64Array.from(b));
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += W[a * d + j] * v[a];
      u[j] = -s;
    }
  } else {
    // W⁺b = (WᵀW)⁺ Wᵀb
    const G = new Float64Array(d * d);
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) {
        let s = 0;
        for (let a = 0; a < k; a++) s += W[a * d + p] * W[a * d + q];
        G[p * d + q] = G[q * d + p] = s;
      }
    }
    const wb = new Float64Array(d);
    for (let p = 0; p < d; p++) for (let a = 0; a < k; a++) wb[p] += W[a * d + p] * b[a];
    const v = pinvApply(G, d, wb);
    for (let j = 0; j < d; j++) u[j] = -v[j];
  }
  return u;
}

/** G⁺y for a symmetric positive semi-definite G. */
function pinvApply(G: Float64Array, m: number, y: Float64Array): Float64Array {
  const { values, vectors } = symmetricEigen(G, m);
  const tol = rankTolerance(values, m);
  const out = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    if (values[t] <= tol) continue;
    let c = 0;
    for (let j = 0; j < m; j++) c += vectors[j * m + t] * y[j];
    c /= values[t];
    for (let j = 0; j < m; j++) out[j] += c * vectors[j * m + t];
  }
  return out;
}
