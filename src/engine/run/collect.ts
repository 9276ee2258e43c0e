import { decodeImage, decodeFailure } from '../image/decode';
import { makeSampleWriter, specKey, type PreprocessSpec, type SampleWriter } from '../image/preprocess';
import type { DecodePool } from '../image/decode-pool';
import { SampleStatus, type DecodeResult } from '../image/decode-messages';
import type { ModelWorker } from '../inference/model-worker';
import type { ModelPlan } from '../model/inspect';
import type { Progress } from '../options';
import type { SplitPlan } from './plan';
import { planSize } from './plan';
import { UserError } from '../util/errors';
import type { PathSource } from '../dataset/path-list';
import type { NormalizationCheck } from './normalization-check';
import { poolFeatures } from '../inference/tensor-io';
import type { SplitCache, TensorCache } from '../cache/tensor-cache';
import { attackBatch } from '../attack/tensors';

/** One model's outputs on one split, for the samples that were scored (in sample order). */
export interface ModelSplitOutputs {
  logits: Float32Array;
  numClasses: number;
}

export interface SplitOutputs {
  plan: SplitPlan;
  /** Scored samples: file path (or noise:N/<i>) and folder class index. */
  paths: PathSource;
  folderClass: Int32Array;
  skipped: { path: string; reason: string }[];
  perModel: Map<string, ModelSplitOutputs>;
  /** Samples the plan had but the run did not reach (cancelled). */
  notReached: number;
  /** Index in the plan of each scored sample (the files that failed to decode are not there). */
  indices?: Int32Array;
}

export interface LoadedModel {
  plan: ModelPlan;
  worker: ModelWorker;
  provider: string;
  /** Set after the first batch when every row is a probability distribution; those outputs are turned into ln p. */
  outputKind?: 'logits' | 'probabilities';
  /** Set when the feature tensor is spatial ([N, C, H, W]) and is averaged over H×W. */
  featuresPooled?: boolean;
  /** On an accelerator: the largest |logit difference| of the first batch from the same batch on CPU. */
  cpuCheck?: { maxAbsLogitDiff: number; samples: number };
  /** Accuracy on a sample of ID images under three normalizations, for a model that named none. */
  normalizationCheck?: NormalizationCheck;
}

export interface CollectContext {
  models: LoadedModel[];
  /** Settles once every model's session is made: decoding starts before, the first batch waits for it. */
  ready?: Promise<void>;
  batchSize: number;
  decodePool: DecodePool;
  /** Files sharp decodes at once on the main thread (those the decoding threads hand back; see chunkDecoder). */
  decodeConcurrency: number;
  /** The preprocessed-image cache (RunOptions.cache): image splits are read from it and stored into it. */
  cache?: TensorCache;
  signal?: AbortSignal;
  /** Called with each batch's features (n × d; null without a feature tensor) and logits, for the OOD methods. */
  /** Resolves once the features' consumer is done with the buffers. */
  onFeatures?(model: LoadedModel, split: SplitPlan, features: Float32Array | null, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): Promise<void>;
  onProgress?(p: Progress): void;
  /** Counts across splits for progress. */
  progress: { done: number; total: number; started: number };
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

interface SpecGroup {
  spec: PreprocessSpec;
  writer: SampleWriter;
  models: LoadedModel[];
  sampleSize: number;
}

/** Smallest probability used when a model's probability outputs are turned into log-probabilities (ln 0 → −∞). */
const PROB_FLOOR = 1e-30;

function groupBySpec(models: LoadedModel[]): SpecGroup[] {
  const groups = new Map<string, SpecGroup>();
  for (const m of models) {
    const key = specKey(m.plan.spec);
    let g = groups.get(key);
    if (!g) {
      const s = m.plan.spec;
      g = { spec: s, writer: makeSampleWriter(s), models: [], sampleSize: s.channels * s.height * s.width };
      groups.set(key, g);
    }
    g.models.push(m);
  }
  return [...groups.values()];
}

export function inputDims(plan: ModelPlan, n: number): number[] {
  const { channels: C, height: H, width: W, layout } = plan.spec;
  if (plan.inputRank === 3) return [n, H, W];
  return layout === 'NCHW' ? [n, C, H, W] : [n, H, W, C];
}

export function looksLikeProbabilities(data: Float32Array, n: number, k: number): boolean {
  if (k < 2 || n === 0) return false;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = data[i * k + j];
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

/** One batch of samples decoded by the pool, with the files it left for sharp filled in. */
export interface Chunk {
  start: number;
  n: number;
  result: DecodeResult;
}

/**
 * Decodes batch-sized chunks of a split, one tensor per spec, in the pool's threads; the files they hand back (one
 * named .png that is not, before sharp is loaded here) are decoded here by sharp, at most `concurrency` at once.
 * `spare` holds used tensors to fill again.
 */
export function chunkDecoder(
  plan: SplitPlan,
  groups: readonly { spec: PreprocessSpec; writer: SampleWriter }[],
  pool: DecodePool,
  concurrency: number,
  spare: Float32Array[][],
  cache?: SplitCache,
): (start: number, n: number) => Promise<Chunk> {
  const specs = groups.map((g) => g.spec);
  const withSharpSlot = limiter(concurrency);
  const attack = plan.attack;
  if (attack) return async (start, n) => ({ start, n, result: attackBatch(attack, groups, start, n, spare.map((list) => list.pop())) });
  return async (start, n) => {
    const source = plan.noise ? { noise: { seed: plan.noise.seed, start: start + (plan.noise.offset ?? 0), count: n } } : { files: plan.files.slice(start, start + n) };
    const result = await pool.decode({ specs, source, reuse: spare.map((list) => list.pop()), cache: cache?.job() });
    const left: number[] = [];
    result.status.forEach((st, j) => st === SampleStatus.NeedsSharp && left.push(j));
    await Promise.all(left.map((j) => withSharpSlot(async () => {
      try {
        const images = await Promise.all(groups.map((g) => decodeImage(plan.files.get(start + j), g.spec)));
        groups.forEach((g, gi) => g.writer(images[gi].data, result.tensors[gi], j));
        result.status[j] = SampleStatus.Ok;
        cache?.store(result.cache, j, images.map((img) => img.data));
      } catch (e) {
        result.status[j] = SampleStatus.Failed;
        result.reasons[j] = decodeFailure(e);
      }
    })));
    cache?.took(result.cache, (j) => result.status[j] === SampleStatus.Ok);
    return { start, n, result };
  };
}

/**
 * Streams one split through every model: worker threads decode batch-sized chunks a few chunks ahead (PNGs in
 * JavaScript, other formats with sharp on libuv's threads, resampled in the worker threads), and each batch goes to
 * every model's worker while the next ones are being decoded. Memory holds a few batches plus the per-sample outputs.
 */
export async function collectSplit(plan: SplitPlan, ctx: CollectContext): Promise<SplitOutputs> {
  const groups = groupBySpec(ctx.models);
  const total = planSize(plan);
  const scoredIndex = new Int32Array(total); // plan index of each scored sample
  const folderClass = new Int32Array(total);
  const skipped = [...plan.skipped];
  const store = new Map<string, { data: Float32Array | null; k: number }>();
  for (const m of ctx.models) store.set(m.plan.name, { data: null, k: m.plan.numClasses ?? 0 });
  const label = (i: number) => (plan.noise || plan.attack ? `${plan.source}/${String(i + (plan.noise?.offset ?? 0)).padStart(5, '0')}` : plan.files.get(i));
  // Batch tensors go round decoding thread → model thread → back here → decoding thread, instead of being
  // allocated per batch: dead batches otherwise pile up in threads whose small heaps rarely collect.
  const spare = groups.map(() => [] as Float32Array[]);

  // Noise and attack splits are made, not read: nothing to cache.
  const cache = plan.noise || plan.attack ? undefined : ctx.cache?.split(groups.map((g) => g.spec));
  const decodeChunk = chunkDecoder(plan, groups, ctx.decodePool, ctx.decodeConcurrency, spare, cache);

  let scored = 0; // samples sent to the models
  let completed = 0; // samples whose outputs arrived from every model
  const inFlight: Promise<void>[] = [];

  const report = () => {
    const seconds = (Date.now() - ctx.progress.started) / 1000;
    ctx.onProgress?.({
      phase: 'scoring', split: plan.name, done: ctx.progress.done, total: ctx.progress.total,
      imagesPerSecond: seconds > 0 ? ctx.progress.done / seconds : 0,
    });
  };

  const dispatch = (buffers: Float32Array[], n: number) => {
    const offset = scored;
    scored += n;
    const jobs: Promise<void>[] = [];
    groups.forEach((g, gi) => {
      const data = buffers[gi];
      g.models.forEach((m, mi) => {
        const last = mi === g.models.length - 1;
        // The last model gets the batch itself (transferred); the others get copies.
        const payload = last ? data : data.slice();
        jobs.push(m.worker.run(m.plan.inputName, payload, inputDims(m.plan, n)).then(({ outputs: out, input, cpuDiff }) => {
          spare[gi].push(new Float32Array(input.buffer));
          if (cpuDiff !== undefined) m.cpuCheck = { maxAbsLogitDiff: cpuDiff, samples: n };
          const logitsOut = out[m.plan.logitsOutput];
          const k = logitsOut.dims[1] ?? logitsOut.data.length / n;
          const logits = logitsOut.data;
          if (logitsOut.dims[0] !== n || logits.length !== n * k) {
            throw new UserError(`model ${m.plan.name} returned output "${m.plan.logitsOutput}" of shape [${logitsOut.dims.join(',')}] for a batch of ${n}`);
          }
          if (m.outputKind === undefined) {
            m.outputKind = looksLikeProbabilities(logits, n, k) ? 'probabilities' : 'logits';
            if (m.outputKind === 'probabilities') {
              ctx.log?.('warn', `${m.plan.name}: outputs are probabilities (non-negative rows summing to 1); using ln p as logits`);
            }
          }
          if (m.outputKind === 'probabilities') for (let i = 0; i < logits.length; i++) logits[i] = Math.log(Math.max(logits[i], PROB_FLOOR));
          const s = store.get(m.plan.name)!;
          if (!s.data) {
            s.k = k;
            s.data = new Float32Array(total * k);
          }
          s.data.set(logits, offset * k);
          const feat = m.plan.featuresOutput ? out[m.plan.featuresOutput] : undefined;
          if (!ctx.onFeatures) return m.worker.recycle(out);
          if (feat && feat.dims.length > 2) m.featuresPooled = true;
          const data = !feat ? null : feat.dims.length > 2 ? poolFeatures(feat.data, feat.dims) : feat.data;
          // The outputs go back to the worker only once the detectors are done with them.
          return ctx.onFeatures(m, plan, data, logits, n, data ? data.length / n : 0, folderClass.subarray(offset, offset + n), offset).then(() => m.worker.recycle(out));
        }));
      });
    });
    const batch = Promise.all(jobs).then(() => {
      completed = offset + n;
      ctx.progress.done += n;
      report();
    });
    // Awaiting it still throws; the handler only keeps batches nobody awaits (after an error or a cancel) quiet.
    batch.catch(() => undefined);
    inFlight.push(batch);
  };

  // Enough chunks ahead to keep every decoding thread busy while a batch is packed and sent.
  const ahead: Promise<Chunk>[] = [];
  const window = 2 * ctx.decodePool.size + 1;
  let nextStart = 0;
  const fill = () => {
    while (nextStart < total && ahead.length < window) {
      const n = Math.min(ctx.batchSize, total - nextStart);
      const chunk = decodeChunk(nextStart, n);
      chunk.catch(() => undefined);
      ahead.push(chunk);
      nextStart += n;
    }
  };

  // The first chunks decode while the models' sessions are made.
  fill();
  let cancelled = ctx.ready !== undefined && (await raceAbort(ctx.ready.then(() => true), ctx.signal)) === undefined;
  while (!cancelled && (ahead.length > 0 || nextStart < total)) {
    if (ctx.signal?.aborted) {
      cancelled = true;
      break;
    }
    fill();
    // A huge image takes seconds to decode: a cancel must not wait for it.
    const chunk = await raceAbort(ahead.shift()!, ctx.signal);
    if (chunk === undefined) {
      cancelled = true;
      break;
    }
    fill();
    const { start, n, result } = chunk;
    // Failed samples are dropped and the rest packed to the front: the batch is what remains.
    let kept = 0;
    for (let j = 0; j < n; j++) {
      if (result.status[j] !== SampleStatus.Ok) {
        skipped.push({ path: label(start + j), reason: result.reasons[j] ?? 'cannot decode' });
        ctx.progress.total--;
        continue;
      }
      if (kept !== j) groups.forEach((g, gi) => result.tensors[gi].copyWithin(kept * g.sampleSize, j * g.sampleSize, (j + 1) * g.sampleSize));
      scoredIndex[scored + kept] = start + j;
      folderClass[scored + kept] = plan.noise || plan.attack ? -1 : plan.folderClass[start + j];
      kept++;
    }
    if (kept === 0) continue;
    dispatch(result.tensors.map((t, gi) => (t.length === kept * groups[gi].sampleSize ? t : t.subarray(0, kept * groups[gi].sampleSize))), kept);
    // Two batches in flight per model keep the workers busy while the next batch is packed.
    if (inFlight.length >= 2) await raceAbort(inFlight.shift()!, ctx.signal);
  }
  if (!cancelled) {
    for (const p of inFlight) {
      await raceAbort(p, ctx.signal);
      if (ctx.signal?.aborted) {
        cancelled = true;
        break;
      }
    }
  }
  if (ctx.signal?.aborted) cancelled = true;
  // What was decoded is kept even when the run was cancelled: the next run starts from it.
  await cache?.finish();
  const kept = cancelled ? completed : scored;
  const perModel = new Map<string, ModelSplitOutputs>();
  for (const [name, s] of store) {
    const k = s.k;
    // A full split keeps its buffer; only a cut-short one is copied down to what was scored.
    const logits = !s.data ? new Float32Array(0) : s.data.length === kept * k ? s.data : s.data.slice(0, kept * k);
    perModel.set(name, { logits, numClasses: k });
  }
  return {
    plan,
    paths: { length: kept, get: (i) => label(scoredIndex[i]) },
    folderClass: kept === total ? folderClass : folderClass.slice(0, kept),
    skipped,
    perModel,
    notReached: total - kept - (skipped.length - plan.skipped.length),
    indices: scoredIndex.subarray(0, kept),
  };
}

/** Runs at most `max` of the given tasks at once; a finished task hands its slot to the next waiting one. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Resolves when `p` settles (with its value) or the signal aborts (undefined), whichever is first; errors of `p` propagate. */
function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
