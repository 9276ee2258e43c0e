import { plainSpec } from '../image/preprocess';
import { methodChoice } from '../ood/choice';
import type { RunOptions } from '../options';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { readNpy } from '../dataset/npy';
import { UserError } from '../util/errors';
import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from './plan';
import type { SplitOutputs } from './collect';
import type { RunData } from '../analysis/build-report';
import { FeatureScoring } from '../analysis/feature-scoring';
import type { LastLayer } from '../onnx/last-layer';

async function optionalNpy(file: string) {
  return fs.stat(file).then(() => readNpy(file), () => null);
}

/**
 * The final linear layer of a precomputed run: W.npy [K, D] and b.npy [K] in the first split folder that has them
 * (ViM, ReAct, DICE… need them; with a model they are read from its graph).
 */
async function lastLayerOf(plans: SplitPlan[], k: number, d: number): Promise<LastLayer | null> {
  for (const plan of plans) {
    const W = await optionalNpy(path.join(plan.precomputed!, 'W.npy'));
    if (!W) continue;
    const b = await optionalNpy(path.join(plan.precomputed!, 'b.npy'));
    const where = path.join(plan.precomputed!, 'W.npy');
    if (W.shape.length !== 2 || W.shape[0] !== k || W.shape[1] !== d) throw new UserError(`${where} has shape (${W.shape.join(', ')}); expected [${k}, ${d}] (classes × features)`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== k)) throw new UserError(`${path.join(plan.precomputed!, 'b.npy')} has shape (${b.shape.join(', ')}); expected [${k}]`);
    return { W: Float32Array.from(W.data), b: b ? Float32Array.from(b.data) : new Float32Array(k), k, d };
  }
  return null;
}

/**
 * Runs the same diagnostics on outputs computed elsewhere: each split folder holds logits.npy [N,K] and optionally
 * labels.npy [N] (class indices) and features.npy [N,D]; W.npy and b.npy (the final layer) in any of them.
 */
export async function loadPrecomputed(plans: SplitPlan[], name: string, opts: Pick<RunOptions, 'scores' | 'params' | 'shaping'> = {}): Promise<RunData> {
  if (plans.some((p) => p.noise)) throw new UserError('noise:N splits need a model; precomputed logits cannot be generated');
  let k = -1;
  const loaded = [];
  for (const plan of plans) {
    const dir = plan.precomputed!;
    const logits = await readNpy(path.join(dir, 'logits.npy'));
    if (logits.shape.length !== 2) throw new UserError(`${path.join(dir, 'logits.npy')} has shape (${logits.shape.join(', ')}); expected [N, K]`);
    const [n, kk] = logits.shape;
    if (k >= 0 && kk !== k) throw new UserError(`${path.join(dir, 'logits.npy')} has ${kk} classes, other splits have ${k}`);
    k = kk;
    const labels = await optionalNpy(path.join(dir, 'labels.npy'));
    if (labels && labels.data.length !== n) throw new UserError(`${path.join(dir, 'labels.npy')} has ${labels.data.length} labels for ${n} logits rows`);
    const features = await optionalNpy(path.join(dir, 'features.npy'));
    if (features && (features.shape.length !== 2 || features.shape[0] !== n)) {
      throw new UserError(`${path.join(dir, 'features.npy')} has shape (${features.shape.join(', ')}); expected [${n}, D]`);
    }
    loaded.push({ plan, n, logits, labels, features });
  }
  const classes = Array.from({ length: k }, (_, i) => `class_${i}`);
  const model: ModelPlan = {
    name, path: plans[0].precomputed!, inputName: '', inputShape: [], inputRank: 0,
    spec: plainSpec('NCHW', 1, 0, 0), preprocess: null, labelMap: null, inputType: 'float32', fixedBatch: null,
    logitsOutput: 'logits.npy', featuresOutput: loaded.some((l) => l.features) ? 'features.npy' : undefined,
    graph: { features: loaded.some((l) => l.features) ? { tensor: 'features.npy', source: 'output' } : undefined, finalLinear: null, addedOutputs: [] },
    classes, numClasses: k, metadata: {}, warnings: [],
  };
  const d = loaded.find((l) => l.features)?.features!.shape[1] ?? 0;
  const layer = d > 0 ? await lastLayerOf(plans, k, d) : null;
  const features = new FeatureScoring(plans.some((p) => p.role === 'fit'), plans.some((p) => p.role === 'calib'), methodChoice(opts));
  features.layerOf = () => layer;
  const fakeLoaded = { plan: model, provider: 'precomputed' };
  const splits: SplitOutputs[] = [];
  try {
    for (const role of ['fit', 'id', 'ood', 'calib'] as const) {
      for (const l of loaded.filter((x) => x.plan.role === role)) {
        const folderClass = new Int32Array(l.n).fill(-1);
        if (l.labels) for (let i = 0; i < l.n; i++) folderClass[i] = l.labels.data[i] >= 0 && l.labels.data[i] < k ? l.labels.data[i] : -1;
        l.plan.classes = classes;
        const logits = Float32Array.from(l.logits.data);
        await features.onBatch(fakeLoaded, l.plan, l.features ? Float32Array.from(l.features.data) : null, logits, l.n, l.features?.shape[1] ?? 0, folderClass, 0);
        if (role === 'fit') {
          await features.finishFit([fakeLoaded]);
          continue;
        }
        splits.push({
          plan: l.plan,
          paths: { length: l.n, get: (i: number) => `${l.plan.name}#${i}` },
          folderClass,
          skipped: [],
          perModel: new Map([[name, { logits, numClasses: k }]]),
          notReached: 0,
        });
      }
    }
  } catch (e) {
    features.close();
    throw e;
  }
  return { models: [{ plan: model, provider: 'precomputed', outputKind: 'logits' }], splits, unreached: [], features };
}
