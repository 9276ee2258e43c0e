// A model that says nothing about its normalization is scored on a sample of labelled ID images three ways:
// [0, 1] pixels, ImageNet and Inception mean/std. When another choice is clearly more accurate the run warns with
// the three accuracies and the flag that fixes it; it never switches silently.
import { decodeImage } from '../image/decode';
import { makeSampleWriter, type PreprocessSpec } from '../image/preprocess';
import { PRESETS } from '../model/hint-sources';
import type { ModelPlan } from '../model/inspect';
import { mapLabels } from './classes';
import { inputDims, type LoadedModel } from './collect';
import type { SplitPlan } from './plan';

export const CHECK_VARIANTS = ['none', 'imagenet', 'inception'] as const;
export type CheckVariant = (typeof CHECK_VARIANTS)[number];

export interface NormalizationCheck {
  samples: number;
  accuracy: Record<CheckVariant, number>;
  /** The variant to suggest, when it beats the one in use by at least `MIN_GAIN`. */
  suggest?: CheckVariant;
}

const SAMPLES = 256;
const BATCH = 32;
/** About what the check may cost: a model taking 20 ms per image is checked on 32 images, not 256. */
const BUDGET_MS = 3000;
/** Points of accuracy another normalization must gain before the run says so. */
export const MIN_GAIN = 0.1;

/** True when no source named a mean/std for the model (and it takes float pixels). */
export function needsNormalizationCheck(plan: ModelPlan): boolean {
  return plan.inputType !== 'uint8' && plan.spec.channels === 3 && plan.preprocess?.sources.mean === 'default';
}

/** Up to `n` labelled samples, taken round-robin over the classes so that no class is missing. */
function labelledSample(labels: Int32Array, n: number): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => l >= 0 && (byClass.get(l) ?? byClass.set(l, []).get(l)!).push(i));
  const lists = [...byClass.values()];
  const out: number[] = [];
  for (let r = 0; out.length < n && lists.some((l) => r < l.length); r++) for (const l of lists) if (r < l.length && out.length < n) out.push(l[r]);
  return out;
}

function variantSpec(spec: PreprocessSpec, v: CheckVariant): PreprocessSpec {
  return v === 'none' ? { ...spec, mean: null, std: null } : { ...spec, mean: PRESETS[v].mean, std: PRESETS[v].std };
}

/** Decodes the picked files (those that fail are left out, as the run itself skips them). */
async function decodeAll(files: string[], labels: number[], spec: PreprocessSpec, signal?: AbortSignal) {
  const images: Uint8Array[] = [];
  const truth: number[] = [];
  for (const [j, f] of files.entries()) {
    if (signal?.aborted) break;
    const img = await decodeImage(f, spec).catch(() => null);
    if (img) images.push(img.data), truth.push(labels[j]);
  }
  return { images, truth };
}

/** Correct predictions on `images` under one normalization. */
async function correctCount(model: LoadedModel, v: CheckVariant, images: Uint8Array[], truth: number[]): Promise<number> {
  const spec = model.plan.spec;
  const write = makeSampleWriter(variantSpec(spec, v));
  const size = spec.channels * spec.height * spec.width;
  let correct = 0;
  for (let start = 0; start < images.length; start += BATCH) {
    const n = Math.min(BATCH, images.length - start);
    const batch = new Float32Array(n * size);
    for (let j = 0; j < n; j++) write(images[start + j], batch, j);
    const { outputs } = await model.worker.run(model.plan.inputName, batch, inputDims(model.plan, n));
    const logits = outputs[model.plan.logitsOutput].data;
    const k = logits.length / n;
    for (let j = 0; j < n; j++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[j * k + c] > logits[j * k + best]) best = c;
      if (best === truth[start + j]) correct++;
    }
  }
  return correct;
}

/**
 * Accuracy of `model` on up to 256 labelled ID images under each normalization, fewer for a slow model (the check
 * takes about BUDGET_MS); null when the split has no labels the model's classes can use, or on a cancel.
 */
export async function normalizationCheck(model: LoadedModel, id: SplitPlan, classes: string[], signal?: AbortSignal): Promise<NormalizationCheck | null> {
  const labels = mapLabels(classes, id, id.folderClass, model.plan.labelMap);
  const picked = labelledSample(labels, SAMPLES);
  const decode = (from: number, to: number) => decodeAll(picked.slice(from, to).map((i) => id.files.get(i)), picked.slice(from, to).map((i) => labels[i]), model.plan.spec, signal);
  const first = await decode(0, BATCH);
  if (first.images.length === 0) return null;
  const t0 = performance.now();
  await correctCount(model, 'none', first.images, first.truth);
  const perImage = (performance.now() - t0) / first.images.length;
  const n = Math.max(BATCH, Math.min(SAMPLES, Math.floor(BUDGET_MS / (CHECK_VARIANTS.length * perImage))));
  const rest = await decode(BATCH, n);
  const images = [...first.images, ...rest.images];
  const truth = [...first.truth, ...rest.truth];
  const accuracy = {} as Record<CheckVariant, number>;
  for (const v of CHECK_VARIANTS) {
    if (signal?.aborted) return null;
    accuracy[v] = (await correctCount(model, v, images, truth)) / images.length;
  }
  const top = CHECK_VARIANTS.reduce((a, b) => (accuracy[b] > accuracy[a] ? b : a));
  return { samples: images.length, accuracy, ...(accuracy[top] - accuracy.none >= MIN_GAIN ? { suggest: top } : {}) };
}

/** The run's warning for a check that found a better normalization. */
export function normalizationWarning(model: string, c: NormalizationCheck): string | undefined {
  if (!c.suggest) return undefined;
  const pct = (v: CheckVariant) => `${(100 * c.accuracy[v]).toFixed(1)}%`;
  return `${model}: no normalization was given (pixels in [0, 1]); on ${c.samples} labelled ID images accuracy is ${pct('none')} that way, ${pct('imagenet')} with --preset imagenet and ${pct('inception')} with --preset inception. Add --preset ${c.suggest} (or "preset": "${c.suggest}" in ${model}.json)`;
}
