// The cache's read side, run by the decoding threads: a hit costs a stat, a hash, a binary search and a share of
// one read per run of consecutive entries, instead of reading and decoding the image. No engine state: only the
// job's index. Per file it allocates little: these threads run with a 2 MB young generation.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { SampleWriter } from '../image/preprocess';
import { HEADER_BYTES, RECORD_WORDS, crc32 } from './pack-format';
import { CacheState, type CacheJob, type CacheReply, type SpecIndex } from './messages';

/**
 * A file modified this recently is decoded but not stored: on file systems with coarse timestamps a second write
 * within the same tick keeps size and time, and the pixels stored could be the first version's (git's "racy" case).
 */
const SETTLE_MS = 2000;

const numbers = new Float64Array(2);
const numberWords = new Uint32Array(numbers.buffer);
const fmix = (h: number) => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * A 128-bit hash of (path, size, mtime) in four multiplicative lanes, mixed as MurmurHash3's finalizer does. Not
 * cryptographic (the keys are the user's own files): mixing like an ideal hash, a collision among a million keys
 * has odds near 2^-89. Several times cheaper than SHA-256, which every hit would pay for.
 */
function hashKey(file: string, size: number, mtimeMs: number, out: Uint32Array, at: number): void {
  let a = 0x9e3779b9, b = 0x85ebca6b, c = 0xc2b2ae35, d = 0x27d4eb2f;
  const mix = (x: number) => {
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
    c = Math.imul(c ^ x, 0x1b873593);
    d = Math.imul(d ^ x, 0xcc9e2d51);
  };
  for (let i = 0; i < file.length; i++) mix(file.charCodeAt(i));
  numbers[0] = size;
  numbers[1] = mtimeMs;
  for (let i = 0; i < 4; i++) mix(numberWords[i]);
  a = (a + b + c + d) | 0;
  b = (b + a) | 0, c = (c + a) | 0, d = (d + a) | 0;
  a = fmix(a), b = fmix(b), c = fmix(c), d = fmix(d);
  a = (a + b + c + d) | 0;
  out[at] = a >>> 0;
  out[at + 1] = (b + a) >>> 0;
  out[at + 2] = (c + a) >>> 0;
  out[at + 3] = (d + a) >>> 0;
}

/**
 * Writes the key of a file as it is now (absolute path, size, modification time) as four words at `out[at]`. The
 * time is Node's mtimeMs, a double: sub-microsecond steps, without the cost of BigInt stats. False when the file
 * cannot be stat'ed, is not a regular file (it is decoded, which reports why) or changed less than SETTLE_MS ago.
 */
export function fileKey(file: string, now: number, out: Uint32Array, at: number): boolean {
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || st.mtimeMs > now - SETTLE_MS) return false;
    hashKey(path.isAbsolute(file) ? file : path.resolve(file), st.size, st.mtimeMs, out, at);
    return true;
  } catch {
    return false;
  }
}

/** The record (index into the words) of `key` in the newest pack holding it, -1 when none; its pack in `pack[0]`. */
function find(index: SpecIndex, words: Uint32Array, keys: Uint32Array, k: number, pack: Int32Array): number {
  for (let p = 0; p < index.packs.length; p++) {
    const { first, count } = index.packs[p];
    let lo = first, hi = first + count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = mid * RECORD_WORDS;
      let d = 0;
      for (let w = 0; w < 4 && d === 0; w++) d = words[r + w] - keys[k + w];
      if (d === 0) {
        pack[0] = p;
        return r;
      }
      if (d < 0) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return -1;
}

/**
 * Per spec, the buffer cached pixels are read into, reused by every job of this thread: a job reads them and
 * fills its tensors in one synchronous stretch, so no two jobs use it at once.
 */
const scratch: Uint8Array[] = [];
function scratchFor(g: number, bytes: number): Uint8Array {
  if (!scratch[g] || scratch[g].length < bytes) scratch[g] = new Uint8Array(bytes);
  return scratch[g];
}

/** One decoding job's use of the cache: finds and reads every hit up front, then serves them sample by sample. */
export class JobCache {
  private readonly reply: CacheReply;
  private readonly hit: Uint8Array;
  private readonly pixels: Uint8Array[];

  constructor(private readonly job: CacheJob, files: readonly string[], private readonly sizes: number[]) {
    const n = files.length;
    const keys = new Uint32Array(n * 4);
    this.reply = { keys: new Uint8Array(keys.buffer), state: new Uint8Array(n), pixels: sizes.map(() => null), used: [] };
    this.hit = new Uint8Array(n);
    this.pixels = sizes.map((b, g) => scratchFor(g, n * b));
    // Per spec and sample: the record found (index into the words) and its pack.
    const records = sizes.map(() => new Int32Array(n).fill(-1));
    const packs = sizes.map(() => new Int32Array(n));
    const words = job.specs.map((index) => index && new Uint32Array(index.records));
    const pack = new Int32Array(1);
    const now = Date.now();
    for (let j = 0; j < n; j++) {
      if (!fileKey(files[j], now, keys, j * 4)) continue;
      let all = true;
      for (let g = 0; g < sizes.length && all; g++) {
        const index = job.specs[g];
        records[g][j] = index ? find(index, words[g]!, keys, j * 4, pack) : -1;
        packs[g][j] = pack[0];
        all = records[g][j] >= 0;
      }
      this.hit[j] = all ? 1 : 0;
    }
    sizes.forEach((_, g) => this.read(g, words[g], records[g], packs[g]));
  }

  /** Fills sample j of every tensor from the cache and returns true, or returns false: the sample is to be decoded. */
  fill(j: number, tensors: Float32Array[], write: SampleWriter[]): boolean {
    if (!this.hit[j]) return false;
    this.sizes.forEach((b, g) => write[g](this.pixels[g].subarray(j * b, (j + 1) * b), tensors[g], j));
    this.reply.state[j] = CacheState.Hit;
    return true;
  }

  /** Keeps sample j's decoded pixels (one image per spec) to be sent back and stored. */
  keep(j: number, images: readonly { data: Uint8Array }[]): void {
    if (!this.job.keep || images.some((img, g) => img.data.length !== this.sizes[g])) return;
    const n = this.hit.length;
    images.forEach((img, g) => (this.reply.pixels[g] ??= new Uint8Array(n * this.sizes[g])).set(img.data, j * this.sizes[g]));
    this.reply.state[j] = CacheState.Decoded;
  }

  finish(): CacheReply {
    return this.reply;
  }

  /**
   * Reads spec g's hits, one read per run of samples stored in consecutive slots of one pack (a re-run meets its
   * files in the order the first run stored them), and checks each entry's checksum: a mismatch is a miss.
   */
  private read(g: number, words: Uint32Array | null, records: Int32Array, packs: Int32Array): void {
    const index = this.job.specs[g];
    if (!index || !words) return;
    const b = this.sizes[g];
    const slot = (j: number) => words[records[j] + 4];
    const fds = new Map<number, number>();
    try {
      for (let j = 0; j < this.hit.length; ) {
        if (!this.hit[j]) {
          j++;
          continue;
        }
        let end = j + 1;
        while (end < this.hit.length && this.hit[end] && packs[end] === packs[j] && slot(end) === slot(j) + end - j) end++;
        const file = index.packs[packs[j]].file;
        const ok = this.readRun(file, fds, packs[j], slot(j) * b, this.pixels[g].subarray(j * b, end * b));
        for (let i = j; i < end; i++) {
          if (!ok || crc32(this.pixels[g].subarray(i * b, (i + 1) * b)) !== words[records[i] + 5]) this.hit[i] = 0;
        }
        if (ok && !this.reply.used.includes(file)) this.reply.used.push(file);
        j = end;
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
  }

  private readRun(file: string, fds: Map<number, number>, pack: number, offset: number, into: Uint8Array): boolean {
    try {
      let fd = fds.get(pack);
      if (fd === undefined) fds.set(pack, (fd = openSync(file, 'r')));
      return readSync(fd, into, 0, into.length, HEADER_BYTES + offset) === into.length;
    } catch {
      // Evicted by another process since the index was read, or unreadable: misses.
      return false;
    }
  }
}
