import { inflateSync } from 'node:zlib';

/**
 * A fast path for the most common dataset files: small 8-bit, non-interlaced PNGs. libvips' per-image pipeline
 * set-up costs more than decoding a 28×28 PNG, so these are decoded here (and resized in JavaScript, as every
 * image is); everything else (16-bit, interlaced, EXIF-carrying, over `maxPixels`) returns null and goes through
 * sharp. Corrupt data also returns null so that sharp produces the error message.
 */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA. */
  channels: number;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Pixels the fast path inflates at most: a small file may still claim a huge (flat) image. */
export const FAST_MAX_PIXELS = 4_000_000;

/** Decodes `buf` when it is a simple PNG of at most `maxPixels`; the size is checked before inflating. */
export function decodeSimplePng(buf: Uint8Array, maxPixels = FAST_MAX_PIXELS): RawImage | null {
  if (buf.length < 33) return null;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  let width = 0, height = 0, colorType = -1;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (off + 8 <= buf.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(buf[off + 4], buf[off + 5], buf[off + 6], buf[off + 7]);
    const start = off + 8;
    if (start + len + 4 > buf.length) return null;
    const body = buf.subarray(start, start + len);
    if (type === 'IHDR') {
      width = view.getUint32(start);
      height = view.getUint32(start + 4);
      const depth = body[8];
      colorType = body[9];
      const interlace = body[12];
      if (depth !== 8 || interlace !== 0 || !(colorType in CHANNELS)) return null;
      // A larger image goes to sharp, which streams: inflating a 10,000 × 10,000 image here would not.
      if (width * height > maxPixels) return null;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'eXIf') return null; // orientation must be applied: leave it to sharp
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    off = start + len + 4;
  }
  if (!ended || width === 0 || height === 0 || idat.length === 0) return null;
  if (colorType === 3 && !palette) return null;
  const srcChannels = CHANNELS[colorType];
  const stride = width * srcChannels;
  let raw: Buffer;
  try {
    // A zlib bomb stops at the size the header promises.
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: (stride + 1) * height });
  } catch {
    return null;
  }
  if (raw.length < (stride + 1) * height) return null;
  const px = new Uint8Array(stride * height);
  if (!unfilter(raw, px, stride, height, srcChannels)) return null;
  if (colorType === 3) {
    const pal = palette!;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < px.length; i++) {
      const p = px[i] * 3;
      if (p + 2 >= pal.length) return null;
      rgb[i * 3] = pal[p];
      rgb[i * 3 + 1] = pal[p + 1];
      rgb[i * 3 + 2] = pal[p + 2];
    }
    return { data: rgb, width, height, channels: 3 };
  }
  return { data: px, width, height, channels: srcChannels };
}

/** Reverses PNG row filters; one loop per filter type, since this runs for every byte of every image. */
function unfilter(raw: Uint8Array, out: Uint8Array, stride: number, height: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const r = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    const first = y === 0;
    switch (filter) {
      case 0:
        out.set(raw.subarray(r, r + stride), row);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[row + x] = raw[r + x] + (x >= bpp ? out[row + x - bpp] : 0);
        break;
      case 2:
        if (first) out.set(raw.subarray(r, r + stride), row);
        else for (let x = 0; x < stride; x++) out[row + x] = raw[r + x] + out[prev + x];
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[row + x - bpp] : 0;
          out[row + x] = raw[r + x] + ((a + (first ? 0 : out[prev + x])) >> 1);
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const left = x >= bpp;
          const a = left ? out[row + x - bpp] : 0;
          const b = first ? 0 : out[prev + x];
          const c = first || !left ? 0 : out[prev + x - bpp];
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          out[row + x] = raw[r + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return false;
    }
  }
  return true;
}
