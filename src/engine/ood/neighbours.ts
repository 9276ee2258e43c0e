// Exact similarity scans against a bank of fit rows, shared by NNGuide and Relation. The bank keeps the fit
// features as float32 (what onnxruntime gave), with per-row float64 factors (1/‖h‖, confidence) applied after the
// dot product: float32 × float32 products are exact in float64, so a scan differs from a float64 reference only by
// summation order, and the bank takes half the memory of a float64 copy.

/** Query rows scored together: their dot products with the bank (QUERY_BLOCK × N float64) stay small. */
export const QUERY_BLOCK = 16;

/**
 * out[i·nb + t] = Σ_j x[(from + i)·d + j] · y[t·d + j] for i < nq, t < nb, summed in float64 in j order.
 * The one dense product of the scans — the place for a BLAS or onnxruntime MatMul. Four query rows share each
 * read of a bank row; every pair is still summed alone, in the same order, so no result depends on the
 * position of its row in the block or in the batch.
 */
export function dots(x: Float32Array, from: number, nq: number, y: Float32Array, nb: number, d: number, out: Float64Array): void {
  for (let i = 0; i < nq; i += 4) {
    const m = Math.min(4, nq - i);
    const a0 = (from + i) * d;
    // Missing rows of a last partial group re-read row a0; their sums are not stored.
    const a1 = m > 1 ? a0 + d : a0, a2 = m > 2 ? a0 + 2 * d : a0, a3 = m > 3 ? a0 + 3 * d : a0;
    const o = i * nb;
    for (let t = 0; t < nb; t++) {
      const b = t * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < d; j++) {
        const v = y[b + j];
        s0 += x[a0 + j] * v;
        s1 += x[a1 + j] * v;
        s2 += x[a2 + j] * v;
        s3 += x[a3 + j] * v;
      }
      out[o + t] = s0;
      if (m > 1) out[o + nb + t] = s1;
      if (m > 2) out[o + 2 * nb + t] = s2;
      if (m > 3) out[o + 3 * nb + t] = s3;
    }
  }
}

/** 1/‖x row‖ in float64; 0 for a zero row, so that zero vectors stay zero (as KnnDetector). */
export function invNorm(x: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += x[off + j] * x[off + j];
  return s > 0 ? 1 / Math.sqrt(s) : 0;
}

/**
 * Mean of the k largest of v[off..off+n) (1 ≤ k ≤ n), through a min-heap of the k best (heap: ≥ k scratch).
 * Which of several tied values enters changes nothing, and the k values are summed in sorted order, so the
 * result does not depend on the order of v.
 */
export function topKMean(v: Float64Array, off: number, n: number, k: number, heap: Float64Array): number {
  let size = 0;
  for (let t = 0; t < n; t++) {
    const x = v[off + t];
    if (size < k) {
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (heap[p] <= x) break;
        heap[c] = heap[p];
        c = p;
      }
      heap[c] = x;
    } else if (x > heap[0]) {
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= k) break;
        const s = l + 1 < k && heap[l + 1] < heap[l] ? l + 1 : l;
        if (heap[s] >= x) break;
        heap[c] = heap[s];
        c = s;
      }
      heap[c] = x;
    }
  }
  const top = heap.subarray(0, k).sort();
  let sum = 0;
  for (let i = 0; i < k; i++) sum += top[i];
  return sum / k;
}
