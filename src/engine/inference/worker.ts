// Runs an onnxruntime session in a worker thread: InferenceSession.run blocks the thread it runs on.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import type { LoadRequest, ThreadProbe, WorkerReply, WorkerRequest } from './messages';
import { inputTensor, toFloat32 } from './tensor-io';

type Ort = typeof import('onnxruntime-node');
const ort: Ort = require('onnxruntime-node');
// Failures reach the user as one message each (error replies, fallback warnings in the report); onnxruntime's own
// log lines on stderr would repeat them in native form and break the CLI's one-line errors.
ort.env.logLevel = 'fatal';
let session: InferenceSession | undefined;
let outputNames: string[] = [];
let feed: Pick<LoadRequest, 'inputType' | 'fixedBatch'> = { inputType: 'float32', fixedBatch: null };
/** Set until the first batch has also run on CPU (an accelerator's kernels may use TF32 or float16). */
let crossCheckPending = false;
/** Output buffers handed back by the engine (see ModelWorker.recycle). */
let free: ArrayBuffer[] = [];

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

/** The model of this worker: a path, or bytes with their external data folder. */
let source: Pick<LoadRequest, 'model' | 'externalDataDir'> = { model: '' };

function create(provider: string, threads?: number): Promise<InferenceSession> {
  const options: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads } : {}),
    // Idle onnxruntime threads spin by default; here they would take the cores the decoding needs.
    extra: {
      session: {
        intra_op: { allow_spinning: '0' },
        ...(source.externalDataDir ? { model_external_initializers_file_folder_path: source.externalDataDir } : {}),
      },
    },
  };
  return typeof source.model === 'string' ? ort.InferenceSession.create(source.model, options) : ort.InferenceSession.create(source.model, options);
}

/** Microseconds one run of zeros in `dims` takes. */
async function timeRun(s: InferenceSession, inputName: string, dims: number[]): Promise<number> {
  const input = inputTensor(ort, feed.inputType, new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  const t0 = performance.now();
  await s.run({ [inputName]: input });
  return (performance.now() - t0) * 1000;
}

/**
 * A second session of the model with `probe.cheapThreads` threads, when that one runs a batch at no more than
 * `probe.cheapMicros` per image (best of three after a warm-up); null otherwise. A model that takes over a
 * millisecond for one image is not cheap, and is not made twice to find out.
 */
async function leanSession(s: InferenceSession, probe: ThreadProbe): Promise<InferenceSession | null> {
  const one = [1, ...probe.dims.slice(1)];
  // The first run also sets up buffers: over 10 ms there is no need for a second one.
  if ((await timeRun(s, probe.inputName, one)) > 10_000 || (await timeRun(s, probe.inputName, one)) > 1000) return null;
  const lean = await create('cpu', probe.cheapThreads);
  try {
    await timeRun(lean, probe.inputName, probe.dims);
    let best = Infinity;
    for (let i = 0; i < 3; i++) best = Math.min(best, await timeRun(lean, probe.inputName, probe.dims));
    if (best / probe.dims[0] <= probe.cheapMicros) return lean;
  } catch {
    // e.g. a fixed batch dimension: the default session stays.
  }
  await lean.release();
  return null;
}

/** The model file with LoadRequest.append after it (see session-model.ts), read in this thread. */
function appendedModel(msg: LoadRequest): string | Uint8Array {
  if (!msg.append || typeof msg.model !== 'string') return msg.model;
  const file = readFileSync(msg.model);
  const bytes = new Uint8Array(file.length + msg.append.length);
  bytes.set(file, 0);
  bytes.set(msg.append, file.length);
  return bytes;
}

async function load(msg: LoadRequest): Promise<void> {
  const { providers, outputs, probe } = msg;
  let threads = msg.intraOpThreads;
  source = { model: appendedModel(msg), externalDataDir: msg.externalDataDir };
  feed = { inputType: msg.inputType, fixedBatch: msg.fixedBatch };
  const fallbacks: string[] = [];
  const prefs = [...providers.filter((p) => p !== 'cpu'), 'cpu'];
  crossCheckPending = false;
  for (const provider of prefs) {
    try {
      session = await create(provider, threads);
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      if (provider === 'cpu') throw new Error(msg);
      fallbacks.push(`${provider}: ${msg}`);
      continue;
    }
    outputNames = outputs;
    if (provider === 'cpu' && probe && !feed.fixedBatch) {
      try {
        const lean = await leanSession(session, probe);
        if (lean) {
          await session.release();
          session = lean;
          threads = probe.cheapThreads;
        }
      } catch {
        // Only a speed-up: a model that fails on zeros keeps its session, and its real batches report the error.
      }
    }
    crossCheckPending = msg.crossCheck ?? provider !== 'cpu';
    // The bytes are not needed once the sessions exist, unless a CPU session is still to be made for the check.
    if (!crossCheckPending) source = { model: '' };
    reply({ type: 'loaded', provider, fallbacks, threads });
    return;
  }
}

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;

/** One session.run on n samples, outputs as float32. */
async function runOnce(inputName: string, data: Float32Array, dims: number[], on = session!): Promise<Outputs> {
  const result = await on.run({ [inputName]: inputTensor(ort, feed.inputType, data, dims) }, outputNames);
  const out: Outputs = {};
  for (const name of outputNames) out[name] = { data: toFloat32(result[name]), dims: result[name].dims.map(Number) };
  return out;
}

/**
 * A model whose batch size is fixed in the graph (torch.onnx.export's default) runs in slices of that size; the
 * last slice is padded with zeros and the rows of the padding are dropped.
 */
async function runBatch(inputName: string, data: Float32Array, dims: number[], on = session!): Promise<Outputs> {
  const b = feed.fixedBatch;
  const n = dims[0];
  if (!b || b === n) return runOnce(inputName, data, dims, on);
  const per = data.length / n;
  const parts: Outputs[] = [];
  for (let start = 0; start < n; start += b) {
    const m = Math.min(b, n - start);
    const slice = new Float32Array(b * per);
    slice.set(data.subarray(start * per, (start + m) * per));
    const out = await runOnce(inputName, slice, [b, ...dims.slice(1)], on);
    for (const o of Object.values(out)) {
      o.data = o.data.subarray(0, (o.data.length / b) * m);
      o.dims = [m, ...o.dims.slice(1)];
    }
    parts.push(out);
  }
  const joined: Outputs = {};
  for (const name of outputNames) {
    const all = new Float32Array(parts.reduce((a, p) => a + p[name].data.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p[name].data, at);
      at += p[name].data.length;
    }
    joined[name] = { data: all, dims: [n, ...parts[0][name].dims.slice(1)] };
  }
  return joined;
}

/**
 * A copy in a handed-back buffer when one is big enough: fresh buffers sent to the main thread are freed only when
 * its garbage collector runs, which it seldom does while it mostly waits, so dead outputs piled up there.
 */
function ownCopy(data: Float32Array): Float32Array {
  const i = free.findIndex((b) => b.byteLength >= data.byteLength);
  const out = i >= 0 ? new Float32Array(free.splice(i, 1)[0], 0, data.length) : new Float32Array(data.length);
  out.set(data);
  return out;
}

/** The first batch again on a CPU session: the largest logit difference from the accelerator's. */
async function crossCheck(inputName: string, data: Float32Array, dims: number[], logits: Float32Array): Promise<number> {
  crossCheckPending = false;
  const cpu = await create('cpu');
  try {
    const ref = (await runBatch(inputName, data, dims, cpu))[outputNames[0]].data;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - logits[i]));
    return diff;
  } finally {
    source = { model: '' };
    await cpu.release();
  }
}

parentPort!.on('message', async (msg: WorkerRequest) => {
  try {
    if (msg.type === 'load') {
      await load(msg);
      return;
    }
    free = free.concat(msg.reuse);
    if (!session) throw new Error('model not loaded');
    const result = await runBatch(msg.inputName, msg.data, msg.dims);
    const cpuDiff = crossCheckPending ? await crossCheck(msg.inputName, msg.data, msg.dims, result[outputNames[0]].data) : undefined;
    const outputs: Outputs = {};
    const transfer: ArrayBuffer[] = [];
    for (const name of outputNames) {
      // Copy out of onnxruntime's buffer so the transfer cannot detach memory it still owns.
      const own = ownCopy(result[name].data);
      outputs[name] = { data: own, dims: result[name].dims };
      transfer.push(own.buffer as ArrayBuffer);
    }
    // onnxruntime is done with the input once run resolves.
    transfer.push(msg.data.buffer as ArrayBuffer);
    reply({ type: 'result', id: msg.id, outputs, input: msg.data, ...(cpuDiff !== undefined ? { cpuDiff } : {}) }, transfer);
  } catch (e) {
    reply({ type: 'error', id: msg.type === 'run' ? msg.id : -1, message: e instanceof Error ? e.message.split('\n')[0] : String(e) });
  }
});
