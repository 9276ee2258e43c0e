// Z ← Q·Z for the Q = H_0·H_1⋯H_{n−3} of tridiagonalize: the reflectors are applied BT at a time as compact WY
// transforms I − V·T·Vᵀ (Schreiber & Van Loan 1989; LAPACK's dlarft and dlarfb as used by dormtr), every O(n³) step a
// product through gemm.

import type { Gemm } from './gemm';
import { product } from './product';
import type { Tridiagonal } from './tridiagonal';

/** Reflectors per block: larger blocks mean fewer passes over Z (fewer n×n-sized products) but larger T products. */
const BT = 512;

/** Overwrites the n×n row-major `z` with Q·z. */
export async function applyQ(t: Tridiagonal, n: number, z: Float64Array, gemm: Gemm): Promise<void> {
  const count = n - 2;
  if (count <= 0) return;
  const rowsBuffer = new Float64Array(Math.min(BT, count) * (n - 1));
  const columnsBuffer = new Float64Array(Math.min(BT, count) * (n - 1));
  // Q·Z = B_0·(B_1·(⋯·Z)) with B_b the block starting at reflector b0: the last block acts first.
  for (let b0 = Math.floor((count - 1) / BT) * BT; b0 >= 0; b0 -= BT) {
    const nb = Math.min(BT, count - b0);
    const r0 = b0 + 1; // every reflector of the block vanishes above row r0
    const m = n - r0;
    // V (m×nb) in both layouts, so that no product needs a transposed operand (slower in onnxruntime's Gemm).
    const vt = rowsBuffer.subarray(0, nb * m); // row j: v_{b0+j} on rows r0..n−1, zero above its first entry
    const v = columnsBuffer.subarray(0, m * nb);
    v.fill(0);
    for (let j = 0; j < nb; j++) {
      const src = (b0 + j) * n + r0;
      vt.fill(0, j * m, j * m + j);
      for (let c = j; c < m; c++) v[c * nb + j] = vt[j * m + c] = t.reflectors[src + c];
    }
    const gram = await product(gemm, vt, v, nb, m, nb);
    const factor = new Float64Array(nb * nb);
    await triangularFactor(factor, nb, gram, t.tau.subarray(b0, b0 + nb), 0, nb, gemm);
    const vT = await product(gemm, v, factor, m, nb, nb);
    const zs = z.subarray(r0 * n, n * n);
    const vz = await product(gemm, vt, zs, nb, m, n); // Vᵀ·Z
    const update = await product(gemm, vT, vz, m, nb, n);
    for (let i = 0; i < m * n; i++) zs[i] -= update[i];
  }
}

/**
 * Columns lo..hi of the upper-triangular T (nb×nb) of H_0⋯H_{nb−1} = I − V·T·Vᵀ (dlarft, forward, columnwise) from
 * the Gram matrix G = VᵀV, recursively as LAPACK 3.12's dlarft: with V = [V₁ V₂], T = [T₁ −T₁·(V₁ᵀV₂)·T₂; 0 T₂], the
 * off-diagonal block by two products through gemm; small ranges by the column recurrence
 * T[lo..j, j] = −τ_j·T[lo..j, lo..j]·G[lo..j, j].
 */
async function triangularFactor(t: Float64Array, nb: number, gram: Float64Array, tau: Float64Array, lo: number, hi: number, gemm: Gemm): Promise<void> {
  if (hi - lo <= 32) {
    for (let j = lo; j < hi; j++) {
      t[j * nb + j] = tau[j];
      for (let i = lo; i < j; i++) {
        let s = 0;
        for (let q = i; q < j; q++) s += t[i * nb + q] * gram[j * nb + q]; // G is symmetric: row j read contiguously
        t[i * nb + j] = -tau[j] * s;
      }
    }
    return;
  }
  const mid = (lo + hi) >> 1;
  await triangularFactor(t, nb, gram, tau, lo, mid, gemm);
  await triangularFactor(t, nb, gram, tau, mid, hi, gemm);
  const h1 = mid - lo;
  const h2 = hi - mid;
  const left = await product(gemm, block(t, nb, lo, lo, h1, h1), block(gram, nb, lo, mid, h1, h2), h1, h1, h2);
  const t12 = await product(gemm, left, block(t, nb, mid, mid, h2, h2), h1, h2, h2);
  for (let i = 0; i < h1; i++) for (let j = 0; j < h2; j++) t[(lo + i) * nb + mid + j] = -t12[i * h2 + j];
}

/** The rows×cols block of the row-major `x` (row length `stride`) at (r0, c0), as a contiguous matrix. */
function block(x: Float64Array, stride: number, r0: number, c0: number, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(x.subarray((r0 + i) * stride + c0, (r0 + i) * stride + c0 + cols), i * cols);
  return out;
}
