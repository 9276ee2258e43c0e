// Householder reduction of a dense symmetric matrix to tridiagonal form, blocked as LAPACK's dsytrd/dlatrd
// (Dongarra, Hammarling & Sorensen, "Block reduction of matrices to condensed forms for eigenvalue computations",
// 1989): a panel of NB columns is reduced with one symmetric matrix–vector product per column, in JavaScript (this
// half of the 4/3·n³ flops cannot be blocked), and the trailing matrix is then updated once per panel by the rank-2·NB
// product V·Wᵀ + W·Vᵀ through gemm.

import type { Gemm } from './gemm';
import { product } from './product';

/** Panel width: wider panels mean fewer, larger trailing products but O(NB·n²) more JavaScript work in the panels. */
const NB = 64;
/** Rows of the trailing product per gemm call: only the upper triangle is formed, strip by strip. */
const STRIP = 256;

export interface Tridiagonal {
  diag: Float64Array;
  /** off[k] = T[k, k+1]. */
  off: Float64Array;
  /** n×n; row k < n−2 holds v_k in columns k+1..n−1 (v_k[k+1] = 1), and H_k = I − tau[k]·v_k·v_kᵀ. */
  reflectors: Float64Array;
  /** Q = H_0·H_1⋯H_{n−3} and A = Q·T·Qᵀ. */
  tau: Float64Array;
}

/** Reduces the symmetric n×n `a` (row-major; only its upper triangle is read), which is overwritten by the reflectors. */
export async function tridiagonalize(a: Float64Array, n: number, gemm: Gemm): Promise<Tridiagonal> {
  const t: Tridiagonal = { diag: new Float64Array(n), off: new Float64Array(Math.max(0, n - 1)), reflectors: a, tau: new Float64Array(Math.max(0, n - 2)) };
  const w = new Float64Array(NB * n); // row j: w_j of the current panel over global indices
  const y = new Float64Array(n);
  const x = new Float64Array(n);
  const strips = new Float64Array(4 * NB * Math.max(0, n - NB)); // the trailing product's two factors
  for (let k0 = 0; k0 < n; k0 += NB) {
    const nb = Math.min(NB, n - k0);
    for (let j = 0; j < nb; j++) reduceColumn(t, n, k0, j, w, x, y);
    if (k0 + nb < n) await updateTrailing(a, n, k0, nb, w, strips, gemm);
  }
  return t;
}

/**
 * Column k = k0 + j of the panel (row k of the upper triangle): brings it up to date with the panel's earlier
 * reflectors, takes its reflector, and forms w_j so that the panel's update is A − V·Wᵀ − W·Vᵀ (dlatrd).
 */
function reduceColumn(t: Tridiagonal, n: number, k0: number, j: number, w: Float64Array, x: Float64Array, y: Float64Array): void {
  const a = t.reflectors;
  const k = k0 + j;
  const rk = k * n;
  updateRow(a, n, k0, j, w);
  t.diag[k] = a[rk + k];
  if (k === n - 2) t.off[k] = a[rk + k + 1];
  let tau = 0;
  if (k < n - 2) {
    const [beta, tk] = householder(a, rk + k + 1, n - k - 1);
    t.off[k] = beta;
    t.tau[k] = tau = tk;
  }
  if (tau === 0) {
    w.fill(0, j * n + k + 1, (j + 1) * n); // H_k = I: w_j vanishes
    return;
  }
  for (let c = k + 1; c < n; c++) x[c] = a[rk + c];
  symmetricProduct(a, n, k + 1, x, y);
  correctPanel(a, n, k0, j, w, x, y);
  let yx = 0;
  for (let c = k + 1; c < n; c++) yx += (y[c] *= tau) * x[c];
  const alpha = -0.5 * tau * yx;
  for (let c = k + 1; c < n; c++) w[j * n + c] = y[c] + alpha * x[c];
}

/** A[k, k..] −= Σ_l V[k, l]·W[k.., l] + W[k, l]·V[k.., l] over the panel's first j reflectors, two per pass. */
function updateRow(a: Float64Array, n: number, k0: number, j: number, w: Float64Array): void {
  const k = k0 + j;
  const rk = k * n;
  for (let l = 0; l < j; l += 2) {
    const v0 = (k0 + l) * n;
    const w0 = l * n;
    const two = l + 1 < j; // with j odd, the last pass repeats reflector j−1 with zero coefficients
    const v1 = two ? v0 + n : v0;
    const w1 = two ? w0 + n : w0;
    const p0 = a[v0 + k], q0 = w[w0 + k];
    const p1 = two ? a[v1 + k] : 0, q1 = two ? w[w1 + k] : 0;
    for (let c = k; c < n; c++) a[rk + c] -= p0 * w[w0 + c] + q0 * a[v0 + c] + p1 * w[w1 + c] + q1 * a[v1 + c];
  }
}

/**
 * dlarfg on x = a[o..o+m): returns [β, τ] with H·x = β·e₁, H = I − τ·v·vᵀ, and overwrites x by v (v₀ = 1,
 * v₁.. = x₁../(x₀ − β)). When x₁.. is zero, H = I (τ = 0) and β = x₀.
 */
function householder(a: Float64Array, o: number, m: number): [number, number] {
  const x0 = a[o];
  let ss = 0;
  for (let i = 1; i < m; i++) ss += a[o + i] * a[o + i];
  a[o] = 1;
  if (ss === 0) return [x0, 0];
  const norm = Math.sqrt(x0 * x0 + ss);
  const beta = x0 > 0 ? -norm : norm;
  const scale = 1 / (x0 - beta);
  for (let i = 1; i < m; i++) a[o + i] *= scale;
  return [beta, (beta - x0) / beta];
}

/**
 * y[s..n) = A[s..n, s..n]·x[s..n) from the upper triangle, four rows per pass: each row segment is read once and
 * serves both its own dot product and, by symmetry, the column's axpy (dsymv), so the matrix streams through
 * memory once per call.
 */
function symmetricProduct(a: Float64Array, n: number, s: number, x: Float64Array, y: Float64Array): void {
  y.fill(0, s, n);
  let i = s;
  for (; i + 3 < n; i += 4) {
    const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    const x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    const a01 = a[r0 + i + 1], a02 = a[r0 + i + 2], a03 = a[r0 + i + 3], a12 = a[r1 + i + 2], a13 = a[r1 + i + 3], a23 = a[r2 + i + 3];
    let s0 = a[r0 + i] * x0 + a01 * x1 + a02 * x2 + a03 * x3;
    let s1 = a01 * x0 + a[r1 + i + 1] * x1 + a12 * x2 + a13 * x3;
    let s2 = a02 * x0 + a12 * x1 + a[r2 + i + 2] * x2 + a23 * x3;
    let s3 = a03 * x0 + a13 * x1 + a23 * x2 + a[r3 + i + 3] * x3;
    for (let c = i + 4; c < n; c++) {
      const u0 = a[r0 + c], u1 = a[r1 + c], u2 = a[r2 + c], u3 = a[r3 + c], xc = x[c];
      s0 += u0 * xc;
      s1 += u1 * xc;
      s2 += u2 * xc;
      s3 += u3 * xc;
      y[c] += u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3;
    }
    y[i] += s0;
    y[i + 1] += s1;
    y[i + 2] += s2;
    y[i + 3] += s3;
  }
  for (; i < n; i++) {
    const r = i * n, xi = x[i];
    let acc = a[r + i] * xi;
    for (let c = i + 1; c < n; c++) {
      acc += a[r + c] * x[c];
      y[c] += a[r + c] * xi;
    }
    y[i] += acc;
  }
}

/**
 * y −= V·(Wᵀx) + W·(Vᵀx) over the panel's first j reflectors (A·x with the panel's pending update applied), two
 * reflectors per pass so that x and y stream through half as often.
 */
function correctPanel(a: Float64Array, n: number, k0: number, j: number, w: Float64Array, x: Float64Array, y: Float64Array): void {
  const s = k0 + j + 1;
  for (let l = 0; l < j; l += 2) {
    const v0 = (k0 + l) * n;
    const w0 = l * n;
    const two = l + 1 < j; // as in updateRow
    const v1 = two ? v0 + n : v0;
    const w1 = two ? w0 + n : w0;
    let wx0 = 0, vx0 = 0, wx1 = 0, vx1 = 0;
    for (let c = s; c < n; c++) {
      const xc = x[c];
      wx0 += w[w0 + c] * xc;
      vx0 += a[v0 + c] * xc;
      wx1 += w[w1 + c] * xc;
      vx1 += a[v1 + c] * xc;
    }
    if (!two) wx1 = vx1 = 0;
    for (let c = s; c < n; c++) y[c] -= a[v0 + c] * wx0 + w[w0 + c] * vx0 + a[v1 + c] * wx1 + w[w1 + c] * vx1;
  }
}

/**
 * A[r.., r..] −= V·Wᵀ + W·Vᵀ on the upper triangle (r = k0 + nb) with P = [V W]·[W V]ᵀ from gemm in row strips,
 * each strip only from its diagonal rightwards, which halves the product.
 */
async function updateTrailing(a: Float64Array, n: number, k0: number, nb: number, w: Float64Array, strips: Float64Array, gemm: Gemm): Promise<void> {
  const r = k0 + nb;
  const m = n - r;
  const q = 2 * nb;
  const left = strips.subarray(0, m * q); // row c: V[c, ·], W[c, ·]
  const right = strips.subarray(m * q, 2 * m * q); // row c: W[c, ·], V[c, ·]
  for (let l = 0; l < nb; l++) {
    const vl = (k0 + l) * n + r;
    const wl = l * n + r;
    for (let c = 0; c < m; c++) {
      left[c * q + l] = right[c * q + nb + l] = a[vl + c];
      left[c * q + nb + l] = right[c * q + l] = w[wl + c];
    }
  }
  for (let i0 = 0; i0 < m; i0 += STRIP) {
    const rows = Math.min(STRIP, m - i0);
    const cols = m - i0;
    const p = await product(gemm, left.subarray(i0 * q, (i0 + rows) * q), right.subarray(i0 * q, m * q), rows, q, cols, { transB: true });
    for (let i = 0; i < rows; i++) {
      const row = (r + i0 + i) * n + r + i0;
      const pr = i * cols;
      for (let c = i; c < cols; c++) a[row + c] -= p[pr + c];
    }
  }
}
