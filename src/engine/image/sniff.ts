/**
 * Identifies a file from its first bytes, whatever its extension says. Only raster formats that sharp decodes
 * pass; everything else gets a reason a person can act on. This also keeps libvips' other loaders (SVG with
 * its external references, for one) away from dataset files.
 */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'avif';
export type Sniffed = { format: ImageFormat } | { refused: string };

/** Bytes the caller should read for `sniffImage`. */
export const SNIFF_BYTES = 512;

export const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', gif: 'GIF', webp: 'WebP', tiff: 'TIFF', avif: 'AVIF' };

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  return b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
}

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** ISO BMFF brand (HEIF family) at bytes 8–11 when bytes 4–7 are "ftyp". */
function ftypBrand(b: Uint8Array): string | null {
  return b.length >= 12 && ascii(b, 4, 8) === 'ftyp' ? ascii(b, 8, 12) : null;
}

/** Mostly printable: tabs, line breaks, ASCII text or UTF-8 sequences, no NUL or other control bytes. */
function looksLikeText(b: Uint8Array): boolean {
  for (const v of b) if (v === 0 || (v < 32 && v !== 9 && v !== 10 && v !== 13) || v === 127) return false;
  return true;
}

export function sniffImage(head: Uint8Array): Sniffed {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { format: 'jpeg' };
  if (startsWith(head, [0x47, 0x49, 0x46, 0x38])) return { format: 'gif' };
  if (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8)) return { format: 'webp' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a]) || startsWith(head, [0x49, 0x49, 0x2b, 0x00])) return { format: 'tiff' };
  const brand = ftypBrand(head);
  if (brand === 'avif' || brand === 'avis') return { format: 'avif' };
  if (brand && /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)) return { refused: 'HEIC images are not supported; convert them to JPEG or PNG' };
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(head[14] | (head[15] << 8))) {
    return { refused: 'BMP images are not supported; convert them to PNG' };
  }
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) return { refused: 'not an image: the file is a PDF' };
  const text = Buffer.from(head).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  if (text.startsWith('<')) {
    if (text.includes('<svg')) return { refused: 'SVG (vector) images are not supported; only raster images are scored' };
    if (text.startsWith('<!doctype html') || text.includes('<html')) return { refused: 'not an image: the file is HTML' };
    return { refused: 'not an image: the file is XML or other markup' };
  }
  if (head.length && looksLikeText(head)) return { refused: 'not an image: the file is text' };
  const hex = Array.from(head.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return { refused: `not an image: unrecognised content (starts with ${hex})` };
}
