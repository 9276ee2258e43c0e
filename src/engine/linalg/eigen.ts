// Dense symmetric eigen-decomposition with its O(d³) work in a supplied float64 product, as LAPACK's dsyevd:
// blocked Householder tridiagonalization (tridiagonal.ts), Cuppen's divide and conquer on the tridiagonal matrix
// (divide-conquer.ts, secular.ts), and back-transformation of its eigenvectors in compact WY blocks
// (back-transform.ts). Apart from the reduction's symmetric matrix–vector products (2/3·d³ flops that no blocking
// removes), what stays in JavaScript is O(d²)-sized work per step: panel corrections, secular equations, copies.

import type { SymmetricEigen } from '../scores/linalg';
import { applyQ } from './back-transform';
import { tridiagonalEigen } from './divide-conquer';
import type { Gemm } from './gemm';
import { tridiagonalize } from './tridiagonal';

/**
 * Eigenvalues (descending) and unit eigenvectors (column j of the row-major d×d `vectors` ↔ values[j]) of the
 * symmetric d×d row-major `matrix`, the same convention as scores/linalg's symmetricEigen. Only the lower triangle
 * is read (numpy.linalg.eigh's default); `matrix` is not modified. Throws on a non-finite entry there.
 */
export async function symmetricEigenFast(matrix: Float64Array, d: number, gemm: Gemm): Promise<SymmetricEigen> {
  if (!Number.isInteger(d) || d < 0) throw new Error(`symmetricEigenFast: the size must be a non-negative integer, got ${d}`);
  if (matrix.length < d * d) throw new Error(`symmetricEigenFast: a ${d}×${d} matrix needs ${d * d} entries, got ${matrix.length}`);
  if (d === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  let max = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const x = Math.abs(matrix[i * d + j]);
      if (!(x <= Number.MAX_VALUE)) throw new Error(`symmetricEigenFast: the matrix has a non-finite entry (${matrix[i * d + j]}) at row ${i}, column ${j}`);
      if (x > max) max = x;
    }
  }
  // Scaling by a power of two near 1/max is exact and keeps the reduction's sums of squares far from overflow and
  // underflow; the eigenvalues are scaled back at the end.
  const exponent = max > 0 ? Math.max(-1020, Math.min(1020, Math.round(Math.log2(max)))) : 0;
  const scale = 2 ** -exponent;
  // The working copy is Aᵀ, so the reduction's upper triangle is A's lower one; copied in tiles to stay in cache.
  const a = new Float64Array(d * d);
  for (let i0 = 0; i0 < d; i0 += 32) {
    for (let j0 = 0; j0 <= i0; j0 += 32) {
      for (let i = i0; i < Math.min(i0 + 32, d); i++) for (let j = j0; j <= Math.min(j0 + 31, i); j++) a[j * d + i] = matrix[i * d + j] * scale;
    }
  }
  const t = await tridiagonalize(a, d, gemm);
  const { values: ascending, vectors: z } = await tridiagonalEigen(t.diag, t.off, d, gemm);
  await applyQ(t, d, z, gemm);
  const values = new Float64Array(d);
  for (let j = 0; j < d; j++) values[j] = ascending[d - 1 - j] * 2 ** exponent;
  // Descending order is the ascending one reversed; rewrite the rows in place, column j ← column d−1−j.
  for (let r = 0; r < d; r++) z.subarray(r * d, (r + 1) * d).reverse();
  return { values, vectors: z };
}
