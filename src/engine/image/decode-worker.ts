// Decodes images in a worker thread so that reading and inflating files uses the cores the main thread cannot.
// Only the synchronous fast path runs here; files that need sharp go back to the main thread, which keeps libvips
// (a native library that must not be unloaded with a worker) out of worker threads.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFast, decodeFailure } from './decode';
import { makeSampleWriter, specKey, type PreprocessSpec, type SampleWriter } from './preprocess';
import { noisePixels } from '../dataset/noise';
import { SampleStatus, type DecodeJob, type DecodeReply, type DecodeResult } from './decode-messages';

/** Set by the pool's close(): a job in progress stops after its current image. */
const stop: Int32Array = (workerData as { stop: Int32Array }).stop;

const writers = new Map<string, SampleWriter>();
function writerFor(spec: PreprocessSpec): SampleWriter {
  const key = specKey(spec);
  let w = writers.get(key);
  if (!w) writers.set(key, (w = makeSampleWriter(spec)));
  return w;
}

function decodeJob(job: DecodeJob): DecodeResult {
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
      const images = decodeFast(source.files[j], specs);
      if (images) images.forEach((img, g) => write[g](img.data, tensors[g], j));
      else status[j] = SampleStatus.NeedsSharp;
    } catch (e) {
      status[j] = SampleStatus.Failed;
      reasons[j] = decodeFailure(e);
    }
  }
  return { id: job.id, tensors, status, reasons };
}

parentPort!.on('message', (msg: DecodeJob | { type: 'close' }) => {
  // Closing the port lets this thread's event loop end, so the thread exits by itself between jobs.
  if ('type' in msg) return parentPort!.close();
  if (Atomics.load(stop, 0)) return;
  const job = msg;
  let reply: DecodeReply;
  try {
    const result = decodeJob(job);
    reply = { type: 'result', result };
    parentPort!.postMessage(reply, result.tensors.map((t) => t.buffer as ArrayBuffer));
  } catch (e) {
    reply = { type: 'error', id: job.id, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(reply);
  }
});
