import type { PreprocessSpec } from './preprocess';
import type { CacheJob, CacheReply } from '../cache/messages';

/** Messages between the engine and its decoding worker threads. */
export interface DecodeJob {
  id: number;
  /** One tensor is filled per spec (models that share a spec share the tensor). */
  specs: PreprocessSpec[];
  /** Image files, or a range of a noise split's samples. */
  source: { files: string[] } | { noise: { seed: number; start: number; count: number } };
  /** Per spec, a used tensor to fill again when it is large enough (transferred): memory is recycled, not reallocated. */
  reuse?: (Float32Array | undefined)[];
  /** The main thread has loaded sharp, so the thread may decode every format (DecodePool sets it). */
  sharp?: boolean;
  /** Serve samples from the preprocessed-image cache, and send back the pixels of those decoded (files only). */
  cache?: CacheJob;
}

/** Per sample: decoded into its slot, left for the main thread (sharp), or failed with a reason. */
export const SampleStatus = { Ok: 0, NeedsSharp: 1, Failed: 2 } as const;

export interface DecodeResult {
  id: number;
  /** Per spec: at least n × sampleSize floats, sample j in slot j (slots that are not Ok hold anything). */
  tensors: Float32Array[];
  status: Uint8Array;
  /** Failure reasons by sample index. */
  reasons: Record<number, string>;
  /** With DecodeJob.cache: keys, hits, and the decoded pixels to store (transferred). */
  cache?: CacheReply;
}

export type DecodeReply = { type: 'result'; result: DecodeResult } | { type: 'error'; id: number; message: string };
