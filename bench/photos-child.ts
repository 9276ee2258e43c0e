// One measurement of bench/photos.ts per process (so that peak RSS is its own), printed as one JSON line:
//   e2e      the whole run through runScore: list, decode, infer, scores, metrics, report
//   decode   decoding alone (read, decode, resize, crop, to float), through the engine's decoding threads
//   ceiling  the model alone on the same images decoded beforehand, onnxruntime-node in this process
// --draft sets the jpegDraft preprocessing hint (the CLI's --jpeg-draft).
import { parseArgs } from 'node:util';
import { ceilingSession } from './lib/ceiling-session';
import { bothFolders, cpuSeconds, phaseClock, printRow, rssMB } from './lib/measure';
import * as path from 'node:path';
import { runScore } from '../src/engine/run';
import { DecodePool } from '../src/engine/image/decode-pool';
import { SampleStatus } from '../src/engine/image/decode-messages';
import { makeSampleWriter } from '../src/engine/image/preprocess';
import { inspectModel, type PreprocessHints } from '../src/engine/model/inspect';
import { DEFAULTS, defaultDecodeThreads } from '../src/engine/options';
import { chunkDecoder, inputDims, type Chunk } from '../src/engine/run/collect';
import type { SplitPlan } from '../src/engine/run/plan';

export type Row = Record<string, number | string | null | Record<string, number>>;

/** Every image decoded as a run decodes them, kept in one tensor when `keep`; seconds of the decoding alone. */
async function decodeAll(model: string, hints: PreprocessHints, plan: SplitPlan, batch: number, keep: boolean, threads: number) {
  const info = await inspectModel(model, hints);
  const s = info.spec;
  const size = s.channels * s.height * s.width;
  const n = plan.files.length;
  const tensor = new Float32Array(keep ? n * size : 0);
  const pool = new DecodePool(threads);
  const spare: Float32Array[][] = [[]];
  const decodeChunk = chunkDecoder(plan, [{ spec: s, writer: makeSampleWriter(s) }], pool, DEFAULTS.decodeConcurrency, spare);
  const [t0, c0] = [performance.now(), cpuSeconds()];
  const ahead: Promise<Chunk>[] = [];
  for (let start = 0, next = 0; start < n; start += batch) {
    for (; next < n && ahead.length < 2 * pool.size + 1; next += batch) ahead.push(decodeChunk(next, Math.min(batch, n - next)));
    const { n: m, result } = await ahead.shift()!;
    if (result.status.some((st) => st !== SampleStatus.Ok)) throw new Error(`bench images must all decode: ${Object.values(result.reasons)[0]}`);
    if (keep) tensor.set(result.tensors[0].subarray(0, m * size), start * size);
    spare[0].push(result.tensors[0]);
  }
  const [seconds, cpu] = [(performance.now() - t0) / 1000, cpuSeconds() - c0];
  pool.close();
  return { info, tensor, size, seconds, cpu };
}

async function measure(mode: string): Promise<Row> {
  const { values: a } = parseArgs({
    args: process.argv.slice(2),
    options: { child: { type: 'string' }, model: { type: 'string' }, id: { type: 'string' }, ood: { type: 'string' }, batch: { type: 'string', default: '64' }, draft: { type: 'boolean', default: false }, 'decode-threads': { type: 'string' } },
  });
  const model = path.resolve(a.model!);
  const batch = Number(a.batch);
  // torchvision's Resize(256) + CenterCrop(224) + ToTensor, no EXIF rotation; the models normalize inside.
  const hints: PreprocessHints = { resize: 256, preset: 'none', exif: false, ...(a.draft ? { jpegDraft: true } : {}) };
  const draft = a.draft ? 'draft' : 'exact';
  const cpu0 = cpuSeconds();
  if (mode === 'e2e') {
    const { phases, onProgress, since } = phaseClock();
    const decodeThreads = a['decode-threads'] ? Number(a['decode-threads']) : undefined;
    const report = await runScore({ models: [model], id: a.id!, ood: [a.ood!], batchSize: batch, preprocess: hints, decodeThreads }, { onProgress });
    const seconds = since();
    phases.analysis = seconds;
    const images = report.splits.reduce((s, x) => s + x.count, 0);
    const msp = report.ood.find((o) => o.score === 'msp');
    // OOD Lens takes OOD as positive with higher = more OOD; the Python side scores ID as positive with MSP: same AUROC.
    return { mode: 'e2e', draft, model: path.basename(model), images, seconds, imagesPerSecond: images / seconds, peakRssMB: rssMB(), cpuSeconds: cpuSeconds() - cpu0, auroc: msp?.auroc ?? null, phases };
  }
  const plan = await bothFolders(a.id!, a.ood!);
  const decoded = await decodeAll(model, hints, plan, batch, mode === 'ceiling', a['decode-threads'] ? Number(a['decode-threads']) : defaultDecodeThreads());
  const n = plan.files.length;
  if (mode === 'decode') return { mode, draft, images: n, seconds: decoded.seconds, imagesPerSecond: n / decoded.seconds, peakRssMB: rssMB(), cpuSeconds: decoded.cpu };
  if (mode !== 'ceiling') throw new Error(`unknown mode ${mode}`);
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const { info, tensor, size } = decoded;
  const session = await ceilingSession(model);
  const [t0, c0] = [performance.now(), cpuSeconds()];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    await session.run({ [info.inputName]: new ort.Tensor('float32', tensor.subarray(i * size, (i + m) * size), inputDims(info, m)) }, [info.logitsOutput]);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { mode, model: path.basename(model), images: n, seconds, imagesPerSecond: n / seconds, peakRssMB: rssMB(), cpuSeconds: cpuSeconds() - c0 };
}

export function childMain(mode: string): void {
  printRow(measure(mode), `photos bench (${mode})`);
}
