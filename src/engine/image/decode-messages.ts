import type { PreprocessSpec } from './preprocess';

/** Messages between the engine and its decoding worker threads. */
export interface DecodeJob {
  id: number;
  /** One tensor is filled per spec (models that share a spec share the tensor). */
  specs: PreprocessSpec[];
  /** Image files, or a range of a noise split's samples. */
  source: { files: string[] } | { noise: { seed: number; start: number; count: number } };
  /** Per spec, a used tensor to fill again when it is large enough (transferred): memory is recycled, not reallocated. */
  reuse?: (Float32Array | undefined)[];
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
}

export type DecodeReply = { type: 'result'; result: DecodeResult } | { type: 'error'; id: number; message: string };
