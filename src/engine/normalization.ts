// The normalization question asked before a run (VS Code's quick pick): does the model name its mean/std, and if
// not, how accurate is it on the ID folder under each choice? The answer is remembered in the model's sidecar.
import * as path from 'node:path';
import { loadModels } from './run/load-models';
import { inspectModel, type PreprocessHints } from './model/inspect';
import { readJsonIfExists } from './model/ecosystem';
import { planSplits } from './run/plan';
import { resolveClasses } from './run/classes';
import { needsNormalizationCheck, normalizationCheck, type NormalizationCheck } from './run/normalization-check';
import { writeFileAtomic } from './report/write';
import { defaultDecodeThreads, DEFAULTS } from './options';
import { resolveProviders } from './inference/providers';
import { trackThreads } from './inference/live-threads';

export type { NormalizationCheck } from './run/normalization-check';

/** Whether `model` takes float RGB and no source gives its mean/std. */
export async function lacksNormalization(model: string, defaults: PreprocessHints = {}): Promise<boolean> {
  return needsNormalizationCheck(await inspectModel(path.resolve(model), {}, defaults));
}

/** Accuracies on a sample of the labelled ID images with [0, 1], ImageNet and Inception normalization. */
export async function checkNormalization(model: string, id: string, signal?: AbortSignal, defaults: PreprocessHints = {}): Promise<NormalizationCheck | null> {
  const [idPlan] = await planSplits({ models: [model], id }, signal);
  const loading = loadModels([model], resolveProviders(DEFAULTS.executionProviders), {}, defaults, { batchSize: 32, decodeThreads: defaultDecodeThreads() }, () => undefined);
  trackThreads(loading.catch(() => undefined));
  const [loaded] = await loading;
  try {
    const k = loaded.plan.numClasses ?? loaded.plan.classes?.length ?? idPlan.classes.length;
    return await normalizationCheck(loaded, idPlan, resolveClasses(loaded.plan, idPlan, k).classes, signal);
  } finally {
    loaded.worker.close();
  }
}

/** The sidecar `<model>.json` beside the model, with `hints` merged into what it already holds (written atomically). */
export async function rememberHints(model: string, hints: PreprocessHints): Promise<string> {
  const file = model.replace(/\.onnx$/i, '') + '.json';
  const current = (await readJsonIfExists(file)) ?? {};
  await writeFileAtomic(file, JSON.stringify({ ...current, ...hints }, null, 2) + '\n');
  return file;
}
