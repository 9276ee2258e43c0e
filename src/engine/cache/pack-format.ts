// The preprocessed-image cache's file format. A pack holds the model-size uint8 pixels of many images made with one
// preprocessing spec, so that 25,000 small images are a few files, not 25,000:
//
//   header  64 bytes: magic "OODLPAK1", sampleBytes u32, count u32, spec hash (16 bytes), index CRC-32 u32,
//           zeros, header CRC-32 u32 (bytes 0..59)
//   data    count × sampleBytes: entry slot i at 64 + i × sampleBytes
//   index   count × 24 bytes: key (4 × u32), slot u32, CRC-32 of the entry's pixels u32; sorted by key
//
// Numbers are little-endian (every platform Node ships for). A pack is written under a temporary name and renamed
// when complete, so a pack under its final name that fails any check is damaged: it is ignored, never trusted.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';

export const HEADER_BYTES = 64;
/** Words per index record: key0..key3, slot, crc. */
export const RECORD_WORDS = 6;
export const RECORD_BYTES = RECORD_WORDS * 4;
export const KEY_BYTES = 16;
const MAGIC = 'OODLPAK1';

/** A pack as the index knows it: which file, its records' range in the index, its sample size. */
export interface PackRef {
  file: string;
  first: number;
  count: number;
}

/** CRC-32 (zlib's polynomial): native since Node 20.15; the table below serves older versions. */
export const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (d: Uint8Array) => number }).crc32 ?? tableCrc32;

let table: Int32Array | undefined;
function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Orders index records by key, word by word as unsigned numbers (the order the lookup searches in). */
export function compareKeys(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let w = 0; w < 4; w++) {
    const d = a[ai + w] - b[bi + w];
    if (d !== 0) return d;
  }
  return 0;
}

export function encodeHeader(sampleBytes: number, count: number, specHash: Uint8Array, indexCrc: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  h.set(Buffer.from(MAGIC, 'latin1'), 0);
  v.setUint32(8, sampleBytes, true);
  v.setUint32(12, count, true);
  h.set(specHash.subarray(0, 16), 16);
  v.setUint32(32, indexCrc, true);
  v.setUint32(60, crc32(h.subarray(0, 60)), true);
  return h;
}

/**
 * Reads a pack's index (records as u32 words) after checking everything that can be checked without reading the
 * pixels: magic, header checksum, spec, sample size, file length and index checksum. 'damaged' when a check
 * fails; null when the file cannot be read at all (gone, no permission).
 */
export function readPackIndex(file: string, specHash: Uint8Array, sampleBytes: number): Uint32Array | 'damaged' | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const h = new Uint8Array(HEADER_BYTES);
    if (readSync(fd, h, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return 'damaged';
    const v = new DataView(h.buffer);
    if (Buffer.from(h.subarray(0, 8)).toString('latin1') !== MAGIC || v.getUint32(60, true) !== crc32(h.subarray(0, 60))) return 'damaged';
    const count = v.getUint32(12, true);
    if (v.getUint32(8, true) !== sampleBytes || Buffer.compare(h.subarray(16, 32), specHash.subarray(0, 16)) !== 0) return 'damaged';
    const indexAt = HEADER_BYTES + count * sampleBytes;
    if (fstatSync(fd).size !== indexAt + count * RECORD_BYTES) return 'damaged';
    const records = new Uint32Array(count * RECORD_WORDS);
    const bytes = new Uint8Array(records.buffer);
    if (readSync(fd, bytes, 0, bytes.length, indexAt) !== bytes.length || crc32(bytes) !== v.getUint32(32, true)) return 'damaged';
    return records;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
