/** Messages between the engine and its dense linear-algebra thread (dense-worker.ts). */
export type DenseRequest =
  | { type: 'gemm'; id: number; a: Float64Array; b: Float64Array | string; m: number; k: number; n: number; transA: boolean; transB: boolean }
  | { type: 'knn'; id: number; features: Float32Array; n: number; bank: string; k: number }
  | { type: 'eigh'; id: number; matrix: Float64Array; d: number }
  | { type: 'put'; id: number; name: string; data: Float32Array | Float64Array; rows: number; cols: number }
  /** A matrix too big for one message arrives as an empty one of its type and size, then in parts. */
  | { type: 'alloc'; id: number; name: string; float32: boolean; rows: number; cols: number }
  | { type: 'part'; id: number; name: string; offset: number; data: Float32Array | Float64Array }
  | { type: 'gram'; id: number; name: string; x: Float64Array; rows: number; d: number }
  | { type: 'take'; id: number; name: string }
  | { type: 'drop'; id: number; name: string };

export type DenseReply =
  | { type: 'gemm'; id: number; data: Float64Array }
  | { type: 'knn'; id: number; kthSq: Float64Array }
  | { type: 'eigh'; id: number; values: Float64Array; vectors: Float64Array }
  | { type: 'take'; id: number; data: Float64Array }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; message: string };
