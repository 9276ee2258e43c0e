import type { ModelPlan } from '../model/inspect';
import type { LabelMap } from '../model/label-map';
import type { SplitPlan } from './plan';

/**
 * The model's class names: its own (metadata, sidecar, labels.txt, config.json), else the ID folder's class folders
 * when their number matches the model's outputs, else class_0…class_{K−1} (labels then cannot be matched by name).
 */
export function resolveClasses(model: ModelPlan, id: SplitPlan, k: number): { classes: string[]; warning?: string } {
  if (model.classes) return { classes: model.classes };
  if (id.classes.length === k) return { classes: id.classes };
  const classes = Array.from({ length: k }, (_, i) => `class_${i}`);
  const warning = id.classes.length && !model.labelMap
    ? `${model.name} outputs ${k} classes but the ID folder has ${id.classes.length} class folders (${id.classes.slice(0, 6).join(', ')}${id.classes.length > 6 ? ', …' : ''}); labels are not used, so accuracy and calibration are not computed. Give --label-map FILE to map them`
    : undefined;
  return { classes, warning };
}

/** Folder names cannot hold every class name ("T-shirt/top" is saved as "T-shirt_top"): compare a folded form. */
function fold(name: string): string {
  return name.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_');
}

export interface LabelTable {
  /** Folder class index → model class index, −1 where the folder is not a model class. */
  table: Int32Array;
  how: 'name' | 'label-map' | 'folder-order';
}

/**
 * How a split's class folders map to the model's classes: through the label map when there is one, else by name
 * (exactly, else by folded name when that is unambiguous). When no folder matches a class name but there are as
 * many folders as classes, by sorted folder order, torchvision ImageFolder's convention (ImageNet's n01440764 is
 * class 0, whatever the model calls it).
 */
export function labelTable(modelClasses: string[], folders: string[], labelMap: LabelMap | null, classIndices = false): LabelTable {
  if (classIndices) return { table: Int32Array.from(folders, (f) => (Number(f) < modelClasses.length ? Number(f) : -1)), how: 'name' };
  const byName = new Map(modelClasses.map((c, i) => [c, i]));
  const byFold = new Map<string, number>();
  for (const [i, c] of modelClasses.entries()) byFold.set(fold(c), byFold.has(fold(c)) ? -1 : i);
  const named = (c: string) => byName.get(c) ?? byFold.get(fold(c)) ?? -1;
  if (labelMap) {
    const viaMap = (f: string) => {
      const v = labelMap[f];
      if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < modelClasses.length ? v : -1;
      return typeof v === 'string' ? named(v) : named(f);
    };
    return { table: Int32Array.from(folders, viaMap), how: 'label-map' };
  }
  const table = Int32Array.from(folders, named);
  if (folders.length > 0 && folders.length === modelClasses.length && table.every((v) => v < 0)) {
    return { table: Int32Array.from(folders, (_, i) => i), how: 'folder-order' };
  }
  return { table, how: 'name' };
}

/** A warning that says how folders were mapped, when it was not by name; undefined otherwise. */
export function labelNote(model: string, split: string, folders: string[], classes: string[], t: LabelTable): string | undefined {
  if (t.how === 'name') return undefined;
  const pairs = folders.slice(0, 3).map((f, i) => `${f} → ${t.table[i] >= 0 ? classes[t.table[i]] : '(none)'}`).join(', ');
  if (t.how === 'folder-order') {
    return `${model}: the class folders of "${split}" are not named like its classes; mapped by sorted folder order, as torchvision's ImageFolder does (${pairs}${folders.length > 3 ? ', …' : ''}). Give --label-map FILE if that is not right`;
  }
  const unmapped = t.table.filter((v) => v < 0).length;
  return `${model}: class folders of "${split}" mapped by the label map (${pairs}${folders.length > 3 ? ', …' : ''})${unmapped ? `; ${unmapped} folder(s) map to no class` : ''}`;
}

/** Per sample: the model class of its folder, or −1. */
export function mapLabels(modelClasses: string[], split: { classes: string[]; classIndices?: boolean }, folderClass: Int32Array, labelMap: LabelMap | null = null): Int32Array {
  const { table } = labelTable(modelClasses, split.classes, labelMap, split.classIndices);
  const out = new Int32Array(folderClass.length);
  for (let i = 0; i < folderClass.length; i++) out[i] = folderClass[i] >= 0 ? table[folderClass[i]] : -1;
  return out;
}
