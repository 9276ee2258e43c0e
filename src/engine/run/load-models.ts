import * as path from 'node:path';
import { inspectModel, type PreprocessHints } from '../model/inspect';
import type { PreprocessSpec } from '../image/preprocess';
import { ModelWorker } from '../inference/model-worker';
import { sessionModel } from '../onnx/session-model';
import { UserError } from '../util/errors';
import { inputDims, type LoadedModel } from './collect';
import { physicalCores } from '../inference/cores';

/**
 * Microseconds one decoding thread takes per image for the cheapest images, 28×28 PNGs: 32–44 µs in the bench runs
 * on the 2-core machine (opening and reading the file is over half of it). A model whose inference, on the threads
 * the decoding leaves free, is at least as fast as the decoding threads together is given only those threads.
 */
const CHEAPEST_DECODE_MICROS = 45;
/** A hit of the preprocessed-image cache on one decoding thread: 8 µs for those PNGs (bench/cache.ts threadCosts). */
const CACHE_HIT_MICROS = 10;

/** Models inspected, in their workers; `ready` settles once every session is made (on failure every worker is closed). */
export interface StartedModels {
  models: LoadedModel[];
  ready: Promise<void>;
}

/**
 * Inspects every model and starts loading each in its own worker thread, resolving once the models are inspected,
 * so that decoding (which needs only their preprocessing) can start while the sessions are made. Several models
 * share the cores: each session gets its share of threads so parallel workers do not oversubscribe them. A lone
 * model that proves cheap is left the cores the decoding threads do not use (ThreadProbe), unless its images are
 * mostly to be read from the preprocessed-image cache (`cached`), which costs the decoding threads a quarter.
 */
export async function startModels(
  files: string[],
  providers: string[],
  hints: PreprocessHints,
  defaults: PreprocessHints,
  run: { batchSize: number; decodeThreads: number; cached?: (spec: PreprocessSpec) => boolean },
  log: (level: 'warn', m: string) => void,
): Promise<StartedModels> {
  const plans = await Promise.all(files.map((m) => inspectModel(path.resolve(m), hints, defaults)));
  const names = new Set<string>();
  for (const m of plans) {
    if (names.has(m.name)) throw new UserError(`Two models are named "${m.name}"; rename one file`);
    names.add(m.name);
  }
  const cores = physicalCores();
  const threads = Math.max(1, Math.floor(cores / plans.length));
  const cheapThreads = Math.max(1, cores - run.decodeThreads);
  const models: LoadedModel[] = plans.map((plan) => ({ plan, worker: new ModelWorker(), provider: 'cpu' }));
  const ready = Promise.all(models.map(async (m) => {
    const outputs = [m.plan.logitsOutput, ...(m.plan.featuresOutput ? [m.plan.featuresOutput] : [])];
    const decodeMicros = run.cached?.(m.plan.spec) ? CACHE_HIT_MICROS : CHEAPEST_DECODE_MICROS;
    const probe = plans.length === 1 && cheapThreads < cores
      ? { inputName: m.plan.inputName, dims: inputDims(m.plan, run.batchSize), cheapMicros: decodeMicros / run.decodeThreads, cheapThreads }
      : undefined;
    const session = sessionModel(m.plan.path, m.plan.graph.addedOutputs);
    const { inputType, fixedBatch } = m.plan;
    const loaded = await m.worker.load({ ...session, providers, outputs, intraOpThreads: threads, probe, inputType, fixedBatch }).catch((e: Error) => {
      throw new UserError(`Cannot load model ${path.basename(m.plan.path)}: ${e.message}`);
    });
    m.provider = loaded.provider;
    for (const f of loaded.fallbacks) {
      const msg = `${m.plan.name}: execution provider ${f}; fell back to ${loaded.provider}`;
      m.plan.warnings.push(msg);
      log('warn', msg);
    }
  })).then(() => undefined);
  ready.catch(() => {
    for (const m of models) m.worker.close();
  });
  return { models, ready };
}

/** startModels, resolving once every session is made. */
export async function loadModels(...args: Parameters<typeof startModels>): Promise<LoadedModel[]> {
  const { models, ready } = await startModels(...args);
  await ready;
  return models;
}
