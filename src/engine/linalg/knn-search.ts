// Exact k-th nearest neighbour distances between L2-normalized rows, with the similarity search in float32 matrix
// products (fast) and exactness restored afterwards: the candidates are measured again in float64, and a query whose
// k-th distance could still be beaten by a row outside its candidates (by the products' rounding bound) is searched
// again with more candidates, up to the whole bank. So the result is that of a float64 brute-force scan.

/** The K largest q·b of each query row over the rows of one bank block, and their rows in that block. */
export type TopK = (q: Float32Array, m: number, block: Float32Array, rows: number, d: number, K: number) => Promise<{ values: Float32Array; indices: Int32Array }>;

/** Bank rows per product: keeps the m×rows similarity block near 64 MB. */
const BANK_BLOCK = 16384;
const QUERY_BLOCK = 1024;
/** Candidates beyond k on the first try. */
const EXTRA = 64;

export interface Bank {
  data: Float32Array;
  rows: number;
  d: number;
  /** Smallest and largest ‖b‖² (float64) over the bank: bounds for the rounding argument. */
  minSq: number;
  maxSq: number;
}

export function bankOf(data: Float32Array, rows: number, d: number): Bank {
  let minSq = Infinity;
  let maxSq = 0;
  for (let t = 0; t < rows; t++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[t * d + j] * data[t * d + j];
    minSq = Math.min(minSq, s);
    maxSq = Math.max(maxSq, s);
  }
  return { data, rows, d, minSq, maxSq };
}

/** x/‖x‖ in float64 (0 for a zero row), as the bank rows were made. */
function normalized(x: Float32Array, off: number, d: number): Float64Array {
  let s = 0;
  for (let j = 0; j < d; j++) s += x[off + j] * x[off + j];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) out[j] = x[off + j] * inv;
  return out;
}

/** Per query, the K best (value, bank row) over all bank blocks, merged by float32 value. */
async function candidates(topk: TopK, bank: Bank, q32: Float32Array, m: number, K: number): Promise<{ values: Float32Array; rows: Int32Array }[]> {
  const { d } = bank;
  const lists: { v: number; r: number }[][] = Array.from({ length: m }, () => []);
  for (let start = 0; start < bank.rows; start += BANK_BLOCK) {
    const rows = Math.min(BANK_BLOCK, bank.rows - start);
    const kk = Math.min(K, rows);
    const { values, indices } = await topk(q32, m, bank.data.subarray(start * d, (start + rows) * d), rows, d, kk);
    for (let i = 0; i < m; i++) for (let j = 0; j < kk; j++) lists[i].push({ v: values[i * kk + j], r: start + indices[i * kk + j] });
  }
  return lists.map((l) => {
    l.sort((a, b) => b.v - a.v || a.r - b.r);
    const top = l.slice(0, K);
    return { values: Float32Array.from(top, (c) => c.v), rows: Int32Array.from(top, (c) => c.r) };
  });
}

/**
 * The k-th smallest ‖q̂ − b‖² (float64, summed in j order) of each finite query row over the bank; NaN for rows with a
 * non-finite value. k ≤ bank.rows.
 */
export async function kthNearestSq(topk: TopK, bank: Bank, x: Float32Array, n: number, k: number): Promise<Float64Array> {
  const { d } = bank;
  const out = new Float64Array(n).fill(NaN);
  // |fl32(q·b) − q̂·b| ≤ (γ_d + 2u)·‖b‖ for ‖q̂‖ = 1, u = 2⁻²⁴: any row outside the candidates is at least this close.
  const u = 2 ** -24;
  const delta = (((d + 4) * u) / (1 - (d + 4) * u)) * Math.sqrt(bank.maxSq) * 1.01;
  let pending: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < d && ok; j++) ok = Number.isFinite(x[i * d + j]);
    if (ok) pending.push(i);
  }
  for (let K = Math.min(bank.rows, k + EXTRA); pending.length; K = Math.min(bank.rows, K * 4)) {
    const retry: number[] = [];
    for (let from = 0; from < pending.length; from += QUERY_BLOCK) {
      const ids = pending.slice(from, from + QUERY_BLOCK);
      const q = ids.map((i) => normalized(x, i * d, d));
      const q32 = new Float32Array(ids.length * d);
      q.forEach((v, a) => q32.set(v, a * d));
      const lists = await candidates(topk, bank, q32, ids.length, K);
      ids.forEach((i, a) => {
        const { values, rows } = lists[a];
        // Only candidates whose product could still rank among the k best are measured: one further down than
        // 2δ (plus the spread of ‖b‖²) below the k-th is farther than k others whatever the rounding.
        const cut = values[k - 1] - 2 * delta - (bank.maxSq - bank.minSq) / 2 - 1e-12;
        const dist: number[] = [];
        for (let c = 0; c < rows.length && (c < k || values[c] >= cut); c++) {
          const r = rows[c];
          let s = 0;
          for (let j = 0; j < d; j++) { const e = q[a][j] - bank.data[r * d + j]; s += e * e; }
          dist.push(s);
        }
        dist.sort((x, y) => x - y);
        const kth = dist[k - 1];
        let qq = 0;
        for (let j = 0; j < d; j++) qq += q[a][j] * q[a][j];
        // Rows left out have q̂·b ≤ values[K − 1] + δ, hence ‖q̂ − b‖² ≥ ‖q̂‖² + min‖b‖² − 2(values[K − 1] + δ).
        const floor = qq + bank.minSq - 2 * (values[values.length - 1] + delta) - 1e-12;
        if (K >= bank.rows || kth <= floor) out[i] = kth;
        else retry.push(i);
      });
    }
    pending = retry;
  }
  return out;
}
