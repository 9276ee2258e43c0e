// PIL's resampling convolution (libImaging/Resample.c) in 8-bit fixed point, step for step: the taps, the horizontal
// pass on only the rows the vertical pass reads, the vertical pass, each rounded and clipped where Pillow does. Only
// the output pixels inside a window are computed (a centre crop costs only what it keeps).
import type { Pixels } from './pil';

export interface Filter { support: number; fn: (x: number) => number }

// 8 bits of result plus 2 bits of headroom for negative lobes and sums above 1 (Pillow's PRECISION_BITS).
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS, HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point taps per output pixel: bounds holds [first source index, tap count] pairs, k holds ksize slots per pixel. */
interface Coeffs { bounds: Int32Array; k: Int32Array; ksize: number }

/** A rectangle of an image, in that image's pixels. */
export interface Rect { x: number; y: number; width: number; height: number }

/** The taps of output pixels from .. from + count − 1 of a resize from inSize to outSize. */
function coefficients(inSize: number, outSize: number, f: Filter, from: number, count: number): Coeffs {
  const scale = inSize / outSize, filterscale = Math.max(scale, 1); // widen the kernel only when downscaling
  const support = f.support * filterscale, ksize = Math.ceil(support) * 2 + 1;
  const inv = 1 / filterscale; // Pillow multiplies by the reciprocal; dividing would round differently
  const bounds = new Int32Array(count * 2), k = new Int32Array(count * ksize), w = new Float64Array(ksize);
  for (let i = 0; i < count; i++) {
    const center = (from + i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) sum += (w[x] = f.fn((x + xmin - center + 0.5) * inv));
    for (let x = 0; x < n; x++) {
      const v = (sum !== 0 ? w[x] / sum : w[x]) * ONE;
      k[i * ksize + x] = Math.trunc(v < 0 ? v - 0.5 : v + 0.5); // round half away from zero
    }
    bounds[2 * i] = xmin, bounds[2 * i + 1] = n;
  }
  return { bounds, k, ksize };
}

// Uint8ClampedArray stores an integer by clamping to 0..255, which is exactly Pillow's clip8 after the shift.
// One function per channel count keeps each hot loop free of channel tests and its accumulators in registers.
function horizontal3(src: Uint8Array, srcW: number, y0: number, rows: number, co: Coeffs, outW: number): Uint8ClampedArray {
  const { bounds, k, ksize } = co, out = new Uint8ClampedArray(outW * rows * 3);
  for (let y = 0, o = 0; y < rows; y++) {
    const row = (y + y0) * srcW * 3;
    for (let xx = 0, kb = 0; xx < outW; xx++, o += 3, kb += ksize) {
      const n = bounds[2 * xx + 1];
      let s0 = HALF, s1 = HALF, s2 = HALF;
      for (let t = 0, p = row + bounds[2 * xx] * 3; t < n; t++, p += 3) {
        const kt = k[kb + t];
        s0 += src[p] * kt, s1 += src[p + 1] * kt, s2 += src[p + 2] * kt;
      }
      out[o] = s0 >> PRECISION_BITS, out[o + 1] = s1 >> PRECISION_BITS, out[o + 2] = s2 >> PRECISION_BITS;
    }
  }
  return out;
}

/** Any channel count: one accumulator per channel so each tap weight is loaded once. */
function horizontalN(src: Uint8Array, srcW: number, ch: number, y0: number, rows: number, co: Coeffs, outW: number): Uint8ClampedArray {
  const { bounds, k, ksize } = co, out = new Uint8ClampedArray(outW * rows * ch);
  for (let y = 0, o = 0; y < rows; y++) {
    const row = (y + y0) * srcW * ch;
    for (let xx = 0; xx < outW; xx++, o += ch) {
      const n = bounds[2 * xx + 1], kb = xx * ksize;
      let s0 = HALF, s1 = HALF, s2 = HALF, s3 = HALF;
      for (let t = 0, p = row + bounds[2 * xx] * ch; t < n; t++, p += ch) {
        const kt = k[kb + t];
        s0 += src[p] * kt;
        if (ch > 1) s1 += src[p + 1] * kt;
        if (ch > 2) s2 += src[p + 2] * kt;
        if (ch > 3) s3 += src[p + 3] * kt;
      }
      out[o] = s0 >> PRECISION_BITS;
      if (ch > 1) out[o + 1] = s1 >> PRECISION_BITS;
      if (ch > 2) out[o + 2] = s2 >> PRECISION_BITS;
      if (ch > 3) out[o + 3] = s3 >> PRECISION_BITS;
    }
  }
  return out;
}

function vertical(src: Uint8ClampedArray, rowLen: number, outH: number, co: Coeffs): Uint8ClampedArray {
  const { bounds, k, ksize } = co, out = new Uint8ClampedArray(rowLen * outH), acc = new Int32Array(rowLen);
  for (let yy = 0; yy < outH; yy++) {
    // Accumulate whole rows tap by tap: same integer sums as Pillow's per-pixel loop, but reads memory in order.
    acc.fill(HALF);
    const ymin = bounds[2 * yy], n = bounds[2 * yy + 1], kb = yy * ksize;
    for (let t = 0; t < n; t++) {
      const kt = k[kb + t], row = (ymin + t) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += src[row + i] * kt;
    }
    for (let i = 0, o = yy * rowLen; i < rowLen; i++) out[o + i] = acc[i] >> PRECISION_BITS;
  }
  return out;
}

/** Columns x .. x + width − 1 of `rows` rows from y0: a view when they are whole rows. */
export function columns(src: Uint8Array, srcW: number, ch: number, y0: number, rows: number, x: number, width: number): Uint8ClampedArray {
  if (x === 0 && width === srcW) return new Uint8ClampedArray(src.buffer, src.byteOffset + y0 * srcW * ch, rows * srcW * ch);
  const out = new Uint8ClampedArray(rows * width * ch);
  for (let y = 0; y < rows; y++) out.set(src.subarray(((y0 + y) * srcW + x) * ch, ((y0 + y) * srcW + x + width) * ch), y * width * ch);
  return out;
}

/**
 * Separable convolution as ImagingResampleInner does it (horizontal pass first, on only the rows the vertical pass
 * reads), computing only the output pixels inside `win`: each output pixel depends on its own taps alone, so
 * they are the same pixels Pillow computes for the whole image.
 */
export function convolve(img: Pixels, outW: number, outH: number, f: Filter, win: Rect): Uint8Array {
  const { data, width: w, height: h, channels: ch } = img;
  const vert = outH !== h ? coefficients(h, outH, f, win.y, win.height) : null;
  const last = 2 * win.height - 2;
  const y0 = vert ? vert.bounds[0] : win.y;
  const y1 = vert ? vert.bounds[last] + vert.bounds[last + 1] : win.y + win.height;
  let cur: Uint8ClampedArray;
  if (outW === w) cur = columns(data, w, ch, y0, y1 - y0, win.x, win.width);
  else {
    const co = coefficients(w, outW, f, win.x, win.width);
    cur = ch === 3 ? horizontal3(data, w, y0, y1 - y0, co, win.width) : horizontalN(data, w, ch, y0, y1 - y0, co, win.width);
  }
  if (vert) {
    for (let i = 0; i < win.height; i++) vert.bounds[2 * i] -= y0;
    cur = vertical(cur, win.width * ch, win.height, vert);
  }
  return new Uint8Array(cur.buffer, cur.byteOffset, cur.length);
}
