// BENCHMARKS.md is written by more than one bench: each owns a section between markers, which the others keep.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const start = (name: string) => `<!-- ${name}:start -->`;
const end = (name: string) => `<!-- ${name}:end -->`;

/** The marked section `name` of a file (markers included), or '' when it has none. */
export function sectionOf(file: string, name: string): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(start(name));
  const b = text.indexOf(end(name));
  return a >= 0 && b > a ? text.slice(a, b + end(name).length) : '';
}

/** Writes `body` as the section `name` of the file, in place of the old one or at the end. */
export function writeSection(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const section = `${start(name)}\n${body.trim()}\n${end(name)}`;
  const old = sectionOf(file, name);
  writeFileSync(file, old ? text.replace(old, section) : `${text.trimEnd()}\n\n${section}\n`);
}

/** The sections bench/features.ts writes: at ResNet-50 size, and with an ImageNet-sized fit split. */
export const FEATURES_SECTIONS = ['features-bench', 'features-bench-large'];
