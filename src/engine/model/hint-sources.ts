// Where preprocessing hints come from, and which one wins: CLI flags > sidecar <model>.json > ONNX metadata >
// Hugging Face / timm files beside the model > VS Code's oodLens.preprocess setting > defaults. The report records
// the source of every value.
import type { Interpolation } from '../image/pil';

export type Preset = 'imagenet' | 'inception' | 'clip' | 'none';

/** Preprocessing hints, from `<model>.json`, ONNX metadata `ood_lens.preprocess`, ecosystem files or CLI flags. */
export interface PreprocessHints {
  layout?: 'NCHW' | 'NHWC';
  channels?: 1 | 3;
  /** Input size for models with a dynamic one. */
  height?: number;
  width?: number;
  /** Legacy: 'center-crop' = resize the shorter side to the input size, then crop. */
  fit?: 'stretch' | 'center-crop';
  /** Shorter side before the crop (torchvision's Resize(N)). */
  resize?: number;
  /** Centre crop, H or [H, W]: the model's input size. */
  crop?: number | [number, number];
  /** timm's crop_pct: resize to floor(size / cropPct), then crop. */
  cropPct?: number;
  interpolation?: Interpolation;
  preset?: Preset;
  mean?: number[] | null;
  std?: number[] | null;
  /** Factor applied to 0..255 pixels before normalization (default 1/255). */
  rescale?: number;
  cropRounding?: 'round' | 'floor';
  exif?: boolean;
  /** JPEGs: shrink-on-load and libvips resampling instead of PIL's pixels (PreprocessSpec.jpegDraft). */
  jpegDraft?: boolean;
  classes?: string[];
  logits?: string;
  /** Any tensor of the graph (an output or a node's output) to use as features. */
  features?: string;
  /** Folder name → class index or name (JSON object or two-column CSV). */
  labelMap?: string;
}

export type HintSource = 'flag' | 'sidecar' | 'metadata' | 'huggingface' | 'timm' | 'setting';
export interface HintLayer {
  source: HintSource;
  hints: PreprocessHints;
}

export const PRESETS: Record<Exclude<Preset, 'none'>, { mean: number[]; std: number[]; interpolation?: Interpolation }> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  inception: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  clip: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], interpolation: 'bicubic' },
};

/** A preset stands for its mean/std (and CLIP's bicubic) unless the same source also names them. */
function expandPreset(h: PreprocessHints): PreprocessHints {
  if (!h.preset) return h;
  const out = { ...h };
  if (h.preset === 'none') {
    if (h.mean === undefined && h.std === undefined) Object.assign(out, { mean: null, std: null });
    return out;
  }
  const p = PRESETS[h.preset];
  if (h.mean === undefined && h.std === undefined) Object.assign(out, { mean: p.mean, std: p.std });
  if (p.interpolation && h.interpolation === undefined) out.interpolation = p.interpolation;
  return out;
}

/** Keys that are only meaningful together: the highest source that sets one of them sets them all. */
const GROUPS: (keyof PreprocessHints)[][] = [['mean', 'std', 'preset'], ['resize', 'cropPct', 'fit'], ['height', 'width']];

export interface MergedHints {
  hints: PreprocessHints;
  /** Which source gave each key that is set. */
  from: Partial<Record<keyof PreprocessHints, HintSource>>;
}

/** Merges layers given highest precedence first. */
export function mergeHints(layers: HintLayer[]): MergedHints {
  const expanded = layers.map((l) => ({ source: l.source, hints: expandPreset(l.hints) }));
  const keys = new Set(expanded.flatMap((l) => Object.keys(l.hints) as (keyof PreprocessHints)[]));
  const hints: Record<string, unknown> = {};
  const from: MergedHints['from'] = {};
  const done = new Set<string>();
  for (const key of keys) {
    if (done.has(key)) continue;
    const group = GROUPS.find((g) => g.includes(key)) ?? [key];
    group.forEach((k) => done.add(k));
    const layer = expanded.find((l) => group.some((k) => l.hints[k] !== undefined));
    if (!layer) continue;
    for (const k of group) {
      if (layer.hints[k] === undefined) continue;
      hints[k] = layer.hints[k];
      from[k] = layer.source;
    }
  }
  return { hints: hints as PreprocessHints, from };
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
