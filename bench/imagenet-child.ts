// One measurement of the ImageNet-sized benchmark (bench/imagenet.ts) per process, so that peak RSS belongs to it
// alone; printed as one JSON line. Preprocessing is torchvision's ImageNet eval transform, as
// `ood-lens score --preset imagenet --resize 256 --crop 224` applies it.
//   --mode e2e      folders → scores, metrics and the JSON report through the engine (runScore); with --logits-out
//                   DIR each split's logits and labels are streamed to DIR/<split>/{logits,labels}.npy on the way
//   --mode decode   read + decode + Resize(256) + CenterCrop(224) + normalize alone, on the engine's decoding
//                   threads, for --sample images spread evenly over both folders (the tensors are dropped)
//   --mode ceiling  the model alone: onnxruntime-node in this process on --sample images decoded beforehand, with
//                   --threads intra-op threads (default: one per physical core, bench/lib/ceiling-session.ts)
import { parseArgs } from 'node:util';
import { ceilingSession } from './lib/ceiling-session';
import { cpuSeconds, held, phaseClock, printRow, rssMB } from './lib/measure';
import { physicalCores } from '../src/engine/inference/cores';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { runScore } from '../src/engine/run';
import { listDataset } from '../src/engine/dataset/image-files';
import { DecodePool } from '../src/engine/image/decode-pool';
import { SampleStatus } from '../src/engine/image/decode-messages';
import { chunkDecoder } from '../src/engine/run/collect';
import type { SplitPlan } from '../src/engine/run/plan';
import { PathList } from '../src/engine/dataset/path-list';
import { DEFAULTS, defaultDecodeThreads } from '../src/engine/options';
import { makeSampleWriter } from '../src/engine/image/preprocess';
import { inspectModel, type PreprocessHints } from '../src/engine/model/inspect';
import { writeJsonReport } from '../src/engine/report/write';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string' }, model: { type: 'string' }, id: { type: 'string' }, ood: { type: 'string' },
    sample: { type: 'string', default: '512' }, 'logits-out': { type: 'string' }, threads: { type: 'string' },
  },
});
const HINTS: PreprocessHints = { preset: 'imagenet', resize: 256, crop: [224, 224] };
const BATCH = DEFAULTS.batchSize;
/** A .npy file written in any order: rows at their offsets, the header (128 bytes) once the row count is known. */
class NpyStream {
  private readonly fd: number;
  private rows = 0;
  constructor(file: string, private readonly descr: '<f4' | '<i8', private readonly width: number) {
    this.fd = openSync(file, 'w');
  }
  write(row: number, data: Float32Array | BigInt64Array): void {
    writeSync(this.fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, 128 + row * this.width * data.BYTES_PER_ELEMENT);
    this.rows = Math.max(this.rows, row + data.length / this.width);
  }
  close(): void {
    const shape = this.width === 1 ? `(${this.rows},)` : `(${this.rows}, ${this.width})`;
    const dict = `{'descr': '${this.descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117) + '\n';
    writeSync(this.fd, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY\x01\x00', 'latin1'), Buffer.from([118, 0]), Buffer.from(dict, 'latin1')]), 0, 128, 0);
    closeSync(this.fd);
  }
}

async function e2e() {
  const heldBefore = held();
  const { phases, onProgress, since } = phaseClock();
  const streams = new Map<string, [NpyStream, NpyStream]>();
  const out = a['logits-out'];
  const onFeatures = (_m: unknown, split: SplitPlan, _f: unknown, logits: Float32Array, n: number, _d: number, folderClass: Int32Array, offset: number) => {
    if (!streams.has(split.name)) {
      mkdirSync(path.join(out!, split.name), { recursive: true });
      streams.set(split.name, [new NpyStream(path.join(out!, split.name, 'logits.npy'), '<f4', logits.length / n), new NpyStream(path.join(out!, split.name, 'labels.npy'), '<i8', 1)]);
    }
    const [l, y] = streams.get(split.name)!;
    l.write(offset, logits);
    y.write(offset, BigInt64Array.from(folderClass.subarray(0, n), (c) => BigInt(c)));
  };
  const report = await runScore({ models: [a.model!], id: a.id!, ood: [a.ood!], preprocess: HINTS }, { onProgress, onFeatures: out ? onFeatures : undefined });
  for (const [l, y] of streams.values()) (l.close(), y.close());
  phases.analysis = since();
  const file = path.join(os.tmpdir(), `oodlens-imagenet-bench-${process.pid}.json`);
  await writeJsonReport(report, file);
  const seconds = since();
  phases.write = seconds;
  rmSync(file, { force: true });
  const images = report.splits.reduce((s, x) => s + x.count, 0);
  // What the finished report keeps in the main thread (node --expose-gc only).
  const retainedBytes = heldBefore === null ? null : held()! - heldBefore;
  return { mode: 'e2e', images, seconds, imagesPerSecond: images / seconds, cpuSeconds: cpuSeconds(), peakRssMB: rssMB(), phases, retainedBytes, classes: report.models[0].classes.length };
}

/** --sample files spread evenly over the ID and OOD folders, as one split. */
async function sample(): Promise<SplitPlan> {
  const lists = [(await listDataset(a.id!)).files, (await listDataset(a.ood!)).files];
  const all = lists.flatMap((l) => Array.from({ length: l.length }, (_, i) => l.get(i)));
  const n = Math.min(Number(a.sample), all.length);
  const files = PathList.of(Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]));
  return { name: 'sample', role: 'id', source: 'bench', files, folderClass: new Int32Array(n).fill(-1), classes: [], skipped: [] };
}

/** Decodes the sample as the engine does (decoding threads, sharp for what they leave); `keep` gets each batch. */
async function decode(plan: SplitPlan, keep: (tensor: Float32Array, start: number, n: number) => void) {
  const model = await inspectModel(path.resolve(a.model!), HINTS);
  const pool = new DecodePool(defaultDecodeThreads());
  const spare: Float32Array[][] = [[]];
  const decodeChunk = chunkDecoder(plan, [{ spec: model.spec, writer: makeSampleWriter(model.spec) }], pool, DEFAULTS.decodeConcurrency, spare);
  const n = plan.files.length;
  const [t0, cpu0] = [performance.now(), cpuSeconds()];
  const ahead = [];
  for (let start = 0, next = 0; start < n; start += BATCH) {
    for (; next < n && ahead.length < 2 * pool.size + 1; next += BATCH) ahead.push(decodeChunk(next, Math.min(BATCH, n - next)));
    const { n: m, result } = await ahead.shift()!;
    if (result.status.some((st) => st !== SampleStatus.Ok)) throw new Error('bench images must all decode');
    keep(result.tensors[0], start, m);
    spare[0].push(result.tensors[0]);
  }
  const [seconds, cpu] = [(performance.now() - t0) / 1000, cpuSeconds() - cpu0];
  pool.close();
  return { model, seconds, cpuSeconds: cpu };
}

async function ceiling(plan: SplitPlan) {
  const n = plan.files.length;
  const size = 3 * 224 * 224;
  const tensor = new Float32Array(n * size);
  const { model } = await decode(plan, (t, start, m) => tensor.set(t.subarray(0, m * size), start * size));
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const threads = Number(a.threads) || physicalCores();
  const session = await ceilingSession(path.resolve(a.model!), threads);
  const run = (i: number, m: number) => session.run({ [model.inputName]: new ort.Tensor('float32', tensor.subarray(i * size, (i + m) * size), [m, 3, 224, 224]) });
  await run(0, Math.min(BATCH, n)); // the first run allocates onnxruntime's buffers: not timed
  const [t0, cpu0] = [performance.now(), cpuSeconds()];
  for (let i = 0; i < n; i += BATCH) await run(i, Math.min(BATCH, n - i));
  const seconds = (performance.now() - t0) / 1000;
  return { mode: 'ceiling', threads, images: n, seconds, imagesPerSecond: n / seconds, cpuSeconds: cpuSeconds() - cpu0, peakRssMB: rssMB() };
}

async function main() {
  if (a.mode === 'e2e') return e2e();
  const plan = await sample();
  if (a.mode === 'ceiling') return ceiling(plan);
  if (a.mode !== 'decode') throw new Error(`unknown --mode ${a.mode}`);
  const { seconds, cpuSeconds: cpu } = await decode(plan, () => undefined);
  const n = plan.files.length;
  return { mode: 'decode', images: n, seconds, imagesPerSecond: n / seconds, cpuSeconds: cpu, peakRssMB: rssMB() };
}

printRow(main());
