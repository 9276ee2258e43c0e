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

/** Every marked section of a file, in order (each owned by the bench that wrote it). */
export function allSections(file: string): string[] {
  if (!existsSync(file)) return [];
  const names = [...readFileSync(file, 'utf8').matchAll(/<!-- ([a-z0-9-]+):start -->/g)].map((m) => m[1]);
  return names.map((name) => sectionOf(file, name)).filter(Boolean);
}
