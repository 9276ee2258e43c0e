// A JPEG's size and EXIF orientation, read from its markers without decoding it: the draft path (decode.ts) needs
// them to choose the resize target before libvips decodes the image at a reduced scale.

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when there is none); 5–8 turn the image by 90°. */
  orientation: number;
}

const u16 = (b: Uint8Array, p: number, le = false) => (le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]);
const u32 = (b: Uint8Array, p: number, le: boolean) => (le ? (u16(b, p + 2, true) << 16) | u16(b, p, true) : (u16(b, p) << 16) | u16(b, p + 2)) >>> 0;

/** The Orientation tag (0x0112) of IFD0 of the TIFF structure at `tiff` (inside an APP1 "Exif" segment ending at `end`). */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number | null {
  if (tiff + 8 > end) return null;
  const le = b[tiff] === 0x49 && b[tiff + 1] === 0x49;
  if (!le && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return null;
  const ifd = tiff + u32(b, tiff + 4, le);
  if (ifd + 2 > end) return null;
  const count = u16(b, ifd, le);
  for (let i = 0, e = ifd + 2; i < count && e + 12 <= end; i++, e += 12) {
    if (u16(b, e, le) !== 0x0112) continue;
    const v = u16(b, e + 8, le);
    return v >= 1 && v <= 8 ? v : null;
  }
  return null;
}

const isExif = (b: Uint8Array, p: number) => b[p] === 0x45 && b[p + 1] === 0x78 && b[p + 2] === 0x69 && b[p + 3] === 0x66 && b[p + 4] === 0 && b[p + 5] === 0;

/** Walks the markers up to the frame header (SOFn); null when the bytes end first or are not a JPEG's. */
export function jpegHeader(b: Uint8Array): JpegHeader | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let orientation: number | null = null;
  for (let p = 2; p + 4 <= b.length;) {
    if (b[p] !== 0xff) return null;
    const m = b[p + 1];
    if (m === 0xff) {
      p++; // fill byte
      continue;
    }
    const len = u16(b, p + 2);
    const seg = p + 4, end = Math.min(p + 2 + len, b.length);
    if (len < 2 || m === 0xda) return null; // start of scan before any frame header
    // The first APP1 "Exif" segment is the one libvips reads.
    if (m === 0xe1 && orientation === null && isExif(b, seg)) orientation = exifOrientation(b, seg + 6, end) ?? 1;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (seg + 5 > b.length) return null;
      const height = u16(b, seg + 1), width = u16(b, seg + 3);
      return width > 0 && height > 0 ? { width, height, orientation: orientation ?? 1 } : null;
    }
    p += 2 + len;
  }
  return null;
}
