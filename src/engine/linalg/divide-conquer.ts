// Eigen-decomposition of a symmetric tridiagonal matrix by Cuppen's divide and conquer (Numer. Math. 36, 1981) as
// in LAPACK's dstedc/dlaed0–dlaed3: tear T into two halves and a rank-one term, solve the halves, then solve
// diag(D) + ρ·z·zᵀ after deflation (secular.ts) and rotate the halves' eigenvectors by its eigenvectors, that product
// through gemm. The recursion goes down to 1×1 leaves: no separate QR path, and the small merges cost O(n²) in all.

import type { Gemm } from './gemm';
import { product } from './product';
import { secularEigen } from './secular';

/** Where a column of the merged eigenvector block is nonzero: the first half's rows, both, or the second half's. */
const TOP = 1, MIXED = 2, BOTTOM = 3;

interface Workspace {
  n: number;
  /** Eigenvalues; a solved subproblem [lo, lo+size) holds its own, ascending. */
  d: Float64Array;
  off: Float64Array;
  /** n×n eigenvectors; a solved subproblem's are in its diagonal block (column j ↔ d[lo + j]), zeros around it. */
  q: Float64Array;
  /** Scratch, n² each: the products' left factors (and the deflated columns), and the secular eigenvectors. */
  a: Float64Array;
  u: Float64Array;
  gemm: Gemm;
}

/** Eigenvalues (ascending) and eigenvectors (n×n row-major, column j ↔ values[j]) of tridiag(off, diag, off). */
export async function tridiagonalEigen(diag: Float64Array, off: Float64Array, n: number, gemm: Gemm): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const ws: Workspace = { n, d: Float64Array.from(diag), off, q: new Float64Array(n * n), a: new Float64Array(n * n), u: new Float64Array(n * n), gemm };
  await solve(ws, 0, n);
  return { values: ws.d, vectors: ws.q };
}

/** T[lo.., lo..] (size×size) = diag(T₁ − |β|·e_last·e_lastᵀ, T₂ − |β|·e₁·e₁ᵀ) + |β|·v·vᵀ, v = e_last ± e₁, β the coupling. */
async function solve(ws: Workspace, lo: number, size: number): Promise<void> {
  if (size === 1) {
    ws.q[lo * ws.n + lo] = 1;
    return;
  }
  const n1 = size >> 1;
  const coupling = ws.off[lo + n1 - 1];
  ws.d[lo + n1 - 1] -= Math.abs(coupling);
  ws.d[lo + n1] -= Math.abs(coupling);
  await solve(ws, lo, n1);
  await solve(ws, lo + n1, size - n1);
  await merge(ws, lo, n1, size - n1, coupling);
}

/**
 * dlaed1: in the halves' eigenbases the torn term is ρ·z·zᵀ with z = (last row of Q₁, ±first row of Q₂)/√2 and
 * ρ = 2|β| > 0. Sorts the poles, deflates, solves the secular problem, and writes the merged eigenpairs, ascending.
 */
async function merge(ws: Workspace, lo: number, n1: number, n2: number, coupling: number): Promise<void> {
  const { n, q, d } = ws;
  const size = n1 + n2;
  const perm = mergeOrder(d, lo, n1, n2);
  const ds = new Float64Array(size);
  const z = new Float64Array(size);
  const kind = new Uint8Array(size);
  const sign = coupling < 0 ? -1 : 1;
  for (let s = 0; s < size; s++) {
    const c = perm[s];
    ds[s] = d[lo + c];
    kind[s] = c < n1 ? TOP : BOTTOM;
    z[s] = (c < n1 ? q[(lo + n1 - 1) * n + lo + c] : sign * q[(lo + n1) * n + lo + c]) * Math.SQRT1_2;
  }
  const rho = 2 * Math.abs(coupling);
  const kept = deflate(ws, lo, size, perm, ds, z, kind, rho);
  const K = kept.length;
  // The secular eigenvector matrix U is laid out with its rows (poles) grouped TOP, MIXED, BOTTOM (dlaed2's
  // column types), so that each half's product reads one contiguous block of rows.
  const group: number[] = [];
  for (const k of [TOP, MIXED, BOTTOM]) kept.forEach((s, t) => kind[s] === k && group.push(t));
  const rowOf = new Int32Array(K);
  group.forEach((t, g) => (rowOf[t] = g));
  const columns = group.map((t) => perm[kept[t]]); // the block's column for U's row g
  const top = kept.filter((s) => kind[s] !== BOTTOM).length;
  const firstBottom = K - kept.filter((s) => kind[s] !== TOP).length;
  const u = ws.u.subarray(0, K * K);
  const lambda = secularEigen(Float64Array.from(kept, (s) => ds[s]), Float64Array.from(kept, (s) => z[s]), rho, rowOf, u);
  const isKept = new Uint8Array(size);
  for (const s of kept) isKept[s] = 1;
  const values = new Float64Array(size); // index < K: root; else the (index − K)th deflated column
  values.set(lambda);
  const deflated: number[] = [];
  for (let s = 0; s < size; s++) {
    if (!isKept[s]) {
      values[K + deflated.length] = ds[s];
      deflated.push(perm[s]);
    }
  }
  const a = gather(ws, lo, n1, size, columns, top, firstBottom, deflated);
  const upper = await product(ws.gemm, a.top, u.subarray(0, top * K), n1, top, K);
  const lower = await product(ws.gemm, a.bottom, u.subarray(firstBottom * K), n2, K - firstBottom, K);
  assemble(ws, lo, n1, size, values, { upper, lower, K }, a.saved);
}
/** The two sorted runs d[lo..lo+n1) and d[lo+n1..lo+n1+n2) merged (dlamrg): sorted position → local index. */
function mergeOrder(d: Float64Array, lo: number, n1: number, n2: number): Int32Array {
  const perm = new Int32Array(n1 + n2);
  let i = 0;
  let j = n1;
  for (let s = 0; s < n1 + n2; s++) perm[s] = j >= n1 + n2 || (i < n1 && d[lo + i] <= d[lo + j]) ? i++ : j++;
  return perm;
}

/**
 * dlaed2: with tol = 8·eps·max(|D|, |z|), a pole whose ρ·|z_s| ≤ tol is an eigenvalue already; of two poles whose
 * Givens rotation zeroing one z entry leaves an off-diagonal |(d_c − d_p)·c·s| ≤ tol, the zeroed one is. Rotates the
 * eigenvector columns alongside, updates their nonzero pattern, and returns the sorted positions left for the secular
 * equation (their poles strictly increasing).
 */
function deflate(ws: Workspace, lo: number, size: number, perm: Int32Array, ds: Float64Array, z: Float64Array, kind: Uint8Array, rho: number): number[] {
  let dmax = 0;
  let zmax = 0;
  for (let s = 0; s < size; s++) {
    dmax = Math.max(dmax, Math.abs(ds[s]));
    zmax = Math.max(zmax, Math.abs(z[s]));
  }
  const tol = 8 * Number.EPSILON * Math.max(dmax, zmax);
  const kept: number[] = [];
  if (rho * zmax <= tol) return kept;
  let p = -1;
  for (let c = 0; c < size; c++) {
    if (rho * Math.abs(z[c]) <= tol) continue;
    if (p >= 0) {
      const r = Math.hypot(z[c], z[p]);
      const cs = z[c] / r;
      const sn = -z[p] / r;
      if (Math.abs((ds[c] - ds[p]) * cs * sn) <= tol) {
        rotateColumns(ws, lo, size, perm[p], perm[c], cs, sn);
        const dp = ds[p];
        ds[p] = dp * cs * cs + ds[c] * sn * sn;
        ds[c] = dp * sn * sn + ds[c] * cs * cs;
        z[c] = r;
        z[p] = 0;
        if (kind[p] !== kind[c]) kind[c] = MIXED;
      } else kept.push(p);
    }
    p = c;
  }
  if (p >= 0) kept.push(p);
  return kept;
}

/** Columns (x, y) ← (c·x + s·y, c·y − s·x) of the subproblem's eigenvector block. */
function rotateColumns(ws: Workspace, lo: number, size: number, cx: number, cy: number, c: number, s: number): void {
  for (let i = 0; i < size; i++) {
    const row = (lo + i) * ws.n + lo;
    const x = ws.q[row + cx];
    const y = ws.q[row + cy];
    ws.q[row + cx] = c * x + s * y;
    ws.q[row + cy] = c * y - s * x;
  }
}

/**
 * Copies, from the block into the scratch, the columns each half's product needs (its rows of the kept columns
 * nonzero there, in U's row order: dlaed3 multiplies only these, two half-size products) and the deflated columns,
 * which the assembly then moves.
 */
function gather(ws: Workspace, lo: number, n1: number, size: number, columns: number[], top: number, firstBottom: number, deflated: number[]): { top: Float64Array; bottom: Float64Array; saved: Float64Array } {
  const { n, q } = ws;
  const K = columns.length;
  const nb = K - firstBottom;
  const n2 = size - n1;
  const nd = deflated.length;
  const upper = ws.a.subarray(0, n1 * top);
  const lower = ws.a.subarray(n1 * top, n1 * top + n2 * nb);
  const saved = ws.a.subarray(n1 * top + n2 * nb, n1 * top + n2 * nb + size * nd);
  for (let i = 0; i < size; i++) {
    const row = (lo + i) * n + lo;
    if (i < n1) for (let g = 0; g < top; g++) upper[i * top + g] = q[row + columns[g]];
    else for (let g = firstBottom; g < K; g++) lower[(i - n1) * nb + g - firstBottom] = q[row + columns[g]];
    for (let t = 0; t < nd; t++) saved[i * nd + t] = q[row + deflated[t]];
  }
  return { top: upper, bottom: lower, saved };
}

/**
 * Writes the merged eigenvalues ascending into d[lo..] and their eigenvectors into the block: the roots' from the
 * two products (upper: the first n1 rows, lower: the rest; column j ↔ values[j]), the deflated ones moved.
 */
function assemble(ws: Workspace, lo: number, n1: number, size: number, values: Float64Array, roots: { upper: Float64Array; lower: Float64Array; K: number }, saved: Float64Array): void {
  const { n, q, d } = ws;
  const { K } = roots;
  const nd = size - K;
  const order = Int32Array.from({ length: size }, (_, i) => i).sort((x, y) => values[x] - values[y]);
  const position = new Int32Array(size); // values index → column of the block
  order.forEach((x, o) => {
    position[x] = o;
    d[lo + o] = values[x];
  });
  for (let i = 0; i < size; i++) {
    const row = (lo + i) * n + lo;
    const src = i < n1 ? roots.upper : roots.lower;
    const sr = (i < n1 ? i : i - n1) * K;
    for (let j = 0; j < K; j++) q[row + position[j]] = src[sr + j];
    for (let t = 0; t < nd; t++) q[row + position[K + t]] = saved[i * nd + t];
  }
}
