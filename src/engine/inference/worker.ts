// Runs an onnxruntime session in a worker thread: InferenceSession.run blocks the thread it runs on.
import { parentPort } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ThreadProbe, WorkerReply, WorkerRequest } from './messages';

type Ort = typeof import('onnxruntime-node');
const ort: Ort = require('onnxruntime-node');
// Failures reach the user as one message each (error replies, fallback warnings in the report); onnxruntime's own
// log lines on stderr would repeat them in native form and break the CLI's one-line errors.
ort.env.logLevel = 'fatal';
let session: InferenceSession | undefined;
let outputNames: string[] = [];
/** Output buffers handed back by the engine (see ModelWorker.recycle). */
let free: ArrayBuffer[] = [];

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

function create(modelPath: string, provider: string, threads?: number): Promise<InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads } : {}),
    // Idle onnxruntime threads spin by default; here they would take the cores the decoding needs.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

/** Microseconds one run of zeros in `dims` takes. */
async function timeRun(s: InferenceSession, inputName: string, dims: number[]): Promise<number> {
  const input = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  const t0 = performance.now();
  await s.run({ [inputName]: input });
  return (performance.now() - t0) * 1000;
}

/**
 * A second session of the model with `probe.cheapThreads` threads, when that one runs a batch at no more than
 * `probe.cheapMicros` per image (best of three after a warm-up); null otherwise. A model that takes over a
 * millisecond for one image is not cheap, and is not made twice to find out.
 */
async function leanSession(modelPath: string, s: InferenceSession, probe: ThreadProbe): Promise<InferenceSession | null> {
  const one = [1, ...probe.dims.slice(1)];
  // The first run also sets up buffers: over 10 ms there is no need for a second one.
  if ((await timeRun(s, probe.inputName, one)) > 10_000 || (await timeRun(s, probe.inputName, one)) > 1000) return null;
  const lean = await create(modelPath, 'cpu', probe.cheapThreads);
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

async function load(modelPath: string, providers: string[], outputs: string[], threads?: number, probe?: ThreadProbe): Promise<void> {
  const fallbacks: string[] = [];
  const prefs = [...providers.filter((p) => p !== 'cpu'), 'cpu'];
  for (const provider of prefs) {
    try {
      session = await create(modelPath, provider, threads);
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      if (provider === 'cpu') throw new Error(msg);
      fallbacks.push(`${provider}: ${msg}`);
      continue;
    }
    outputNames = outputs;
    if (provider === 'cpu' && !threads && probe) {
      try {
        const lean = await leanSession(modelPath, session, probe);
        if (lean) {
          await session.release();
          session = lean;
          threads = probe.cheapThreads;
        }
      } catch {
        // Only a speed-up: a model that fails on zeros keeps its session, and its real batches report the error.
      }
    }
    reply({ type: 'loaded', provider, fallbacks, threads });
    return;
  }
}

function toFloat32(t: Tensor): Float32Array {
  const d = t.data as ArrayLike<number | bigint>;
  if (d instanceof Float32Array) return d;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
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

parentPort!.on('message', async (msg: WorkerRequest) => {
  try {
    if (msg.type === 'load') {
      await load(msg.modelPath, msg.providers, msg.outputs, msg.intraOpThreads, msg.probe);
      return;
    }
    free = free.concat(msg.reuse);
    if (!session) throw new Error('model not loaded');
    const feeds = { [msg.inputName]: new ort.Tensor('float32', msg.data, msg.dims) };
    const result = await session.run(feeds, outputNames);
    const outputs: Record<string, { data: Float32Array; dims: number[] }> = {};
    const transfer: ArrayBuffer[] = [];
    for (const name of outputNames) {
      const data = toFloat32(result[name]);
      // Copy out of onnxruntime's buffer so the transfer cannot detach memory it still owns.
      const own = ownCopy(data);
      outputs[name] = { data: own, dims: result[name].dims.map(Number) };
      transfer.push(own.buffer as ArrayBuffer);
    }
    // onnxruntime is done with the input once run resolves.
    transfer.push(msg.data.buffer as ArrayBuffer);
    reply({ type: 'result', id: msg.id, outputs, input: msg.data }, transfer);
  } catch (e) {
    reply({ type: 'error', id: msg.type === 'run' ? msg.id : -1, message: e instanceof Error ? e.message.split('\n')[0] : String(e) });
  }
});
