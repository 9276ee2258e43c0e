import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PreprocessSpec } from '../image/preprocess';
import { UserError } from '../util/errors';
import { ELEM_TYPE_NAMES, readOnnxSummary, type TensorSignature } from './onnx-file';

/** Preprocessing hints, from `<model>.json`, ONNX metadata `ood_lens.preprocess`, or CLI flags (in rising priority). */
export interface PreprocessHints {
  layout?: 'NCHW' | 'NHWC';
  channels?: 1 | 3;
  height?: number;
  width?: number;
  fit?: 'stretch' | 'center-crop';
  mean?: number[] | null;
  std?: number[] | null;
  classes?: string[];
  logits?: string;
  features?: string;
}

export interface ModelPlan {
  name: string;
  path: string;
  inputName: string;
  inputShape: (number | string)[];
  /** Rank of the input tensor (3: [N,H,W], 4: NCHW/NHWC). */
  inputRank: number;
  spec: PreprocessSpec;
  logitsOutput: string;
  featuresOutput?: string;
  /** Class names from the model (metadata, sidecar or labels.txt); null when the model does not say. */
  classes: string[] | null;
  numClasses: number | null;
  metadata: Record<string, string>;
  warnings: string[];
}

export function modelName(file: string): string {
  return path.basename(file).replace(/\.(onnx|npy)$/i, '');
}

async function readJsonIfExists(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`Invalid JSON in ${file}: ${(e as Error).message}`);
  }
}

function parseClassList(v: string): string[] | null {
  const t = v.trim();
  if (!t) return null;
  if (t.startsWith('[')) {
    try {
      const arr = JSON.parse(t);
      if (Array.isArray(arr)) return arr.map(String);
    } catch {
      return null;
    }
  }
  return t.split(/\r?\n|,/).map((s) => s.trim()).filter(Boolean);
}

function hintsFromMetadata(meta: Record<string, string>): PreprocessHints {
  const hints: PreprocessHints = {};
  const raw = meta['ood_lens.preprocess'];
  if (raw) {
    try {
      Object.assign(hints, JSON.parse(raw));
    } catch {
      /* a malformed hint is reported by validateHints below as absent */
    }
  }
  const classes = meta['classes'] ?? meta['ood_lens.classes'] ?? meta['labels'];
  if (classes && !hints.classes) hints.classes = parseClassList(classes) ?? undefined;
  return hints;
}

function dim(v: number | string | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

/** Chooses the logits output: the one named `logits`, else the single 2-D output. */
function chooseLogits(outputs: TensorSignature[], wanted: string | undefined, file: string): TensorSignature {
  if (wanted) {
    const o = outputs.find((x) => x.name === wanted);
    if (!o) throw new UserError(`Model ${path.basename(file)} has no output named "${wanted}" (outputs: ${outputs.map((x) => x.name).join(', ')})`);
    return o;
  }
  const named = outputs.find((o) => o.name === 'logits');
  if (named) return named;
  const twoD = outputs.filter((o) => o.shape.length === 2 && o.name !== 'features');
  if (twoD.length === 1) return twoD[0];
  const shapes = outputs.map((o) => `${o.name} [${o.shape.join(',')}]`).join(', ');
  if (twoD.length === 0) throw new UserError(`Model ${path.basename(file)} has no 2-D [N,K] classifier output (outputs: ${shapes}); name the logits output with --logits-output`);
  throw new UserError(`Model ${path.basename(file)} has several 2-D outputs (${shapes}); name one "logits" or pass --logits-output`);
}

export async function inspectModel(file: string, overrides: PreprocessHints = {}): Promise<ModelPlan> {
  const summary = await readOnnxSummary(file);
  const base = path.basename(file);
  if (summary.inputs.length !== 1) {
    throw new UserError(`Model ${base} has ${summary.inputs.length} inputs (${summary.inputs.map((i) => i.name).join(', ')}); OOD Lens needs one image input`);
  }
  const input = summary.inputs[0];
  if (input.elemType !== 1) {
    throw new UserError(`Model ${base} takes ${ELEM_TYPE_NAMES[input.elemType] ?? `type ${input.elemType}`} input "${input.name}"; OOD Lens feeds float32 images`);
  }
  const sidecar = (await readJsonIfExists(file.replace(/\.onnx$/i, '') + '.json')) as PreprocessHints | undefined;
  const hints: PreprocessHints = { ...hintsFromMetadata(summary.metadata), ...(sidecar ?? {}), ...stripUndefined(overrides) };
  const warnings: string[] = [];

  const shape = input.shape;
  let layout: 'NCHW' | 'NHWC';
  let channels: number | null;
  let height: number | null;
  let width: number | null;
  if (shape.length === 3) {
    layout = 'NCHW';
    channels = 1;
    height = dim(shape[1]);
    width = dim(shape[2]);
  } else if (shape.length === 4) {
    const c1 = dim(shape[1]);
    const c3 = dim(shape[3]);
    if (hints.layout) layout = hints.layout;
    else if (c1 === 1 || c1 === 3) layout = 'NCHW';
    else if (c3 === 1 || c3 === 3) layout = 'NHWC';
    else layout = 'NCHW';
    channels = layout === 'NCHW' ? c1 : c3;
    height = dim(layout === 'NCHW' ? shape[2] : shape[1]);
    width = dim(layout === 'NCHW' ? shape[3] : shape[2]);
  } else {
    throw new UserError(`Model ${base} input "${input.name}" has shape [${shape.join(',')}]; OOD Lens needs an image input [N,C,H,W], [N,H,W,C] or [N,H,W]`);
  }
  channels = hints.channels ?? channels;
  if (channels !== 1 && channels !== 3) {
    throw new UserError(`Model ${base} input "${input.name}" [${shape.join(',')}] has ${channels ?? 'an unknown number of'} channels; OOD Lens feeds 1 (gray) or 3 (RGB)`);
  }
  height = hints.height ?? height;
  width = hints.width ?? width;
  if (height == null || width == null) {
    throw new UserError(`Model ${base} has a dynamic input size [${shape.join(',')}]; give the size with --size HxW or "height"/"width" in ${base.replace(/\.onnx$/i, '')}.json`);
  }

  const logits = chooseLogits(summary.outputs, hints.logits, file);
  if (logits.shape.length !== 2) {
    throw new UserError(`Model ${base} output "${logits.name}" has shape [${logits.shape.join(',')}]; a classifier output must be [N,K]`);
  }
  const numClasses = dim(logits.shape[1]);
  const featuresName = hints.features ?? summary.outputs.find((o) => o.name === 'features')?.name;
  if (hints.features && !summary.outputs.some((o) => o.name === hints.features)) {
    throw new UserError(`Model ${base} has no output named "${hints.features}"`);
  }
  let classes = hints.classes ?? null;
  if (!classes) {
    const labelsTxt = path.join(path.dirname(file), 'labels.txt');
    const text = await fs.readFile(labelsTxt, 'utf8').catch(() => null);
    if (text != null) classes = parseClassList(text);
  }
  if (classes && numClasses != null && classes.length !== numClasses) {
    warnings.push(`Model ${base} lists ${classes.length} class names but outputs ${numClasses} classes; names ignored`);
    classes = null;
  }
  return {
    name: modelName(file),
    path: file,
    inputName: input.name,
    inputShape: shape,
    inputRank: shape.length,
    spec: {
      layout,
      channels,
      height,
      width,
      fit: hints.fit ?? 'stretch',
      mean: hints.mean ?? null,
      std: hints.std ?? null,
    },
    logitsOutput: logits.name,
    featuresOutput: featuresName,
    classes,
    numClasses,
    metadata: summary.metadata,
    warnings,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
