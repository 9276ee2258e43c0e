// The engine's door to dense linear algebra: products, nearest-neighbour searches and eigen-decompositions run by
// onnxruntime on a thread of their own (dense-worker.ts), or in plain JavaScript (jsDense) for tests and tiny sizes.
import type { Worker } from 'node:worker_threads';
import { startBundledWorker } from '../util/bundled-script';
import { trackThreads } from '../inference/live-threads';
import { symmetricEigen, type SymmetricEigen } from '../scores/linalg';
import type { DenseReply, DenseRequest } from './dense-messages';
import { jsGemmSync } from './gemm';
import { bankOf, kthNearestSq, type TopK } from './knn-search';

export interface Dense {
  /** Float64 product; `b` may name a matrix kept with `put`. Inputs are copied, never detached. */
  gemm(a: Float64Array, b: Float64Array | string, m: number, k: number, n: number, opts?: { transA?: boolean; transB?: boolean }): Promise<Float64Array>;
  /** Keeps a row-major matrix for later calls; the caller hands it over (its buffer may be detached). */
  put(name: string, data: Float32Array | Float64Array, rows: number, cols: number): Promise<void>;
  drop(name: string): Promise<void>;
  /** Adds xᵀx (x: rows×d, row-major) into the d×d sum kept as `name` (made on first use). */
  gramAdd(name: string, x: Float64Array, rows: number, d: number): Promise<void>;
  /** Hands back a kept matrix and forgets it. */
  take(name: string): Promise<Float64Array>;
  /** Per row of x [n, d]: the k-th smallest ‖x̂ − b‖² over a kept float32 bank of normalized rows (exact; NaN for non-finite rows). */
  kthNearestSq(x: Float32Array, n: number, bank: string, k: number): Promise<Float64Array>;
  eigh(matrix: Float64Array, d: number): Promise<SymmetricEigen>;
  /** Ends the thread once the calls already made have answered. */
  close(): void;
}

type Pending = { resolve(r: DenseReply): void; reject(e: Error): void };

/** onnxruntime on a worker thread. */
export class OrtDense implements Dense {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  /** @param partBytes the largest buffer sent in one message (see put) */
  constructor(private readonly partBytes = 1 << 30) {}

  private call(msg: DenseRequest, transfer: ArrayBuffer[] = []): Promise<DenseReply> {
    if (this.closed) return Promise.reject(new Error('the dense linear-algebra engine is closed'));
    if (!this.worker) {
      const w = startBundledWorker('dense-worker.js');
      w.on('message', (r: DenseReply) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (r.type === 'error') p?.reject(new Error(r.message));
        else p?.resolve(r);
        this.terminateWhenIdle();
      });
      const fail = (e: Error) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', () => fail(new Error('dense linear-algebra thread stopped')));
      trackThreads(new Promise<void>((resolve) => w.once('exit', () => resolve())));
      this.worker = w;
    }
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker!.postMessage(msg, transfer);
    });
  }

  async gemm(a: Float64Array, b: Float64Array | string, m: number, k: number, n: number, opts: { transA?: boolean; transB?: boolean } = {}) {
    const r = await this.call({ type: 'gemm', id: this.nextId++, a, b, m, k, n, transA: !!opts.transA, transB: !!opts.transB });
    return (r as Extract<DenseReply, { type: 'gemm' }>).data;
  }

  async put(name: string, data: Float32Array | Float64Array, rows: number, cols: number) {
    const n = rows * cols;
    if (data.buffer.byteLength <= this.partBytes) {
      await this.call({ type: 'put', id: this.nextId++, name, data: data.subarray(0, n), rows, cols }, [data.buffer as ArrayBuffer]);
      return;
    }
    // Node delivers a transferred ArrayBuffer of 4 GiB or more as an empty one: big matrices go in parts.
    await this.call({ type: 'alloc', id: this.nextId++, name, float32: data instanceof Float32Array, rows, cols });
    const step = Math.floor(this.partBytes / data.BYTES_PER_ELEMENT);
    for (let at = 0; at < n; at += step) {
      // A copy of the part alone: a view would carry its whole buffer into the message.
      const part = data.slice(at, Math.min(n, at + step));
      await this.call({ type: 'part', id: this.nextId++, name, offset: at, data: part }, [part.buffer as ArrayBuffer]);
    }
  }

  async gramAdd(name: string, x: Float64Array, rows: number, d: number) {
    await this.call({ type: 'gram', id: this.nextId++, name, x, rows, d });
  }

  async take(name: string): Promise<Float64Array> {
    return ((await this.call({ type: 'take', id: this.nextId++, name })) as Extract<DenseReply, { type: 'take' }>).data;
  }

  async drop(name: string) {
    if (this.worker) await this.call({ type: 'drop', id: this.nextId++, name });
  }

  async kthNearestSq(features: Float32Array, n: number, bank: string, k: number): Promise<Float64Array> {
    const r = (await this.call({ type: 'knn', id: this.nextId++, features, n, bank, k })) as Extract<DenseReply, { type: 'knn' }>;
    return r.kthSq;
  }

  async eigh(matrix: Float64Array, d: number): Promise<SymmetricEigen> {
    const r = (await this.call({ type: 'eigh', id: this.nextId++, matrix, d })) as Extract<DenseReply, { type: 'eigh' }>;
    return { values: r.values, vectors: r.vectors };
  }

  /**
   * Ends the thread once the calls in flight have answered: terminating it inside session.run would abort the whole
   * process (see live-threads.ts), and exits wait for it there.
   */
  close(): void {
    this.closed = true;
    this.terminateWhenIdle();
  }

  private terminateWhenIdle(): void {
    if (this.closed && this.pending.size === 0 && this.worker) {
      void this.worker.terminate();
      this.worker = null;
    }
  }
}

/** The same operations in JavaScript on this thread: the reference the goldens were first checked with. */
export function jsDense(): Dense {
  const kept = new Map<string, { data: Float32Array | Float64Array; rows: number; cols: number }>();
  const get = (name: string) => {
    const t = kept.get(name);
    if (!t) throw new Error(`no kept matrix "${name}"`);
    return t;
  };
  return {
    gemm: async (a, b, m, k, n, opts) => jsGemmSync(a, typeof b === 'string' ? Float64Array.from(get(b).data) : b, m, k, n, opts),
    put: async (name, data, rows, cols) => void kept.set(name, { data, rows, cols }),
    drop: async (name) => void kept.delete(name),
    gramAdd: async (name, x, rows, d) => {
      const sum = (kept.get(name)?.data as Float64Array | undefined) ?? new Float64Array(d * d);
      const g = jsGemmSync(x.subarray(0, rows * d), x.subarray(0, rows * d), d, rows, d, { transA: true });
      for (let i = 0; i < sum.length; i++) sum[i] += g[i];
      kept.set(name, { data: sum, rows: d, cols: d });
    },
    take: async (name) => {
      const t = get(name);
      kept.delete(name);
      return t.data as Float64Array;
    },
    kthNearestSq: (x, n, bank, k) => {
      const { data, rows, cols } = get(bank);
      // float64 products: the candidates are exact already, so the re-check never widens the search.
      const topk: TopK = async (q, m, block, r, d, K) => {
        const values = new Float32Array(m * K);
        const indices = new Int32Array(m * K);
        for (let i = 0; i < m; i++) {
          const sims = Array.from({ length: r }, (_, t) => { let s = 0; for (let j = 0; j < d; j++) s += q[i * d + j] * block[t * d + j]; return s; });
          const order = sims.map((_, t) => t).sort((a, b) => sims[b] - sims[a] || a - b).slice(0, K);
          order.forEach((t, j) => { values[i * K + j] = sims[t]; indices[i * K + j] = t; });
        }
        return { values, indices };
      };
      return kthNearestSq(topk, bankOf(data as Float32Array, rows, cols), x, n, Math.min(k, rows));
    },
    eigh: async (matrix, d) => symmetricEigen(matrix, d),
    close: () => undefined,
  };
}
