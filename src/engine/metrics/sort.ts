// Ascending sort of float64 scores without NaN, by LSD radix on the IEEE-754 bits: about 2x faster than
// Float64Array.prototype.sort at 5M values (0.3 s vs 0.6 s per split measured), the bulk of exact AUROC's cost.

// 11-bit digits (6 passes over 64 bits): 2K-bucket scatters stay cache-friendly, unlike 16-bit ones.
const DIGIT_BITS = 11;
const RADIX = 1 << DIGIT_BITS;
const MASK = RADIX - 1;
const PASSES = 6;
/** Below this size the built-in sort is as fast and needs no scratch buffer. */
const RADIX_MIN = 1 << 15;

/** Copies the non-NaN values of `values` and sorts them ascending (−0 before +0); the input is untouched. */
export function sortedWithoutNaN(values: Float64Array): Float64Array {
  let kept = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) kept++;
  const out = new Float64Array(kept);
  if (kept === values.length) out.set(values);
  else for (let i = 0, j = 0; i < values.length; i++) if (values[i] === values[i]) out[j++] = values[i];
  if (kept < RADIX_MIN) return out.sort();
  radixSortInPlace(out);
  return out;
}

function radixSortInPlace(a: Float64Array): void {
  const n = a.length;
  const words = new Uint32Array(a.buffer, a.byteOffset, n * 2); // little endian: [lo, hi] per value
  // Map to unsigned keys with the same order (negatives flip every bit, non-negatives flip the sign bit) and
  // count every digit in the same pass.
  const hist = new Uint32Array(PASSES * RADIX);
  for (let i = 0; i < n; i++) {
    let lo = words[2 * i];
    let hi = words[2 * i + 1];
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else {
      hi = (hi | 0x80000000) >>> 0;
    }
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
    hist[lo & MASK]++;
    hist[RADIX + ((lo >>> 11) & MASK)]++;
    hist[2 * RADIX + ((lo >>> 22) | ((hi & 1) << 10))]++;
    hist[3 * RADIX + ((hi >>> 1) & MASK)]++;
    hist[4 * RADIX + ((hi >>> 12) & MASK)]++;
    hist[5 * RADIX + (hi >>> 23)]++;
  }
  let src: Uint32Array = words;
  let dst: Uint32Array = new Uint32Array(n * 2);
  for (let pass = 0; pass < PASSES; pass++) {
    const base = pass * RADIX;
    // A digit shared by every key cannot change the order: skip the pass.
    let skip = false;
    for (let b = 0; b < RADIX; b++) {
      const c = hist[base + b];
      if (c === n) skip = true;
      if (c !== 0) break;
    }
    if (skip) continue;
    let sum = 0;
    for (let b = 0; b < RADIX; b++) {
      const c = hist[base + b];
      hist[base + b] = sum;
      sum += c;
    }
    scatter(src, dst, hist, base, pass, n);
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1];
    if (hi & 0x80000000) {
      words[2 * i] = src[2 * i];
      words[2 * i + 1] = hi & 0x7fffffff;
    } else {
      words[2 * i] = ~src[2 * i];
      words[2 * i + 1] = ~hi;
    }
  }
}

// One loop per digit position so each has constant shifts (a shared switch in the hot loop is ~2x slower).
function scatter(src: Uint32Array, dst: Uint32Array, hist: Uint32Array, base: number, pass: number, n: number): void {
  if (pass < 2) {
    const shift = 11 * pass;
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i];
      const p = 2 * hist[base + ((lo >>> shift) & MASK)]++;
      dst[p] = lo;
      dst[p + 1] = src[2 * i + 1];
    }
  } else if (pass === 2) {
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i];
      const hi = src[2 * i + 1];
      const p = 2 * hist[base + ((lo >>> 22) | ((hi & 1) << 10))]++;
      dst[p] = lo;
      dst[p + 1] = hi;
    }
  } else {
    const shift = 11 * pass - 32;
    for (let i = 0; i < n; i++) {
      const hi = src[2 * i + 1];
      const p = 2 * hist[base + ((hi >>> shift) & MASK)]++;
      dst[p] = src[2 * i];
      dst[p + 1] = hi;
    }
  }
}
