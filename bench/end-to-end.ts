// One benchmark measurement per process (so peak RSS belongs to it alone), printed as one JSON line.
//   --mode e2e      folder of PNGs → scores + metrics + JSON report, through the real engine [--cache DIR]
//                   [--scores a,b] (the engine's --cache and --scores)
//   --mode ceiling  the same model on the same images already decoded into one tensor, onnxruntime-node in-process
//   --mode decode   decoding (and resizing to the model's input) alone, on the engine's decoding threads
//   --mode scoring  scores + metrics alone, on logits computed beforehand
import { parseArgs } from 'node:util';
import { ceilingSession } from './lib/ceiling-session';
import { bothFolders, held, phaseClock, printRow, rssMB } from './lib/measure';
import * as os from 'node:os';
import * as path from 'node:path';
import { rmSync } from 'node:fs';
import { runScore } from '../src/engine/run';
import { listDataset } from '../src/engine/dataset/image-files';
import { DecodePool } from '../src/engine/image/decode-pool';
import { SampleStatus } from '../src/engine/image/decode-messages';
import { chunkDecoder, type Chunk } from '../src/engine/run/collect';
import type { SplitPlan } from '../src/engine/run/plan';
import { DEFAULTS, defaultDecodeThreads } from '../src/engine/options';
import { makeSampleWriter } from '../src/engine/image/preprocess';
import { inspectModel } from '../src/engine/model/inspect';
import { writeJsonReport } from '../src/engine/report/write';
import { computeLogitScores } from '../src/engine/scores/logit-scores';
import { oodMetrics } from '../src/engine/metrics/ood-metrics';
import { calibrationMetrics } from '../src/engine/metrics/calibration-metrics';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string' }, model: { type: 'string' }, id: { type: 'string' }, ood: { type: 'string' },
    out: { type: 'string' }, batch: { type: 'string', default: '64' }, 'decode-threads': { type: 'string' }, cache: { type: 'string' }, scores: { type: 'string' },
  },
});

/** Decodes every image into one tensor as the engine does: decoding threads, sharp for what they leave. */
async function decodeAll(plan: SplitPlan, batch: number) {
  const model = await inspectModel(path.resolve(a.model!));
  const s = model.spec;
  const size = s.channels * s.height * s.width;
  const n = plan.files.length;
  const tensor = new Float32Array(n * size);
  const pool = new DecodePool(defaultDecodeThreads());
  const spare: Float32Array[][] = [[]];
  const decodeChunk = chunkDecoder(plan, [{ spec: s, writer: makeSampleWriter(s) }], pool, DEFAULTS.decodeConcurrency, spare);
  const t0 = performance.now();
  const ahead: Promise<Chunk>[] = [];
  for (let start = 0, next = 0; start < n; start += batch) {
    for (; next < n && ahead.length < 2 * pool.size + 1; next += batch) ahead.push(decodeChunk(next, Math.min(batch, n - next)));
    const { n: m, result } = await ahead.shift()!;
    if (result.status.some((st) => st !== SampleStatus.Ok)) throw new Error('bench images must all decode');
    tensor.set(result.tensors[0].subarray(0, m * size), start * size);
    spare[0].push(result.tensors[0]);
  }
  const seconds = (performance.now() - t0) / 1000;
  pool.close();
  return { plan: model, tensor, size, seconds };
}

async function main() {
  const batch = Number(a.batch);
  if (a.mode === 'e2e') {
    const heldBefore = held();
    const { phases, onProgress, since } = phaseClock();
    const decodeThreads = a['decode-threads'] ? Number(a['decode-threads']) : undefined;
    const cache = a.cache ? { dir: a.cache, maxBytes: DEFAULTS.cacheMaxMB * 2 ** 20 } : undefined;
    const scores = a.scores?.split(',');
    const report = await runScore({ models: [a.model!], id: a.id!, ood: [a.ood!], batchSize: batch, decodeThreads, cache, scores }, { onProgress });
    phases.analysis = since();
    const out = a.out ?? path.join(os.tmpdir(), `oodlens-bench-${process.pid}.json`);
    await writeJsonReport(report, out);
    const seconds = since();
    phases.write = seconds;
    if (!a.out) rmSync(out, { force: true });
    const images = report.splits.reduce((s, x) => s + x.count, 0);
    // Memory the finished report keeps in the main thread (node --expose-gc only), per sample.
    const retainedBytesPerSample = heldBefore === null ? null : (held()! - heldBefore) / images;
    const stats = report.cache as { hits: number; misses: number } | undefined;
    const hits = stats ? { cache: { hits: stats.hits, misses: stats.misses } } : {};
    return { mode: 'e2e', images, seconds, imagesPerSecond: images / seconds, peakRssMB: rssMB(), phases, retainedBytesPerSample, samples: report.samples.length, ...hits };
  }
  const all = await bothFolders(a.id!, a.ood!);
  const decoded = await decodeAll(all, batch);
  const n = all.files.length;
  if (a.mode === 'decode') return { mode: 'decode', images: n, seconds: decoded.seconds, imagesPerSecond: n / decoded.seconds, peakRssMB: rssMB() };
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const session = await ceilingSession(path.resolve(a.model!));
  const { plan, tensor, size } = decoded;
  const dims = (n: number) => (plan.inputRank === 3 ? [n, plan.spec.height, plan.spec.width] : plan.spec.layout === 'NCHW' ? [n, plan.spec.channels, plan.spec.height, plan.spec.width] : [n, plan.spec.height, plan.spec.width, plan.spec.channels]);
  let k = 0;
  const logitsParts: Float32Array[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const out = await session.run({ [plan.inputName]: new ort.Tensor('float32', tensor.subarray(i * size, (i + m) * size), dims(m)) }, [plan.logitsOutput]);
    const t = out[plan.logitsOutput];
    k = Number(t.dims[1]);
    logitsParts.push(new Float32Array(t.data as Float32Array));
  }
  const inferSeconds = (performance.now() - t0) / 1000;
  if (a.mode === 'ceiling') return { mode: 'ceiling', images: n, seconds: inferSeconds, imagesPerSecond: n / inferSeconds, peakRssMB: rssMB() };
  // scoring: every logit score, metrics ID vs OOD, calibration on ID (labels are not needed for the timing)
  const logits = new Float32Array(n * k);
  let off = 0;
  for (const p of logitsParts) {
    logits.set(p, off);
    off += p.length;
  }
  const nId = (await listDataset(a.id!)).files.length;
  const t1 = performance.now();
  const scores = computeLogitScores(logits, n, k);
  for (const v of Object.values(scores)) oodMetrics(v.subarray(0, nId), v.subarray(nId));
  calibrationMetrics(logits.subarray(0, nId * k), new Int32Array(nId), nId, k);
  const scoreSeconds = (performance.now() - t1) / 1000;
  return { mode: 'scoring', images: n, seconds: scoreSeconds, imagesPerSecond: n / scoreSeconds, peakRssMB: rssMB() };
}

printRow(main());
