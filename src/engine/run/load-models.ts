import * as os from 'node:os';
import * as path from 'node:path';
import { inspectModel, type PreprocessHints } from '../model/inspect';
import { ModelWorker } from '../inference/model-worker';
import { sessionModel } from '../onnx/session-model';
import { UserError } from '../util/errors';
import { inputDims, type LoadedModel } from './collect';

/**
 * Microseconds one decoding thread takes per image for the cheapest images, 28×28 PNGs: 32–44 µs in the bench runs
 * on the 2-core machine (opening and reading the file is over half of it). A model whose inference, on the threads
 * the decoding leaves free, is at least as fast as the decoding threads together is given only those threads.
 */
const CHEAPEST_DECODE_MICROS = 45;

/**
 * Inspects every model and loads each in its own worker thread. Several models share the cores: each session
 * gets its share of threads so parallel workers do not oversubscribe them. A lone model that proves cheap is left
 * the cores the decoding threads do not use (ThreadProbe). On failure every worker is closed.
 */
export async function loadModels(
  files: string[],
  providers: string[],
  hints: PreprocessHints,
  defaults: PreprocessHints,
  run: { batchSize: number; decodeThreads: number },
  log: (level: 'warn', m: string) => void,
): Promise<LoadedModel[]> {
  const plans = await Promise.all(files.map((m) => inspectModel(path.resolve(m), hints, defaults)));
  const names = new Set<string>();
  for (const m of plans) {
    if (names.has(m.name)) throw new UserError(`Two models are named "${m.name}"; rename one file`);
    names.add(m.name);
  }
  const cores = os.availableParallelism();
  const threads = plans.length > 1 ? Math.max(1, Math.floor(cores / plans.length)) : undefined;
  const cheapThreads = Math.max(1, cores - run.decodeThreads);
  const models: LoadedModel[] = plans.map((plan) => ({ plan, worker: new ModelWorker(), provider: 'cpu' }));
  try {
    await Promise.all(models.map(async (m) => {
      const outputs = [m.plan.logitsOutput, ...(m.plan.featuresOutput ? [m.plan.featuresOutput] : [])];
      const probe = threads === undefined && cheapThreads < cores
        ? { inputName: m.plan.inputName, dims: inputDims(m.plan, run.batchSize), cheapMicros: CHEAPEST_DECODE_MICROS / run.decodeThreads, cheapThreads }
        : undefined;
      const session = await sessionModel(m.plan.path, m.plan.graph.addedOutputs);
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
    }));
  } catch (e) {
    for (const m of models) m.worker.close();
    throw e;
  }
  return models;
}
