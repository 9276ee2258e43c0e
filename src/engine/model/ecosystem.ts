// Reads the preprocessing and class names that Hugging Face (preprocessor_config.json, config.json) and timm
// (config.json with pretrained_cfg) keep beside an exported model, so an optimum or timm export needs no flags.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Interpolation } from '../image/pil';
import { UserError } from '../util/errors';
import type { HintLayer, PreprocessHints } from './hint-sources';

/** PIL's resampling enum, as Hugging Face stores `resample`. */
const PIL_RESAMPLE: Record<number, Interpolation> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };
const TIMM_INTERPOLATION: Record<string, Interpolation> = { bilinear: 'bilinear', bicubic: 'bicubic', nearest: 'nearest', lanczos: 'lanczos', box: 'box', hamming: 'hamming' };

type Json = Record<string, unknown>;

export async function readJsonIfExists(file: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch (e) {
    throw new UserError(`Invalid JSON in ${file}: ${(e as Error).message}`);
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const nums = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);
const side = (v: unknown, key: 'height' | 'width'): number | undefined => num(v) ?? num((v as Json | undefined)?.[key]);

/**
 * A Hugging Face image processor's config, as its `preprocess` applies it to PIL images: resize (`shortest_edge`,
 * or `height`/`width` to stretch; ConvNeXT's crop_pct below 384), centre crop with floor offsets, rescale,
 * normalize; EXIF orientation applied as `load_image` does.
 */
export function huggingFaceHints(cfg: Json): PreprocessHints {
  const h: PreprocessHints = { cropRounding: 'floor', exif: true };
  const size = cfg.size as Json | number | undefined;
  const crop = cfg.crop_size as Json | number | undefined;
  const doCrop = cfg.do_center_crop === true;
  const shortest = typeof size === 'number' && doCrop ? size : num((size as Json | undefined)?.shortest_edge);
  const cropPct = num(cfg.crop_pct);
  if (cfg.do_resize !== false && shortest !== undefined && cropPct !== undefined && !doCrop) {
    // ConvNeXT: below 384 the shorter side goes to shortest/crop_pct and the centre shortest² is kept.
    if (shortest < 384) Object.assign(h, { resize: Math.trunc(shortest / cropPct), crop: shortest });
    else Object.assign(h, { height: shortest, width: shortest });
  } else if (cfg.do_resize !== false && shortest !== undefined) {
    h.resize = shortest;
  } else if (cfg.do_resize !== false && size !== undefined) {
    const hh = side(size, 'height'), ww = side(size, 'width');
    if (hh && ww) Object.assign(h, { height: hh, width: ww });
  }
  if (doCrop && crop !== undefined) {
    const ch = side(crop, 'height'), cw = side(crop, 'width');
    if (ch && cw) h.crop = [ch, cw];
  }
  const resample = num(cfg.resample);
  if (resample !== undefined && PIL_RESAMPLE[resample]) h.interpolation = PIL_RESAMPLE[resample];
  h.rescale = cfg.do_rescale === false ? 1 : num(cfg.rescale_factor) ?? 1 / 255;
  if (cfg.do_normalize === false) Object.assign(h, { mean: null, std: null });
  else if (nums(cfg.image_mean) && nums(cfg.image_std)) Object.assign(h, { mean: nums(cfg.image_mean), std: nums(cfg.image_std) });
  return h;
}

/** timm's pretrained_cfg (eval transform of crop_mode 'center') and label_names. */
export function timmHints(cfg: Json): PreprocessHints {
  const pc = (cfg.pretrained_cfg ?? {}) as Json;
  const h: PreprocessHints = {};
  const size = nums(pc.input_size);
  if (size?.length === 3) Object.assign(h, { channels: size[0] === 1 ? 1 : 3, height: size[1], width: size[2], crop: [size[1], size[2]] });
  const interp = typeof pc.interpolation === 'string' ? TIMM_INTERPOLATION[pc.interpolation] : undefined;
  if (interp) h.interpolation = interp;
  if (nums(pc.mean) && nums(pc.std)) Object.assign(h, { mean: nums(pc.mean), std: nums(pc.std) });
  const cropPct = num(pc.crop_pct);
  if (cropPct !== undefined && (pc.crop_mode === undefined || pc.crop_mode === 'center')) h.cropPct = cropPct;
  const labels = cfg.label_names;
  if (Array.isArray(labels) && labels.length) h.classes = labels.map(String);
  return h;
}

/** Class names from a Hugging Face config's id2label, ordered by index. */
function id2label(cfg: Json): string[] | undefined {
  const map = cfg.id2label as Json | undefined;
  if (!map || typeof map !== 'object') return undefined;
  const entries = Object.entries(map).map(([k, v]) => [Number(k), String(v)] as const).filter(([k]) => Number.isInteger(k));
  if (!entries.length) return undefined;
  entries.sort((a, b) => a[0] - b[0]);
  return entries.every(([k], i) => k === i) ? entries.map(([, v]) => v) : undefined;
}

/** The ecosystem files in the model's folder, as hint layers (Hugging Face first, then timm). */
export async function ecosystemLayers(modelFile: string): Promise<HintLayer[]> {
  const dir = path.dirname(modelFile);
  const pre = await readJsonIfExists(path.join(dir, 'preprocessor_config.json'));
  const config = await readJsonIfExists(path.join(dir, 'config.json'));
  const layers: HintLayer[] = [];
  const isTimm = !!config && (config.pretrained_cfg !== undefined || config.label_names !== undefined);
  if (pre) layers.push({ source: 'huggingface', hints: huggingFaceHints(pre) });
  const classes = config && !isTimm ? id2label(config) : undefined;
  if (classes) {
    if (layers.length) layers[0].hints.classes = classes;
    else layers.push({ source: 'huggingface', hints: { classes } });
  }
  if (config && isTimm) layers.push({ source: 'timm', hints: timmHints(config) });
  return layers;
}
