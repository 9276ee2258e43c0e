// Turns the merged hints and the model's input shape into the preprocessing that is applied, and records it for
// the report with the source of each value.
import type { PreprocessSpec } from '../image/preprocess';
import type { PreprocessInfo } from '../report/types';
import { UserError } from '../util/errors';
import type { MergedHints } from './hint-sources';

/** What the report says about preprocessing: the values applied and where each came from. */
export type PreprocessRecord = PreprocessInfo;

export interface InputFacts {
  base: string;
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  /** From the input shape; null when dynamic. */
  height: number | null;
  width: number | null;
  /** uint8 inputs take raw 0..255 pixels. */
  rawPixels: boolean;
}

function cropSize(crop: number | [number, number] | undefined): [number, number] | undefined {
  return crop === undefined ? undefined : typeof crop === 'number' ? [crop, crop] : crop;
}

export function resolveSpec(merged: MergedHints, input: InputFacts): { spec: PreprocessSpec; record: PreprocessRecord; warnings: string[] } {
  const { hints, from } = merged;
  const sources: Record<string, string> = {};
  const warnings: string[] = [];
  const crop = cropSize(hints.crop);
  let height = input.height, width = input.width;
  sources.size = 'model';
  if (height === null || width === null) {
    // A dynamic input takes its size from --size (height/width), else from the crop.
    const given = hints.height && hints.width ? { size: [hints.height, hints.width], from: from.height } : crop ? { size: crop, from: from.crop } : null;
    [height, width] = given ? given.size : [null, null];
    sources.size = given?.from ?? 'default';
  }
  if (!height || !width) {
    throw new UserError(`Model ${input.base} has a dynamic input size; give the size with --size HxW (or --crop), or "height"/"width" in ${input.base.replace(/\.onnx$/i, '')}.json`);
  }
  if (crop && (crop[0] !== height || crop[1] !== width)) {
    throw new UserError(`The crop ${crop[0]}×${crop[1]} (from ${from.crop}) differs from model ${input.base}'s input size ${height}×${width}`);
  }
  let resize: PreprocessSpec['resize'] = null;
  if (hints.resize !== undefined) resize = { shorter: hints.resize };
  else if (hints.cropPct !== undefined) {
    if (!(hints.cropPct > 0 && hints.cropPct <= 1)) throw new UserError(`crop_pct must be in (0, 1], got ${hints.cropPct}`);
    // timm: a square target resizes the shorter side; another one resizes both sides.
    resize = height === width ? { shorter: Math.floor(height / hints.cropPct) } : { height: Math.floor(height / hints.cropPct), width: Math.floor(width / hints.cropPct) };
  } else if (hints.fit === 'center-crop') resize = { shorter: Math.max(height, width) };
  sources.resize = from.resize ?? from.cropPct ?? from.fit ?? 'default';
  let { mean = null, std = null } = hints;
  let rescale = hints.rescale ?? 1 / 255;
  if (input.rawPixels) {
    if (mean || std || hints.rescale !== undefined) warnings.push(`${input.base} takes uint8 pixels: its normalization is inside the graph, so mean/std/rescale hints are ignored`);
    [mean, std, rescale] = [null, null, 1];
  }
  if (std?.some((s) => s === 0)) throw new UserError(`std values must be non-zero (from ${from.std})`);
  // A uint8 input's scaling and normalization are the graph's own.
  const byModel = new Set<string>(input.rawPixels ? ['rescale', 'mean', 'std'] : []);
  for (const k of ['interpolation', 'cropRounding', 'rescale', 'mean', 'std', 'exif'] as const) sources[k] = byModel.has(k) ? 'model' : from[k] ?? 'default';
  const spec: PreprocessSpec = {
    layout: input.layout,
    channels: input.channels,
    height,
    width,
    resize,
    interpolation: hints.interpolation ?? 'bilinear',
    cropRounding: hints.cropRounding ?? 'round',
    rescale,
    mean,
    std,
    exif: hints.exif ?? true,
    ...(hints.jpegDraft ? { jpegDraft: true } : {}),
  };
  const { interpolation, cropRounding, exif } = spec;
  const draft = spec.jpegDraft ? { jpegDraft: true as const } : {};
  return { spec, record: { resize, crop: [height, width], interpolation, cropRounding, rescale, mean, std, exif, ...draft, sources }, warnings };
}
