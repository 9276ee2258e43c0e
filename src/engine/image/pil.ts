// Bit-exact ports of the Pillow operations Python preprocessing runs on 8-bit images, so that inputs built here match
// what a torchvision / Hugging Face pipeline feeds the model. The arithmetic follows libImaging (Resample.c,
// Geometry.c, Convert.c) step for step: any change in rounding order shows up as off-by-one pixels, which
// test/unit/pil.test.ts checks against real Pillow output.
import { columns, convolve, type Filter, type Rect } from './pil-convolve';

export type { Rect } from './pil-convolve';
export type Interpolation = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';
export interface Pixels { data: Uint8Array; width: number; height: number; channels: number } // interleaved, channels 1..4

// Pillow writes these as float literals (0.54f) inside double arithmetic, so their float32 values are what counts.
const H054 = Math.fround(0.54), H046 = Math.fround(0.46);

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));
function hamming(x: number): number {
  x = Math.abs(x);
  if (x === 0) return 1;
  if (x >= 1) return 0;
  const t = x * Math.PI;
  return Math.sin(t) / t * (H054 + H046 * Math.cos(t));
}

const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, fn: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  hamming: { support: 1, fn: hamming },
  // Keys' cubic with a = -0.5, written with the constants Pillow folds at compile time.
  bicubic: { support: 2, fn: (x) => { x = Math.abs(x); return x < 1 ? (1.5 * x - 2.5) * x * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * -0.5 : 0; } },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Source index per output index for NEAREST, which Pillow routes through ImagingScaleAffine, not the convolution. */
function nearestIndex(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize), step = inSize / outSize;
  // Pillow walks the coordinate by repeated addition; its accumulated rounding differs from (i + 0.5) * step.
  for (let i = 0, pos = step * 0.5; i < outSize; i++, pos += step) {
    idx[i] = Math.trunc(pos) < inSize ? Math.trunc(pos) : -1; // -1: left at Pillow's zero fill
  }
  return idx;
}

function nearest(img: Pixels, outW: number, outH: number, win: Rect): Uint8Array {
  const { data, width: w, channels: ch } = img;
  const xs = nearestIndex(w, outW).subarray(win.x, win.x + win.width), ys = nearestIndex(img.height, outH).subarray(win.y, win.y + win.height);
  const out = new Uint8Array(win.width * win.height * ch);
  for (let y = 0, o = 0; y < win.height; y++) {
    const row = ys[y] * w;
    for (let x = 0; x < win.width; x++, o += ch) {
      if (ys[y] < 0 || xs[x] < 0) continue;
      const p = (row + xs[x]) * ch;
      for (let c = 0; c < ch; c++) out[o + c] = data[p + c];
    }
  }
  return out;
}

/** Pillow resizes LA/RGBA as premultiplied La/RGBa (MULDIV255) and divides back with truncation afterwards. */
function premultiply(src: Uint8Array, ch: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += ch) {
    const a = src[p + ch - 1];
    for (let c = 0; c < ch - 1; c++) {
      const t = src[p + c] * a + 128;
      out[p + c] = ((t >> 8) + t) >> 8;
    }
    out[p + ch - 1] = a;
  }
  return out;
}

function unpremultiply(buf: Uint8Array, ch: number): void {
  for (let p = 0; p < buf.length; p += ch) {
    const a = buf[p + ch - 1];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < ch - 1; c++) buf[p + c] = Math.min(255, Math.trunc((255 * buf[p + c]) / a));
  }
}

/** Refuses what Pillow refuses (sizes below 1) and buffers that do not match their geometry. */
function check(img: Pixels, w = img.width, h = img.height): void {
  const ok = (n: number, max = Infinity): boolean => Number.isInteger(n) && n >= 1 && n <= max;
  if (![img.width, img.height, w, h].every((n) => ok(n)) || !ok(img.channels, 4)) {
    throw new RangeError(`bad image geometry ${img.width}x${img.height}x${img.channels} -> ${w}x${h}`);
  }
  if (img.data.length !== img.width * img.height * img.channels) throw new RangeError('pixel buffer length does not match width*height*channels');
}

/**
 * PIL's Image.resize((width, height), resample) with reducing_gap=None and no box, for modes L, LA, RGB, RGBA (8 bits
 * per channel). With `win`, only that rectangle of the result is computed and returned (win.width × win.height):
 * a centre crop after the resize then costs only the pixels it keeps.
 */
export function resizePil(img: Pixels, width: number, height: number, filter: Interpolation, win: Rect = { x: 0, y: 0, width, height }): Pixels {
  check(img, width, height);
  if (!(win.x >= 0 && win.y >= 0 && win.width >= 1 && win.height >= 1 && win.x + win.width <= width && win.y + win.height <= height)) {
    throw new RangeError(`window ${win.width}x${win.height}+${win.x}+${win.y} outside ${width}x${height}`);
  }
  const ch = img.channels;
  const wrap = (data: Uint8Array): Pixels => ({ data, width: win.width, height: win.height, channels: ch });
  if (width === img.width && height === img.height) return wrap(new Uint8Array(columns(img.data, width, ch, win.y, win.height, win.x, win.width).slice().buffer));
  if (filter === 'nearest') return wrap(nearest(img, width, height, win));
  if (!Object.hasOwn(FILTERS, filter)) throw new RangeError(`unknown filter ${String(filter)}`);
  const f = FILTERS[filter];
  if (ch === 1 || ch === 3) return wrap(convolve(img, width, height, f, win));
  const out = convolve({ ...img, data: premultiply(img.data, ch) }, width, height, f, win);
  unpremultiply(out, ch);
  return wrap(out);
}

/** PIL's Image.convert('L') from RGB/RGBA (ITU-R 601-2 luma with PIL's fixed-point rounding: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16); from LA takes L. Returns 1 channel. */
export function toGray(img: Pixels): Pixels {
  check(img);
  const { data, channels: ch } = img, n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += ch) out[i] = ch < 3 ? data[p] : (data[p] * 19595 + data[p + 1] * 38470 + data[p + 2] * 7471 + 0x8000) >> 16;
  return { data: out, width: img.width, height: img.height, channels: 1 };
}

/** PIL's convert('RGB'): gray replicated, alpha dropped (not blended). Returns 3 channels. */
export function toRgb(img: Pixels): Pixels {
  check(img);
  const { data, channels: ch } = img, n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const g = ch < 3 ? 0 : 1; // gray sources read channel 0 three times
  for (let i = 0, p = 0, o = 0; i < n; i++, p += ch, o += 3) out[o] = data[p], out[o + 1] = data[p + g], out[o + 2] = data[p + 2 * g];
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/** First source index of a centre crop along one axis; negative when the crop is larger and zero padding shows. */
function cropStart(size: number, crop: number, rounding: 'round' | 'floor'): number {
  const d = size - crop;
  // transformers: (orig - crop) // 2, and its ceil((new - orig) / 2) top padding lands on the same offset.
  if (rounding === 'floor') return Math.floor(d / 2);
  // torchvision pads (crop - size) // 2 in front, then crops at offset 0.
  if (d < 0) return -Math.floor(-d / 2);
  const half = Math.floor(d / 2); // round((size - crop) / 2.0) with Python's half-to-even
  return d % 2 === 0 || half % 2 === 0 ? half : half + 1;
}

/** Where a centre crop of width×height sits in an image of w×h (x, y negative where padding shows). */
export function cropRect(w: number, h: number, width: number, height: number, rounding: 'round' | 'floor'): Rect {
  return { x: cropStart(w, width, rounding), y: cropStart(h, height, rounding), width, height };
}

/** Center crop to width×height. 'round' = torchvision's F.center_crop (half-to-even offset, zero padding (d // 2) in front when larger); 'floor' = Hugging Face image processors' center_crop (floor offset, zero padding ceil(d / 2) in front when larger). */
export function centerCrop(img: Pixels, width: number, height: number, rounding: 'round' | 'floor'): Pixels {
  check(img, width, height);
  const { data, width: w, height: h, channels: ch } = img;
  const x0 = cropStart(w, width, rounding), y0 = cropStart(h, height, rounding);
  const out = new Uint8Array(width * height * ch); // zeros are the padding both libraries use
  const xa = Math.max(0, -x0), xb = Math.min(width, w - x0);
  for (let y = Math.max(0, -y0); y < Math.min(height, h - y0) && xb > xa; y++) {
    const src = ((y + y0) * w + x0) * ch;
    out.set(data.subarray(src + xa * ch, src + xb * ch), (y * width + xa) * ch);
  }
  return { data: out, width, height, channels: ch };
}

/** torchvision's Resize(size) output size for an int size: the shorter side becomes `size`, the longer int(size * long / short) (truncation), as torchvision.transforms.functional._compute_resized_output_size does (max_size ignored). Returns [width, height]. */
export function shorterSideSize(width: number, height: number, size: number): [number, number] {
  return width <= height ? [size, Math.trunc((size * height) / width)] : [Math.trunc((size * width) / height), size];
}
