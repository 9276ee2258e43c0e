// Benchmarks are not tests: this only checks that `npm run bench -- --quick` runs to the end (nothing is timed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

test('npm run bench -- --quick runs and writes its report', { timeout: 600_000 }, () => {
  const root = repoRoot();
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'bench', 'run.js'), '--quick'], { cwd: root, encoding: 'utf8', timeout: 590_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const section of ['## End to end', '## Where the time goes', '## Memory', '## Metrics on 10,000,000 scores']) assert.match(r.stdout, new RegExp(section));
  assert.match(readFileSync(path.join(root, '.dev', 'BENCHMARKS.quick.md'), 'utf8'), /OOD Lens end to end/);
});
