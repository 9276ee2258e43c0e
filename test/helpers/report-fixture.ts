// A fresh copy of the hand-made report fixture (tests mutate it).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Report } from '../../src/engine/report/types';

/** The repository root: bundled tests run from dist/test/<dir>/, the fixtures stay in the source tree. */
export function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'fixtures', 'report.json'))) return dir;
  }
  return process.cwd();
}

export function loadFixture(): Report {
  return JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'report.json'), 'utf8')) as Report;
}
