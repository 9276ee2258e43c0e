// Writes one pack: entries go to a temporary file as they arrive (positional writes, so their order does not
// matter), and finish() adds the sorted index and the header, then renames it into place. Two processes never
// share a file: each pack has its own name, and a reader only ever sees complete packs.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { HEADER_BYTES, RECORD_WORDS, compareKeys, crc32, encodeHeader } from './pack-format';

/** A finished pack: its file and its index records, sorted. */
export interface WrittenPack {
  file: string;
  records: Uint32Array;
}

/** Entries of one pack at most: the entry number must fit below the first key word in a float64 (sortedRecords). */
export const MAX_PACK_ENTRIES = 2 ** 21;
const ENTRY_SPAN = MAX_PACK_ENTRIES;

/** Pixels of entries handed to the file system but not yet written, above which new entries are dropped. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export class PackWriter {
  private readonly tmp: string;
  private readonly final: string;
  private readonly handle: Promise<fs.FileHandle>;
  /** Index records in entry order (key words, slot, crc), grown by doubling. */
  private records = new Uint32Array(64 * RECORD_WORDS);
  private entries = 0;
  private readonly writes: Promise<unknown>[] = [];
  private pending = 0;
  private failed: unknown;

  constructor(dir: string, private readonly sampleBytes: number, private readonly specHash: Uint8Array) {
    // Names sort by creation time, which keeps the index's newest-first order readable in a listing.
    const name = `${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.final = path.join(dir, `${name}.pack`);
    this.tmp = path.join(dir, `${name}.pack.tmp`);
    this.handle = fs.open(this.tmp, 'w');
    this.handle.catch((e) => (this.failed = e));
  }

  get count(): number {
    return this.entries;
  }

  get bytes(): number {
    return HEADER_BYTES + this.count * (this.sampleBytes + RECORD_WORDS * 4);
  }

  /** Adds entries in consecutive slots, written with one call; dropped when a write failed or the disk is far behind. */
  add(entries: readonly { key: Uint8Array; pixels: Uint8Array }[]): void {
    if (this.failed !== undefined || this.pending > MAX_PENDING_BYTES || entries.some((e) => e.pixels.length !== this.sampleBytes)) return;
    const at = HEADER_BYTES + this.entries * this.sampleBytes;
    if ((this.entries + entries.length) * RECORD_WORDS > this.records.length) {
      const grown = new Uint32Array(Math.max(2 * this.records.length, (this.entries + entries.length) * RECORD_WORDS));
      grown.set(this.records);
      this.records = grown;
    }
    for (const e of entries) {
      const r = this.entries * RECORD_WORDS;
      // Little-endian words, as the decoding threads read the same key bytes through a Uint32Array.
      for (let w = 0; w < 4; w++) this.records[r + w] = (e.key[4 * w] | (e.key[4 * w + 1] << 8) | (e.key[4 * w + 2] << 16) | (e.key[4 * w + 3] << 24)) >>> 0;
      this.records[r + 4] = this.entries++;
      this.records[r + 5] = crc32(e.pixels);
    }
    const bytes = entries.length * this.sampleBytes;
    this.pending += bytes;
    const chunks = adjacentMerged(entries.map((e) => e.pixels));
    const write = this.handle
      .then((h) => h.writev(chunks, at))
      .then(() => (this.pending -= bytes), (e) => (this.failed ??= e));
    this.writes.push(write);
  }

  /** Completes the pack and renames it into place: the pack, or null when it is empty or could not be written. */
  async finish(): Promise<WrittenPack | null> {
    await Promise.all(this.writes);
    const handle = await this.handle.catch(() => null);
    try {
      if (!handle || this.failed !== undefined || this.count === 0) return null;
      const records = this.sortedRecords();
      const index = new Uint8Array(records.buffer);
      await handle.write(index, 0, index.length, HEADER_BYTES + this.count * this.sampleBytes);
      await handle.write(encodeHeader(this.sampleBytes, this.count, this.specHash, crc32(index)), 0, HEADER_BYTES, 0);
      await handle.close();
      await fs.rename(this.tmp, this.final);
      return { file: this.final, records };
    } catch (e) {
      this.failed ??= e;
      return null;
    } finally {
      await handle?.close().catch(() => undefined);
      if (this.failed !== undefined || this.count === 0) await fs.rm(this.tmp, { force: true }).catch(() => undefined);
    }
  }

  /** Why the pack could not be written (undefined when it could). */
  get error(): unknown {
    return this.failed;
  }

  /**
   * The index sorted by key. Keys are sorted by their first word with the entry number in the low bits of one
   * float64 (a native numeric sort: 25,000 entries in a few ms, where a comparator took 40+), then the rare runs
   * sharing a first word by the whole key.
   */
  private sortedRecords(): Uint32Array {
    const n = this.entries;
    const records = this.records;
    const byFirst = new Float64Array(n);
    for (let i = 0; i < n; i++) byFirst[i] = records[i * RECORD_WORDS] * ENTRY_SPAN + i;
    byFirst.sort();
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = byFirst[i] % ENTRY_SPAN;
    const cmp = (a: number, b: number) => compareKeys(records, a * RECORD_WORDS, records, b * RECORD_WORDS);
    for (let i = 0; i < n; ) {
      let end = i + 1;
      while (end < n && records[order[end] * RECORD_WORDS] === records[order[i] * RECORD_WORDS]) end++;
      if (end - i > 1) order.subarray(i, end).sort(cmp);
      i = end;
    }
    const sorted = new Uint32Array(n * RECORD_WORDS);
    for (let to = 0; to < n; to++) {
      for (let w = 0, from = order[to] * RECORD_WORDS; w < RECORD_WORDS; w++) sorted[to * RECORD_WORDS + w] = records[from + w];
    }
    return sorted;
  }
}

/** Views of one buffer that follow each other become one view: a chunk decoded by a thread is a single write. */
function adjacentMerged(views: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of views) {
    const last = out[out.length - 1];
    if (last && last.buffer === v.buffer && last.byteOffset + last.length === v.byteOffset) out[out.length - 1] = new Uint8Array(v.buffer, last.byteOffset, last.length + v.length);
    else out.push(v);
  }
  return out;
}
