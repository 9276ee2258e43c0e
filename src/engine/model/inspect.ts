import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PreprocessSpec } from '../image/preprocess';
import { UserError } from '../util/errors';
import { ecosystemLayers, readJsonIfExists } from './ecosystem';
import { planGraph, type GraphPlan } from './graph-plan';
import { mergeHints, stripUndefined, type HintLayer, type PreprocessHints } from './hint-sources';
import { ELEM_TYPE_NAMES, readOnnxSummary, type TensorSignature } from './onnx-file';
import { resolveSpec, type PreprocessRecord } from './resolve-spec';
import { loadLabelMap, type LabelMap } from './label-map';

export type { PreprocessHints } from './hint-sources';

/** Input element types fed from JavaScript (float32 as is, float16 converted, uint8 as raw pixels). */
const INPUT_TYPES: Record<number, 'float32' | 'float16' | 'uint8'> = { 1: 'float32', 10: 'float16', 2: 'uint8' };

export interface ModelPlan {
  name: string;
  path: string;
  inputName: string;
  inputShape: (number | string)[];
  /** Rank of the input tensor (3: [N,H,W], 4: NCHW/NHWC). */
  inputRank: number;
  spec: PreprocessSpec;
  /** The preprocessing applied and where each value came from. */
  preprocess: PreprocessRecord | null;
  inputType: 'float32' | 'float16' | 'uint8';
  /** A batch dimension fixed in the graph: batches are that size, the last one padded. */
  fixedBatch: number | null;
  /** The tensor read as logits (the pre-softmax tensor when the output is a Softmax). */
  logitsOutput: string;
  featuresOutput?: string;
  graph: Pick<GraphPlan, 'features' | 'finalLinear' | 'preSoftmaxOf' | 'addedOutputs'>;
  /** Class folder → model class, from --label-map (or the sidecar / oodlens.json). */
  labelMap: LabelMap | null;
  /** Class names from the model (metadata, sidecar or labels.txt); null when the model does not say. */
  classes: string[] | null;
  numClasses: number | null;
  metadata: Record<string, string>;
  warnings: string[];
}

export function modelName(file: string): string {
  return path.basename(file).replace(/\.(onnx|npy)$/i, '');
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

/** Hint layers, highest precedence first: flags, sidecar, ONNX metadata, Hugging Face / timm files. */
async function hintLayers(file: string, metadata: Record<string, string>, overrides: PreprocessHints, defaults: PreprocessHints): Promise<HintLayer[]> {
  const sidecar = (await readJsonIfExists(file.replace(/\.onnx$/i, '') + '.json')) as PreprocessHints | undefined;
  if (typeof sidecar?.labelMap === 'string') sidecar.labelMap = path.resolve(path.dirname(file), sidecar.labelMap);
  return [
    { source: 'flag', hints: stripUndefined(overrides) },
    ...(sidecar ? [{ source: 'sidecar' as const, hints: sidecar }] : []),
    { source: 'metadata', hints: hintsFromMetadata(metadata) },
    ...(await ecosystemLayers(file)),
    { source: 'setting', hints: stripUndefined(defaults) },
  ];
}

/** Layout, channels and size from the input shape ([N,C,H,W], [N,H,W,C] or [N,H,W]); hints settle what it leaves open. */
function inputLayout(input: TensorSignature, base: string, hints: PreprocessHints) {
  const shape = input.shape;
  if (shape.length === 3) return { layout: 'NCHW' as const, channels: 1, height: dim(shape[1]), width: dim(shape[2]) };
  if (shape.length !== 4) {
    throw new UserError(`Model ${base} input "${input.name}" has shape [${shape.join(',')}]; OOD Lens needs an image input [N,C,H,W], [N,H,W,C] or [N,H,W]`);
  }
  const c1 = dim(shape[1]);
  const c3 = dim(shape[3]);
  const layout = hints.layout ?? (c1 === 1 || c1 === 3 ? 'NCHW' : c3 === 1 || c3 === 3 ? 'NHWC' : 'NCHW');
  const nchw = layout === 'NCHW';
  return { layout, channels: nchw ? c1 : c3, height: dim(nchw ? shape[2] : shape[1]), width: dim(nchw ? shape[3] : shape[2]) };
}

/** `overrides`: CLI flags or oodlens.json; `defaults`: VS Code's oodLens.preprocess setting, below every file. */
export async function inspectModel(file: string, overrides: PreprocessHints = {}, defaults: PreprocessHints = {}): Promise<ModelPlan> {
  const summary = await readOnnxSummary(file);
  const base = path.basename(file);
  if (summary.inputs.length !== 1) {
    throw new UserError(`Model ${base} has ${summary.inputs.length} inputs (${summary.inputs.map((i) => i.name).join(', ')}); OOD Lens needs one image input`);
  }
  const input = summary.inputs[0];
  const inputType = INPUT_TYPES[input.elemType];
  if (!inputType) {
    const hint = input.elemType === 16 ? ' (onnxruntime-node cannot make bfloat16 tensors; export the input as float32 or float16)' : '';
    throw new UserError(`Model ${base} takes ${ELEM_TYPE_NAMES[input.elemType] ?? `type ${input.elemType}`} input "${input.name}"; OOD Lens feeds float32, float16 or uint8 images${hint}`);
  }
  const merged = mergeHints(await hintLayers(file, summary.metadata, overrides, defaults));
  const hints = merged.hints;
  const warnings: string[] = [];
  const shape = input.shape;
  const facts = inputLayout(input, base, hints);
  // A symbolic channel count (Hugging Face exports make every dimension symbolic) means RGB unless told.
  const channels = hints.channels ?? facts.channels ?? (typeof (facts.layout === 'NCHW' ? shape[1] : shape[3]) === 'string' ? 3 : null);
  if (channels !== 1 && channels !== 3) {
    throw new UserError(`Model ${base} input "${input.name}" [${shape.join(',')}] has ${channels ?? 'an unknown number of'} channels; OOD Lens feeds 1 (gray) or 3 (RGB)`);
  }
  const resolved = resolveSpec(merged, { base, layout: facts.layout, channels, height: facts.height, width: facts.width, rawPixels: inputType === 'uint8' });
  warnings.push(...resolved.warnings);

  const logits = chooseLogits(summary.outputs, hints.logits, file);
  if (logits.shape.length !== 2) {
    throw new UserError(`Model ${base} output "${logits.name}" has shape [${logits.shape.join(',')}]; a classifier output must be [N,K]`);
  }
  // onnxruntime-node refuses to create a session whose outputs include bfloat16 (its JavaScript API has no such
  // tensor type), so such a model cannot be run even through a Cast appended to the graph.
  const bf16 = summary.outputs.filter((o) => o.elemType === 16).map((o) => o.name);
  if (bf16.length) throw new UserError(`Model ${base} has bfloat16 output(s) ${bf16.join(', ')}, which onnxruntime-node cannot load; export the outputs as float32 or float16`);
  const numClasses = dim(logits.shape[1]);
  const graph = planGraph(summary.graph, base, logits.name, hints.features, path.dirname(file));
  warnings.push(...graph.warnings);
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
  const batch = dim(shape[0]);
  return {
    name: modelName(file),
    path: file,
    inputName: input.name,
    inputShape: shape,
    inputRank: shape.length,
    spec: resolved.spec,
    preprocess: resolved.record,
    inputType,
    fixedBatch: batch !== null && batch > 0 ? batch : null,
    logitsOutput: graph.logits,
    featuresOutput: graph.features?.tensor,
    graph: { features: graph.features, finalLinear: graph.finalLinear, preSoftmaxOf: graph.preSoftmaxOf, addedOutputs: graph.addedOutputs },
    labelMap: hints.labelMap ? await loadLabelMap(hints.labelMap) : null,
    classes,
    numClasses,
    metadata: summary.metadata,
    warnings,
  };
}
