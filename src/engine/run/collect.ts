import { decodeImage, DecodeError } from '../image/decode';
import { makeSampleWriter, specKey, type PreprocessSpec, type SampleWriter } from '../image/preprocess';
import type { RawImage } from '../image/png-fast';
import { noisePixels } from '../dataset/noise';
import type { ModelWorker } from '../inference/model-worker';
import type { ModelPlan } from '../model/inspect';
import type { Progress } from '../options';
import type { SplitPlan } from './plan';
import { planSize } from './plan';
import { UserError } from '../util/errors';

/** One model's outputs on one split, for the samples that were scored (in sample order). */
export interface ModelSplitOutputs {
  logits: Float32Array;
  numClasses: number;
}

export interface SplitOutputs {
  plan: SplitPlan;
  /** Scored samples: file path (or noise:N/<i>) and folder class index. */
  paths: string[];
  folderClass: Int32Array;
  skipped: { path: string; reason: string }[];
  perModel: Map<string, ModelSplitOutputs>;
  /** Samples the plan had but the run did not reach (cancelled). */
  notReached: number;
}

export interface LoadedModel {
  plan: ModelPlan;
  worker: ModelWorker;
  provider: string;
  /** Set after the first batch when every row is a probability distribution; those outputs are turned into ln p. */
  outputKind?: 'logits' | 'probabilities';
}

export interface CollectContext {
  models: LoadedModel[];
  batchSize: number;
  decodeConcurrency: number;
  signal?: AbortSignal;
  /** Called with each batch's features (n × d) and logits for feature-based detectors. */
  onFeatures?(model: LoadedModel, split: SplitPlan, features: Float32Array, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): void;
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

function inputDims(plan: ModelPlan, n: number): number[] {
  const { channels: C, height: H, width: W, layout } = plan.spec;
  if (plan.inputRank === 3) return [n, H, W];
  return layout === 'NCHW' ? [n, C, H, W] : [n, H, W, C];
}

function looksLikeProbabilities(data: Float32Array, n: number, k: number): boolean {
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

type Decoded = RawImage[] | DecodeError;

/**
 * Streams one split through every model: files are decoded a window ahead (sharp works on libuv threads), packed
 * into batches, and each batch goes to every model's worker while the next one is being decoded. Memory holds a
 * few batches plus the per-sample outputs.
 */
export async function collectSplit(plan: SplitPlan, ctx: CollectContext): Promise<SplitOutputs> {
  const groups = groupBySpec(ctx.models);
  const total = planSize(plan);
  const paths: string[] = [];
  const folderClass = new Int32Array(total);
  const skipped = [...plan.skipped];
  const store = new Map<string, { data: Float32Array | null; k: number }>();
  for (const m of ctx.models) store.set(m.plan.name, { data: null, k: m.plan.numClasses ?? 0 });

  const decodeAhead = new Map<number, Promise<Decoded>>();
  let nextToDecode = 0;
  const decode = (i: number): Promise<Decoded> => {
    if (plan.noise) {
      return Promise.resolve(groups.map((g) => ({
        data: noisePixels(i, plan.noise!.seed, g.spec.height, g.spec.width, g.spec.channels),
        width: g.spec.width, height: g.spec.height, channels: g.spec.channels,
      })));
    }
    return Promise.all(groups.map((g) => decodeImage(plan.files[i], g.spec))).catch((e) =>
      e instanceof DecodeError ? e : new DecodeError(String(e instanceof Error ? e.message : e)),
    );
  };

  let batchBuffers = groups.map((g) => new Float32Array(ctx.batchSize * g.sampleSize));
  let inBatch = 0;
  let scored = 0; // samples packed into batches
  let completed = 0; // samples whose outputs arrived from every model
  const inFlight: Promise<void>[] = [];

  const report = () => {
    const seconds = (Date.now() - ctx.progress.started) / 1000;
    ctx.onProgress?.({
      phase: 'scoring', split: plan.name, done: ctx.progress.done, total: ctx.progress.total,
      imagesPerSecond: seconds > 0 ? ctx.progress.done / seconds : 0,
    });
  };

  const dispatch = () => {
    const n = inBatch;
    const offset = scored - n;
    const buffers = batchBuffers;
    batchBuffers = groups.map((g) => new Float32Array(ctx.batchSize * g.sampleSize));
    inBatch = 0;
    const jobs: Promise<void>[] = [];
    groups.forEach((g, gi) => {
      const data = n === ctx.batchSize ? buffers[gi] : buffers[gi].subarray(0, n * g.sampleSize);
      g.models.forEach((m, mi) => {
        const last = mi === g.models.length - 1;
        // The last model gets the batch itself (transferred); the others get copies.
        const payload = last ? data : data.slice();
        jobs.push(m.worker.run(m.plan.inputName, payload, inputDims(m.plan, n)).then((out) => {
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
          if (feat && ctx.onFeatures) {
            const d = feat.data.length / n;
            ctx.onFeatures(m, plan, feat.data, logits, n, d, folderClass.subarray(offset, offset + n), offset);
          }
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

  const fill = () => {
    while (nextToDecode < total && decodeAhead.size < ctx.decodeConcurrency) {
      decodeAhead.set(nextToDecode, decode(nextToDecode));
      nextToDecode++;
    }
  };

  let cancelled = false;
  for (let i = 0; i < total; i++) {
    if (ctx.signal?.aborted) {
      cancelled = true;
      break;
    }
    fill();
    // A huge image takes seconds to decode: a cancel must not wait for it.
    const result = await raceAbort(decodeAhead.get(i)!, ctx.signal);
    if (result === undefined) {
      cancelled = true;
      break;
    }
    decodeAhead.delete(i);
    const label = plan.noise ? `${plan.source}/${String(i).padStart(5, '0')}` : plan.files[i];
    if (result instanceof DecodeError) {
      skipped.push({ path: label, reason: result.message });
      ctx.progress.total--;
      continue;
    }
    groups.forEach((g, gi) => g.writer(result[gi].data, result[gi].channels, batchBuffers[gi], inBatch));
    paths.push(label);
    folderClass[scored] = plan.noise ? -1 : plan.folderClass[i];
    inBatch++;
    scored++;
    if (inBatch === ctx.batchSize) {
      dispatch();
      // Two batches in flight per model keep the workers busy while the next batch decodes.
      if (inFlight.length >= 2) await raceAbort(inFlight.shift()!, ctx.signal);
    }
  }
  if (!cancelled && inBatch > 0) dispatch();
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
  const kept = cancelled ? completed : scored;
  const perModel = new Map<string, ModelSplitOutputs>();
  for (const [name, s] of store) {
    const k = s.k;
    perModel.set(name, { logits: s.data ? s.data.slice(0, kept * k) : new Float32Array(0), numClasses: k });
  }
  return {
    plan,
    paths: paths.slice(0, kept),
    folderClass: folderClass.slice(0, kept),
    skipped,
    perModel,
    notReached: total - kept - (skipped.length - plan.skipped.length),
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
