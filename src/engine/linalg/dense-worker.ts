// The engine's dense linear algebra, on its own thread: onnxruntime's session.run blocks the thread it runs on, and
// an eigen-decomposition at d = 2,048 is seconds of work, which must not stall the extension host.
import * as os from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import type { DenseReply, DenseRequest } from './dense-messages';
import { gemmGraph, nearestGraph } from './ort-graphs';
import { symmetricEigenFast } from './eigen';
import type { Gemm } from './gemm';
import { bankOf, kthNearestSq, type Bank, type TopK } from './knn-search';

type Ort = typeof import('onnxruntime-node');
const ort: Ort = require('onnxruntime-node');
ort.env.logLevel = 'fatal';

const sessions = new Map<string, Promise<InferenceSession>>();
const stored = new Map<string, { data: Float32Array | Float64Array; rows: number; cols: number }>();
const banks = new Map<string, Bank>();

function session(key: string, bytes: () => Uint8Array): Promise<InferenceSession> {
  let s = sessions.get(key);
  if (!s) {
    // One thread per logical core (onnxruntime's default counts physical ones: one on a 2-vCPU machine, which ran
    // these products at a third of the speed). Idle threads would otherwise spin on the cores that decoding and
    // inference need.
    s = ort.InferenceSession.create(bytes(), {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: os.availableParallelism(),
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

/** Reused buffers for inputs that arrive in shared memory, which onnxruntime refuses as tensor data. */
const scratch: Float64Array[] = [];

/** x itself, or a copy in the scratch buffer `slot` (warm memory: a fresh 32 MB buffer costs ~100 ms of page faults). */
function unshared(x: Float64Array, slot: number): Float64Array {
  if (!(x.buffer instanceof SharedArrayBuffer)) return x;
  if (!scratch[slot] || scratch[slot].length < x.length) scratch[slot] = new Float64Array(x.length);
  const out = scratch[slot].subarray(0, x.length);
  out.set(x);
  return out;
}

const gemm: Gemm = async (a0, b0, m, k, n, opts = {}) => {
  const a = unshared(a0, 0);
  const b = b0 === a0 ? a : unshared(b0, 1);
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const s = await session(`gemm${+transA}${+transB}`, () => gemmGraph(transA, transB));
  const A = new ort.Tensor('float64', a, transA ? [k, m] : [m, k]);
  const B = new ort.Tensor('float64', b, transB ? [n, k] : [k, n]);
  const { C } = await s.run({ A, B });
  return C.data as Float64Array;
};

function storedMatrix(name: string) {
  const t = stored.get(name);
  if (!t) throw new Error(`dense thread: no stored matrix "${name}"`);
  return t;
}

const topk: TopK = async (q, m, block, rows, d, K) => {
  const s = await session('nearest', nearestGraph);
  const out = await s.run({
    Q: new ort.Tensor('float32', q, [m, d]),
    B: new ort.Tensor('float32', block, [rows, d]),
    K: new ort.Tensor('int64', BigInt64Array.of(BigInt(K)), [1]),
  });
  return { values: out.values.data as Float32Array, indices: Int32Array.from(out.indices.data as BigInt64Array, Number) };
};

function bank(name: string): Bank {
  let b = banks.get(name);
  if (!b) {
    const t = storedMatrix(name);
    if (!(t.data instanceof Float32Array)) throw new Error(`dense thread: bank "${name}" is not float32`);
    b = bankOf(t.data, t.rows, t.cols);
    banks.set(name, b);
  }
  return b;
}

async function handle(msg: DenseRequest): Promise<[DenseReply, ArrayBuffer[]]> {
  switch (msg.type) {
    case 'gemm': {
      const b = typeof msg.b === 'string' ? (storedMatrix(msg.b).data as Float64Array) : msg.b;
      // onnxruntime-node hands results back in a fresh ArrayBuffer of its own, which can move without a copy.
      const data = await gemm(msg.a, b, msg.m, msg.k, msg.n, { transA: msg.transA, transB: msg.transB });
      return [{ type: 'gemm', id: msg.id, data }, [data.buffer as ArrayBuffer]];
    }
    case 'knn': {
      const b = bank(msg.bank);
      const kthSq = await kthNearestSq(topk, b, msg.features, msg.n, Math.min(msg.k, b.rows));
      return [{ type: 'knn', id: msg.id, kthSq }, [kthSq.buffer as ArrayBuffer]];
    }
    case 'eigh': {
      const { values, vectors } = await symmetricEigenFast(msg.matrix, msg.d, gemm);
      return [{ type: 'eigh', id: msg.id, values, vectors }, [values.buffer as ArrayBuffer, vectors.buffer as ArrayBuffer]];
    }
    case 'alloc': {
      const n = msg.rows * msg.cols;
      stored.set(msg.name, { data: msg.float32 ? new Float32Array(n) : new Float64Array(n), rows: msg.rows, cols: msg.cols });
      return [{ type: 'done', id: msg.id }, []];
    }
    case 'part':
      storedMatrix(msg.name).data.set(msg.data, msg.offset);
      return [{ type: 'done', id: msg.id }, []];
    case 'put':
      stored.set(msg.name, { data: msg.data, rows: msg.rows, cols: msg.cols });
      return [{ type: 'done', id: msg.id }, []];
    case 'gram': {
      // Kept here across calls: only the rows travel (shared memory), and the sum once at the end.
      let acc = stored.get(msg.name);
      if (!acc) stored.set(msg.name, (acc = { data: new Float64Array(msg.d * msg.d), rows: msg.d, cols: msg.d }));
      const x = msg.x.subarray(0, msg.rows * msg.d);
      const g = await gemm(x, x, msg.d, msg.rows, msg.d, { transA: true });
      const sum = acc.data as Float64Array;
      for (let i = 0; i < sum.length; i++) sum[i] += g[i];
      return [{ type: 'done', id: msg.id }, []];
    }
    case 'take': {
      const data = storedMatrix(msg.name).data as Float64Array;
      stored.delete(msg.name);
      return [{ type: 'take', id: msg.id, data }, [data.buffer as ArrayBuffer]];
    }
    case 'drop':
      stored.delete(msg.name);
      banks.delete(msg.name);
      return [{ type: 'done', id: msg.id }, []];
  }
}

// One request at a time, in order: each run already uses every core.
let queue = Promise.resolve();
parentPort!.on('message', (msg: DenseRequest) => {
  queue = queue.then(async () => {
    try {
      const [reply, transfer] = await handle(msg);
      parentPort!.postMessage(reply, transfer);
    } catch (e) {
      parentPort!.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) } satisfies DenseReply);
    }
  });
});
