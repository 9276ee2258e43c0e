import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from './plan';

/**
 * The model's class names: its own (metadata, sidecar, labels.txt), else the ID folder's class folders when their
 * number matches the model's outputs, else class_0…class_{K−1} (labels then cannot be matched by name).
 */
export function resolveClasses(model: ModelPlan, id: SplitPlan, k: number): { classes: string[]; warning?: string } {
  if (model.classes) return { classes: model.classes };
  if (id.classes.length === k) return { classes: id.classes };
  const classes = Array.from({ length: k }, (_, i) => `class_${i}`);
  const warning = id.classes.length
    ? `${model.name} outputs ${k} classes but the ID folder has ${id.classes.length} class folders (${id.classes.slice(0, 6).join(', ')}${id.classes.length > 6 ? ', …' : ''}); labels are not used, so accuracy and calibration are not computed`
    : undefined;
  return { classes, warning };
}

/** Folder names cannot hold every class name ("T-shirt/top" is saved as "T-shirt_top"): compare a folded form. */
function fold(name: string): string {
  return name.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_');
}

/**
 * Maps a split's folder class indices to the model's class indices by name (exactly, else by folded name when
 * that is unambiguous); −1 where the folder is not a model class.
 */
export function mapLabels(modelClasses: string[], split: { classes: string[] }, folderClass: Int32Array): Int32Array {
  const byName = new Map(modelClasses.map((c, i) => [c, i]));
  const byFold = new Map<string, number>();
  for (const [i, c] of modelClasses.entries()) byFold.set(fold(c), byFold.has(fold(c)) ? -1 : i);
  const table = split.classes.map((c) => byName.get(c) ?? byFold.get(fold(c)) ?? -1);
  const out = new Int32Array(folderClass.length);
  for (let i = 0; i < folderClass.length; i++) out[i] = folderClass[i] >= 0 ? table[folderClass[i]] : -1;
  return out;
}
