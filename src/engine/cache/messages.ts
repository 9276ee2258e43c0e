import type { PackRef } from './pack-format';

/** What a decoding job needs to serve samples from the cache: per spec of the job, its index (null: nothing cached). */
export interface CacheJob {
  specs: (SpecIndex | null)[];
  /** Send back the pixels of the samples decoded (to be stored). */
  keep: boolean;
}

/** One spec's cached packs, newest first; `records` is shared by every thread, never copied. */
export interface SpecIndex {
  records: SharedArrayBuffer;
  packs: PackRef[];
  sampleBytes: number;
}

/** Per sample of a job: not looked up (or failed), served from the cache, or decoded with its pixels in `pixels`. */
export const CacheState = { None: 0, Hit: 1, Decoded: 2 } as const;

export interface CacheReply {
  /** Per sample, 16 bytes: the key of the file as it was when looked up (zeros when it could not be read). */
  keys: Uint8Array;
  state: Uint8Array;
  /** Per spec: n × sampleBytes, sample j's pixels in slot j where state is Decoded (null when none was). */
  pixels: (Uint8Array | null)[];
  /** The pack files that served a sample. */
  used: string[];
}
