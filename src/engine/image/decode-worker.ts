// Decodes images in a worker thread so that reading, decoding and resampling use the cores the main thread cannot.
// PNGs the fast path handles are decoded here synchronously; other files go to sharp, whose decoding runs on
// libuv's threads while this thread resamples the ones already decoded. A job may use sharp only once the main
// thread has loaded it (DecodeJob.sharp); until then those files go back to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFast, decodeFailure, decodeSlow, type Pending } from './decode';
import { makeSampleWriter, specKey, type PreprocessSpec, type SampleWriter } from './preprocess';
import { noisePixels } from '../dataset/noise';
import { SampleStatus, type DecodeJob, type DecodeReply, type DecodeResult } from './decode-messages';
import { JobCache } from '../cache/lookup';

/** Set by the pool's close(): a job in progress stops after the images it is on. */
const stop: Int32Array = (workerData as { stop: Int32Array }).stop;

/**
 * sharp decodes this thread keeps in flight, across jobs: as many as libuv has threads to run them (sharp decodes
 * one image per libuv thread), so that one decoding thread can keep them all busy while it resamples.
 */
const IN_FLIGHT = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE) || 4);

const writers = new Map<string, SampleWriter>();
function writerFor(spec: PreprocessSpec): SampleWriter {
  const key = specKey(spec);
  let w = writers.get(key);
  if (!w) writers.set(key, (w = makeSampleWriter(spec)));
  return w;
}

/** Runs at most IN_FLIGHT tasks at once; a finished task hands its slot to the next waiting one. */
const slots = { active: 0, waiting: [] as (() => void)[] };
async function inSlot(task: () => Promise<void>): Promise<void> {
  if (slots.active < IN_FLIGHT) slots.active++;
  else await new Promise<void>((resolve) => slots.waiting.push(resolve));
  try {
    await task();
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.active--;
  }
}

async function decodeJob(job: DecodeJob): Promise<DecodeResult> {
  const { specs, source } = job;
  const n = 'files' in source ? source.files.length : source.noise.count;
  const sizes = specs.map((s) => s.channels * s.height * s.width);
  const tensors = sizes.map((size, g) => {
    const old = job.reuse?.[g];
    return old && old.length >= n * size ? old : new Float32Array(n * size);
  });
  const write = specs.map(writerFor);
  const status = new Uint8Array(n);
  const reasons: Record<number, string> = {};
  const cache = job.cache && 'files' in source ? new JobCache(job.cache, source.files, sizes) : undefined;
  const slow: Promise<void>[] = [];
  const finish = (p: Pending, j: number) => inSlot(async () => {
    // A sample still waiting for its turn when the pool closes is never read.
    if (Atomics.load(stop, 0)) {
      status[j] = SampleStatus.Failed;
      return;
    }
    try {
      const images = await decodeSlow(p, specs);
      images.forEach((img, g) => write[g](img.data, tensors[g], j));
      cache?.keep(j, images);
    } catch (e) {
      status[j] = SampleStatus.Failed;
      reasons[j] = decodeFailure(e);
    }
  });
  for (let j = 0; j < n; j++) {
    // The pool is closing (a cancel or an error): the rest of the job is never read.
    if (Atomics.load(stop, 0)) {
      status.fill(SampleStatus.Failed, j);
      break;
    }
    if ('noise' in source) {
      const { seed, start } = source.noise;
      specs.forEach((s, g) => write[g](noisePixels(start + j, seed, s.height, s.width, s.channels), tensors[g], j));
      continue;
    }
    try {
      if (cache?.fill(j, tensors, write)) continue;
      const images = decodeFast(source.files[j], specs);
      if (!Array.isArray(images)) {
        if (job.sharp) slow.push(finish(images, j));
        else status[j] = SampleStatus.NeedsSharp;
        continue;
      }
      images.forEach((img, g) => write[g](img.data, tensors[g], j));
      cache?.keep(j, images);
    } catch (e) {
      status[j] = SampleStatus.Failed;
      reasons[j] = decodeFailure(e);
    }
  }
  await Promise.all(slow);
  return { id: job.id, tensors, status, reasons, cache: cache?.finish() };
}

parentPort!.on('message', async (msg: DecodeJob | { type: 'close' }) => {
  // Closing the port lets this thread's event loop end, so the thread exits by itself once its sharp calls return.
  if ('type' in msg) return parentPort!.close();
  if (Atomics.load(stop, 0)) return;
  const job = msg;
  let reply: DecodeReply;
  try {
    const result = await decodeJob(job);
    reply = { type: 'result', result };
    const pixels = (result.cache?.pixels ?? []).flatMap((p) => (p ? [p] : []));
    parentPort!.postMessage(reply, [...result.tensors, ...pixels].map((t) => t.buffer as ArrayBuffer));
  } catch (e) {
    reply = { type: 'error', id: job.id, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(reply);
  }
});
