/** Messages between the engine and its inference worker threads. */
export interface LoadRequest {
  type: 'load';
  /** A path, or the bytes of an in-memory copy with extra outputs (see session-model.ts). */
  model: string | Uint8Array;
  /** Bytes to append to the file at `model` (extra graph outputs, see session-model.ts). */
  append?: Uint8Array;
  externalDataDir?: string;
  /** How the float32 batches are handed to the model: as they are, as float16, or as uint8 pixels. */
  inputType: 'float32' | 'float16' | 'uint8';
  /** A batch size fixed in the graph: runs are that size, the last one padded and the padding dropped. */
  fixedBatch: number | null;
  /** Also run the first batch on CPU and report the largest logit difference (default: when not on CPU). */
  crossCheck?: boolean;
  /** Preference list, e.g. ['cuda', 'cpu']; CPU is always the last resort. */
  providers: string[];
  outputs: string[];
  intraOpThreads?: number;
  /** Times the model once loaded, to give a cheap one fewer threads (see ThreadProbe). */
  probe?: ThreadProbe;
}

/**
 * With one thread per core, a model's threads take turns with the decoding threads on the
 * same cores; for a cheap model that made whole runs take 15 % longer on 2 cores. So the worker also makes the session
 * with `cheapThreads` threads and keeps that one when it runs a batch at no more than `cheapMicros` per image,
 * i.e. fast enough to keep pace with decoding.
 */
export interface ThreadProbe {
  inputName: string;
  /** One full batch. */
  dims: number[];
  cheapMicros: number;
  cheapThreads: number;
}

export interface RunRequest {
  type: 'run';
  id: number;
  inputName: string;
  data: Float32Array;
  dims: number[];
  /** Output buffers of earlier results the engine is done with, to copy the next outputs into. */
  reuse: ArrayBuffer[];
}

export type WorkerRequest = LoadRequest | RunRequest;

export interface LoadedReply {
  type: 'loaded';
  provider: string;
  /** Why earlier providers in the preference list were not used. */
  fallbacks: string[];
  /** Intra-op threads of the session; undefined = onnxruntime's default. */
  threads?: number;
}

export interface ResultReply {
  type: 'result';
  id: number;
  outputs: Record<string, { data: Float32Array; dims: number[] }>;
  /** The request's input, handed back so that its memory is reused for a later batch. */
  input: Float32Array;
  /** On the first batch of an accelerator: the largest |logit difference| from the same batch on CPU. */
  cpuDiff?: number;
}

export interface ErrorReply {
  type: 'error';
  /** The run request that failed, or -1 for a load failure. */
  id: number;
  message: string;
}

export type WorkerReply = LoadedReply | ResultReply | ErrorReply;
