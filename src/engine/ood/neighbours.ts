// Helpers of the neighbour methods (KNN, NNGuide, Relation), whose similarity products run on the dense engine.

/** 1/‖x row‖ in float64; 0 for a zero row, so that zero vectors stay zero (as KNN's bank rows). */
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
