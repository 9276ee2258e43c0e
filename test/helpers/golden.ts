// Loads test/golden/*.json (written by scripts/make-golden.py) from the repo root, wherever the bundle runs.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Parses a golden file, turning "NaN"/"Infinity"/"-Infinity" strings back into numbers. */
export function loadGolden<T = any>(name: string): T {
  const text = fs.readFileSync(path.join(repoRoot(), 'test', 'golden', name + '.json'), 'utf8');
  return JSON.parse(text, (_k, v) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v));
}

/** |a − e| ≤ tol·max(1, |e|), NaN matching NaN and equal infinities matching. */
export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  if (Number.isNaN(expected) && Number.isNaN(actual)) return;
  if (actual === expected) return;
  const err = Math.abs(actual - expected);
  if (!(err <= tol * Math.max(1, Math.abs(expected)))) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (|diff| ${err}, tol ${tol})`);
  }
}

export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], tol, `${what}[${i}]`);
}
