// Row helpers for [n, w] row-major arrays, shared by the OOD methods and the trust metrics.

/** True when row i of x (width w) is all finite. */
export function finiteRow(x: ArrayLike<number>, i: number, w: number): boolean {
  for (let j = i * w, end = j + w; j < end; j++) if (!Number.isFinite(x[j])) return false;
  return true;
}

/**
 * Softmax of z[off .. off+k) into out[o .. o+k) in float64: shifted by the row's maximum, exponentials summed in
 * class order, each divided by the sum. Returns logsumexp(z). One definition, so every score sees the same
 * probabilities to the last bit (conformal sets at q̂ depend on it).
 */
export function softmaxInto(z: ArrayLike<number>, off: number, k: number, out: Float64Array, o = 0): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, z[off + c]);
  let s = 0;
  for (let c = 0; c < k; c++) s += (out[o + c] = Math.exp(z[off + c] - m));
  for (let c = 0; c < k; c++) out[o + c] /= s;
  return m + Math.log(s);
}
