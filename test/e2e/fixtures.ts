// Fixture workspaces built at test time: a small, deterministic subset of the demo data and model, laid
// out as a user would (data/<split>/<class>/*.png beside models/), so the prompts' defaults apply.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoDir } from './paths';

export const demoModel = join(demoDir, 'models', 'ce_seed0.onnx');
export const demoSplits = ['id_test', 'id_calib', 'ood_heldout', 'ood_digits'] as const;

export function demoAvailable(): boolean {
  return existsSync(demoModel) && demoSplits.every((s) => existsSync(join(demoDir, 'data', s)));
}

/** Copies the first `perClass` images (by name) of every class of a demo split. */
function copySplit(split: string, dest: string, perClass: number): void {
  const src = join(demoDir, 'data', split);
  for (const cls of readdirSync(src).sort()) {
    const files = readdirSync(join(src, cls)).filter((f) => f.endsWith('.png')).sort().slice(0, perClass);
    mkdirSync(join(dest, cls), { recursive: true });
    for (const f of files) copyFileSync(join(src, cls, f), join(dest, cls, f));
  }
}

export interface DemoWorkspace {
  root: string;
  model: string;
  split(name: string): string;
}

/** data/{id_test,id_calib,ood_heldout,ood_digits}/<class>/ and models/ce_seed0.onnx under root. */
export function demoWorkspace(root: string, perClass = 20): DemoWorkspace {
  if (!demoAvailable()) throw new Error(`demo data not found under ${demoDir} (model and ${demoSplits.join(', ')})`);
  for (const split of demoSplits) copySplit(split, join(root, 'data', split), perClass);
  mkdirSync(join(root, 'models'), { recursive: true });
  const model = join(root, 'models', 'ce_seed0.onnx');
  copyFileSync(demoModel, model);
  return { root, model, split: (name) => join(root, 'data', name) };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
