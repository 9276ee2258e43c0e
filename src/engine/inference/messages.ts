/** Messages between the engine and its inference worker threads. */
export interface LoadRequest {
  type: 'load';
  modelPath: string;
  /** Preference list, e.g. ['cuda', 'cpu']; CPU is always the last resort. */
  providers: string[];
  outputs: string[];
  intraOpThreads?: number;
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
}

export interface ResultReply {
  type: 'result';
  id: number;
  outputs: Record<string, { data: Float32Array; dims: number[] }>;
  /** The request's input, handed back so that its memory is reused for a later batch. */
  input: Float32Array;
}

export interface ErrorReply {
  type: 'error';
  /** The run request that failed, or -1 for a load failure. */
  id: number;
  message: string;
}

export type WorkerReply = LoadedReply | ResultReply | ErrorReply;
