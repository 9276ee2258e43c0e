import { plainSpec } from '../image/preprocess';
import { methodChoice } from '../ood/choice';
import type { RunOptions } from '../options';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { readNpyFloat32 } from '../dataset/npy';
import { readPrecomputed } from './precomputed-source';
import { UserError } from '../util/errors';
import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from './plan';
import type { SplitOutputs } from './collect';
import type { RunData } from '../analysis/build-report';
import { FeatureScoring } from '../analysis/feature-scoring';
import type { LastLayer } from '../onnx/last-layer';

async function optionalNpy(file: string) {
  return fs.stat(file).then(() => readNpyFloat32(file), () => null);
}

/**
 * The final linear layer of a precomputed run: W.npy [K, D] and b.npy [K] in the first split folder that has them
 * (ViM, ReAct, DICE… need them; with a model they are read from its graph).
 */
async function lastLayerOf(dirs: string[], k: number, d: number): Promise<LastLayer | null> {
  for (const dir of dirs) {
    const W = await optionalNpy(path.join(dir, 'W.npy'));
    if (!W) continue;
    const b = await optionalNpy(path.join(dir, 'b.npy'));
    const where = path.join(dir, 'W.npy');
    if (W.shape.length !== 2 || W.shape[0] !== k || W.shape[1] !== d) throw new UserError(`${where} has shape (${W.shape.join(', ')}); expected [${k}, ${d}] (classes × features)`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== k)) throw new UserError(`${path.join(dir, 'b.npy')} has shape (${b.shape.join(', ')}); expected [${k}]`);
    return { W: W.data, b: b ? b.data : new Float32Array(k), k, d };
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
    const split = await readPrecomputed(plan.precomputed!);
    if (k >= 0 && split.k !== k) throw new UserError(`${plan.precomputed}: ${split.k} classes, other splits have ${k}`);
    k = split.k;
    loaded.push({ plan, ...split });
  }
  const classes = Array.from({ length: k }, (_, i) => `class_${i}`);
  const model: ModelPlan = {
    name, path: plans[0].precomputed!, inputName: '', inputShape: [], inputRank: 0,
    spec: plainSpec('NCHW', 1, 0, 0), preprocess: null, labelMap: null, inputType: 'float32', fixedBatch: null,
    logitsOutput: 'logits.npy', featuresOutput: loaded.some((l) => l.features) ? 'features.npy' : undefined,
    graph: { features: loaded.some((l) => l.features) ? { tensor: 'features.npy', source: 'output' } : undefined, finalLinear: null, addedOutputs: [] },
    classes, numClasses: k, metadata: {}, warnings: [],
  };
  const d = loaded.find((l) => l.features)?.d ?? 0;
  const layer = d > 0 ? await lastLayerOf([...new Set(loaded.map((l) => l.layerDir))], k, d) : null;
  const features = new FeatureScoring(plans.some((p) => p.role === 'fit'), plans.some((p) => p.role === 'calib'), methodChoice(opts));
  features.layerOf = () => layer;
  const fakeLoaded = { plan: model, provider: 'precomputed' };
  const splits: SplitOutputs[] = [];
  try {
    for (const role of ['fit', 'id', 'ood', 'calib'] as const) {
      for (const l of loaded.filter((x) => x.plan.role === role)) {
        const folderClass = new Int32Array(l.n).fill(-1);
        if (l.labels) for (let i = 0; i < l.n; i++) folderClass[i] = l.labels[i] >= 0 && l.labels[i] < k ? l.labels[i] : -1;
        l.plan.classes = classes;
        const logits = l.logits;
        await features.onBatch(fakeLoaded, l.plan, l.features, logits, l.n, l.d, folderClass, 0);
        if (role === 'fit') {
          await features.finishFit([fakeLoaded]);
          continue;
        }
        splits.push({
          plan: l.plan,
          paths: { length: l.n, get: (i: number) => l.paths?.[i] ?? `${l.plan.name}#${i}` },
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
