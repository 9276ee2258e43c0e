// The preprocessed-image cache (RunOptions.cache): each image's uint8 pixels at the model's input size, before
// scaling and normalization, keyed by file path, size, modification time and the preprocessing that made them. A
// re-run over unchanged images (a retrained model, the same preprocessing) reads them instead of decoding.
// Decoding threads serve the hits (lookup.ts); this side stores what they decoded and keeps the cache under its cap.
import type { PreprocessSpec } from '../image/preprocess';
import { KEY_BYTES, RECORD_BYTES, RECORD_WORDS } from './pack-format';
import { MAX_PACK_ENTRIES, PackWriter } from './pack-writer';
import { SpecStore, pixelSpecKey } from './spec-store';
import { CacheState, type CacheJob, type CacheReply } from './messages';
import { evict, touchPacks } from './eviction';

export interface CacheOptions {
  dir: string;
  /** Size cap; the least recently used data goes past it. */
  maxBytes: number;
}

/** What a run did with the cache: samples served from it, samples decoded, samples stored (in complete packs). */
export interface CacheStats {
  hits: number;
  misses: number;
  stored: number;
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/** A pack is closed at this share of the cap (at most 256 MB), so eviction removes small units. */
const packLimit = (maxBytes: number) => Math.min(256 * 2 ** 20, Math.max(2 ** 20, Math.floor(maxBytes / 16)));

export class TensorCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, stored: 0 };
  private readonly stores = new Map<string, SpecStore>();
  private readonly splits = new Set<SplitCache>();
  /** Packs that served a hit in this run (their recency is refreshed at the end). */
  readonly used = new Set<string>();
  /** Bytes stored by this run: storing stops at the cap, since eviction would remove the excess anyway. */
  private written = 0;
  /** The first problem met (a write that failed), for the report's warnings. */
  problem?: string;

  constructor(readonly options: CacheOptions, private readonly log?: Log) {}

  /** The cache's side of one split (noise splits have none). */
  split(specs: readonly PreprocessSpec[]): SplitCache {
    const split = new SplitCache(this, specs.map((s) => this.store(s)), packLimit(this.options.maxBytes));
    this.splits.add(split);
    return split;
  }

  /** Whether any image is cached for this preprocessing: a run over images seen before reads rather than decodes. */
  holds(spec: PreprocessSpec): boolean {
    return this.store(spec).current() !== null;
  }

  private store(spec: PreprocessSpec): SpecStore {
    const key = pixelSpecKey(spec);
    let store = this.stores.get(key);
    if (!store) this.stores.set(key, (store = new SpecStore(this.options.dir, spec)));
    return store;
  }

  get full(): boolean {
    return this.written >= this.options.maxBytes;
  }

  /** Room for `bytes` more under the cap (reserved when there is). */
  reserve(bytes: number): boolean {
    if (this.written + bytes > this.options.maxBytes) return false;
    this.written += bytes;
    return true;
  }

  warn(message: string): void {
    if (this.problem) return;
    this.problem = `cache ${this.options.dir}: ${message}; the run went on without storing those images`;
    this.log?.('warn', this.problem);
  }

  /** Finishes what is being written, refreshes the recency of the packs that served hits and evicts. Never throws. */
  async close(): Promise<void> {
    await Promise.all([...this.splits].map((s) => s.finish()));
    await touchPacks(this.used);
    await evict(this.options.dir, this.options.maxBytes).catch(() => undefined);
  }

  forget(split: SplitCache): void {
    this.splits.delete(split);
  }
}

export class SplitCache {
  private readonly writers: (PackWriter | null)[];
  private readonly finishing: Promise<void>[] = [];
  private done = false;

  constructor(private readonly cache: TensorCache, private readonly stores: SpecStore[], private readonly packLimit: number) {
    this.writers = stores.map(() => null);
  }

  /** The cache part of a decoding job. */
  job(): CacheJob {
    return { specs: this.stores.map((s) => s.current()), keep: !this.done && !this.cache.full };
  }

  /** After a job (and the main thread's decodes): counts, notes the packs used, stores what the thread decoded. */
  took(reply: CacheReply | undefined, ok: (j: number) => boolean): void {
    if (!reply || this.done) return;
    for (const file of reply.used) this.cache.used.add(file);
    const decoded: number[] = [];
    for (let j = 0; j < reply.state.length; j++) {
      if (reply.state[j] === CacheState.Hit) this.cache.stats.hits++;
      else if (ok(j)) this.cache.stats.misses++;
      if (reply.state[j] === CacheState.Decoded && ok(j)) decoded.push(j);
    }
    this.put(reply, decoded, (g, j) => reply.pixels[g]!.subarray(j * this.stores[g].sampleBytes, (j + 1) * this.stores[g].sampleBytes));
  }

  /** Stores sample j's pixels, decoded on the main thread (one image per spec). */
  store(reply: CacheReply | undefined, j: number, pixels: Uint8Array[]): void {
    if (reply && !this.done) this.put(reply, [j], (g) => pixels[g]);
  }

  /** Stores samples under the keys the decoding thread read (samples it could not stat are not stored). */
  private put(reply: CacheReply, samples: number[], pixelsOf: (g: number, j: number) => Uint8Array): void {
    const keyOf = (j: number) => reply.keys.subarray(j * KEY_BYTES, (j + 1) * KEY_BYTES);
    const entryBytes = this.stores.reduce((s, st) => s + st.sampleBytes + RECORD_BYTES, 0);
    const kept = samples.filter((j) => keyOf(j).some((b) => b !== 0) && this.cache.reserve(entryBytes));
    if (kept.length === 0) return;
    this.stores.forEach((store, g) => {
      const w = (this.writers[g] ??= new PackWriter(store.dir, store.sampleBytes, store.hash));
      w.add(kept.map((j) => ({ key: keyOf(j), pixels: pixelsOf(g, j) })));
      if (w.bytes >= this.packLimit || w.count >= MAX_PACK_ENTRIES - samples.length) this.close(g);
    });
  }

  /** Completes this split's packs and makes them visible to the splits that follow. */
  async finish(): Promise<void> {
    this.done = true;
    this.stores.forEach((_, g) => this.close(g));
    await Promise.all(this.finishing);
    this.cache.forget(this);
  }

  private close(g: number): void {
    const w = this.writers[g];
    if (!w) return;
    this.writers[g] = null;
    this.finishing.push(w.finish().then((pack) => {
      if (pack) {
        this.stores[g].add(pack);
        // Counted once per image: by the first spec's packs.
        if (g === 0) this.cache.stats.stored += pack.records.length / RECORD_WORDS;
      } else if (w.error !== undefined) {
        this.cache.warn(`cannot write (${w.error instanceof Error ? w.error.message : String(w.error)})`);
      }
    }));
  }
}
