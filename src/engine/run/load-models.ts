import * as os from 'node:os';
import * as path from 'node:path';
import { inspectModel, type PreprocessHints } from '../model/inspect';
import { ModelWorker } from '../inference/model-worker';
import { UserError } from '../util/errors';
import type { LoadedModel } from './collect';

/**
 * Inspects every model and loads each in its own worker thread. Several models share the cores: each session
 * gets its share of threads so parallel workers do not oversubscribe them. On failure every worker is closed.
 */
export async function loadModels(files: string[], providers: string[], hints: PreprocessHints, log: (level: 'warn', m: string) => void): Promise<LoadedModel[]> {
  const plans = await Promise.all(files.map((m) => inspectModel(path.resolve(m), hints)));
  const names = new Set<string>();
  for (const m of plans) {
    if (names.has(m.name)) throw new UserError(`Two models are named "${m.name}"; rename one file`);
    names.add(m.name);
  }
  const threads = plans.length > 1 ? Math.max(1, Math.floor(os.availableParallelism() / plans.length)) : undefined;
  const models: LoadedModel[] = plans.map((plan) => ({ plan, worker: new ModelWorker(), provider: 'cpu' }));
  try {
    await Promise.all(models.map(async (m) => {
      const outputs = [m.plan.logitsOutput, ...(m.plan.featuresOutput ? [m.plan.featuresOutput] : [])];
      const loaded = await m.worker.load(m.plan.path, providers, outputs, threads).catch((e: Error) => {
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
