import * as path from 'node:path';
import type { SplitRole } from '../report/types';
import { listDataset } from '../dataset/image-files';
import { listManifest, parseManifestSource } from '../dataset/manifest';
import { PathList } from '../dataset/path-list';
import { parseNoiseSpec } from '../dataset/noise';
import { parseAttackSpec, type AttackPlan } from '../attack/spec';
import { UserError } from '../util/errors';
import { isPrecomputedSource, parquetSource } from './precomputed-source';
import type { RunOptions } from '../options';

/** A report's split roles, plus outlier images that are only collected (fine-tuning), never reported. */
export type PlanRole = SplitRole | 'outliers';

/** Where a split's samples come from, before anything is decoded. */
export interface SplitPlan {
  name: string;
  role: PlanRole;
  source: string;
  /** Image files (empty for noise and precomputed splits). */
  files: PathList;
  /** Folder class index (into `classes`) per file, -1 when unlabelled. */
  folderClass: Int32Array;
  classes: string[];
  /** Set when `classes` are the model's class indices (a manifest with integer labels), not names. */
  classIndices?: boolean;
  skipped: { path: string; reason: string }[];
  /** `offset`: the first sample's index in the whole noise split (a shard's slice). */
  noise?: { count: number; seed: number; offset?: number };
  /** Samples in the split when `files` is not held (a merge of shard files). */
  size?: number;
  /** An attack split: its images are searched with the model before scoring (see attack/generate.ts). */
  attack?: AttackPlan;
  /** Folder holding logits.npy (+ labels.npy, features.npy), or a Parquet table with a logits column. */
  precomputed?: string;
}


function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

async function planFolder(source: string, role: PlanRole, taken: Set<string>, signal?: AbortSignal): Promise<SplitPlan> {
  if (await isPrecomputedSource(source)) {
    const pq = parquetSource(source);
    const name = uniqueName(pq ? pq.split ?? path.basename(pq.file).replace(/\.[^.]+$/, '') : path.basename(path.resolve(source)), taken);
    return { name, role, source, files: new PathList(), folderClass: new Int32Array(0), classes: [], skipped: [], precomputed: source };
  }
  const manifest = parseManifestSource(source);
  if (manifest) {
    const name = uniqueName(manifest.split ?? path.basename(manifest.file).replace(/\.[^.]+$/, ''), taken);
    const l = await listManifest(manifest.file, manifest.split);
    return { name, role, source, files: l.files, folderClass: l.classOf, classes: l.classes, classIndices: l.classIndices, skipped: l.skipped };
  }
  const name = uniqueName(path.basename(path.resolve(source)), taken);
  const listing = await listDataset(source, signal);
  return { name, role, source, files: listing.files, folderClass: listing.classOf, classes: listing.classes, skipped: listing.skipped };
}

/** Plans every split: fit first (detectors must be fitted before scoring), then ID, OOD, calibration. */
export async function planSplits(opts: RunOptions, signal?: AbortSignal): Promise<SplitPlan[]> {
  const taken = new Set<string>();
  const plans: SplitPlan[] = [];
  if (opts.fit) plans.push(await planFolder(opts.fit, 'fit', taken, signal));
  if (opts.outliers) {
    const noise = parseNoiseSpec(opts.outliers);
    plans.push(noise
      ? { name: uniqueName('outliers', taken), role: 'outliers', source: opts.outliers, files: new PathList(), folderClass: new Int32Array(0), classes: [], skipped: [], noise }
      : await planFolder(opts.outliers, 'outliers', taken, signal));
  }
  const id = await planFolder(opts.id, 'id', taken, signal);
  plans.push(id);
  if (opts.holdout?.length) {
    if (id.precomputed) throw new UserError('--holdout needs an image folder for --id, not precomputed logits');
    const missing = opts.holdout.filter((c) => !id.classes.includes(c));
    if (missing.length) throw new UserError(`--holdout: no class folder ${missing.map((m) => `"${m}"`).join(', ')} in ${opts.id} (classes: ${id.classes.join(', ')})`);
    const held = new Set(opts.holdout.map((c) => id.classes.indexOf(c)));
    const keepIdx: number[] = [];
    const holdIdx: number[] = [];
    id.folderClass.forEach((c, i) => (held.has(c) ? holdIdx : keepIdx).push(i));
    // ID keeps its remaining classes, renumbered in sorted order: they are the model's classes.
    const idClasses = id.classes.filter((_, c) => !held.has(c));
    const remap = id.classes.map((c) => idClasses.indexOf(c));
    const holdClasses = [...held].sort((a, b) => a - b).map((c) => id.classes[c]);
    plans.push({
      name: uniqueName('holdout', taken),
      role: 'ood',
      source: `holdout:${id.name}/${opts.holdout.join(',')}`,
      files: id.files.subset(holdIdx),
      folderClass: Int32Array.from(holdIdx.map((i) => holdClasses.indexOf(id.classes[id.folderClass[i]]))),
      classes: holdClasses,
      skipped: [],
    });
    id.files = id.files.subset(keepIdx);
    id.folderClass = Int32Array.from(keepIdx.map((i) => remap[id.folderClass[i]]));
    id.classes = idClasses;
  }
  for (const src of opts.ood ?? []) {
    const noise = parseNoiseSpec(src);
    const attack = parseAttackSpec(src);
    if (attack) {
      plans.push({ name: uniqueName('attack', taken), role: 'ood', source: src, files: new PathList(), folderClass: new Int32Array(0), classes: [], skipped: [], attack: { ...attack, seed: opts.seed ?? 0 } });
    } else if (noise) {
      if (noise.count < 1) throw new UserError(`${src}: the noise split needs at least one image`);
      plans.push({ name: uniqueName('noise', taken), role: 'ood', source: src, files: new PathList(), folderClass: new Int32Array(0), classes: [], skipped: [], noise });
    } else {
      plans.push(await planFolder(src, 'ood', taken, signal));
    }
  }
  if (opts.calib) plans.push(await planFolder(opts.calib, 'calib', taken, signal));
  return plans;
}

export function planSize(p: SplitPlan): number {
  return p.noise ? p.noise.count : p.attack ? p.attack.count : p.size ?? p.files.length;
}
