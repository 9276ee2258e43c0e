// Benchmarks are not tests: this only checks that `npm run bench -- --quick` runs to the end (nothing is timed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { compareF16, f16round } from '../../bench/imagenet-f16';
import { npy, tempDir, writeFile } from '../helpers/fixtures';

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

test('bench/imagenet_data.py makes 300–600 px JPEG photos in 1,000-class folders and an OOD folder', { timeout: 60_000 }, async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import sklearn, PIL, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('needs Debian python3-sklearn, python3-pil, python3-numpy');
  const { dir, cleanup } = tempDir();
  try {
    const r = spawnSync('/usr/bin/python3', [path.join(repoRoot(), 'bench', 'imagenet_data.py'), '--out', dir, '--count', '20', '--workers', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jpg')).sort();
    assert.equal(files.length, 20);
    assert.deepEqual(files.slice(0, 2), [path.join('id', 'c0000', '000000.jpg'), path.join('id', 'c0001', '000001.jpg')]);
    assert.equal(files.filter((f) => f.startsWith(path.join('ood', 'mixed'))).length, 2);
    for (const f of files) {
      const m = await sharp(path.join(dir, f)).metadata();
      assert.equal(m.format, 'jpeg');
      assert.ok(Math.max(m.width!, m.height!) >= 300 && Math.max(m.width!, m.height!) <= 600, `${f}: ${m.width}×${m.height}`);
    }
  } finally {
    cleanup();
  }
});

test('the float16 comparison of the ImageNet bench rounds as IEEE float16 and sees only rounding', async () => {
  for (const [x, h] of [[1 / 3, 0.333251953125], [2049, 2048], [2051, 2052], [65519, 65504], [65520, Infinity], [-1e-7, -1.1920928955078125e-7], [1e-9, 0]]) assert.equal(f16round(x), h, `f16round(${x})`);
  const { dir, cleanup } = tempDir();
  try {
    const k = 10;
    // Eighths below 8 are float16 values: rounding changes nothing, so no metric may change.
    const exact = (n: number, shift: number) => Array.from({ length: n * k }, (_, i) => ((i * 7919 + shift) % 41) / 8 - 2);
    const fine = (n: number, shift: number) => exact(n, shift).map((v, i) => v + ((i * 104729) % 997) * 1e-4);
    for (const [name, logits] of [['exact', exact], ['fine', fine]] as const) {
      writeFile(path.join(dir, name, 'id', 'logits.npy'), npy([200, k], logits(200, 0)));
      writeFile(path.join(dir, name, 'id', 'labels.npy'), npy([200], Array.from({ length: 200 }, (_, i) => i % k), '<i8'));
      writeFile(path.join(dir, name, 'ood', 'logits.npy'), npy([100, k], logits(100, 13)));
    }
    const same = await compareF16({ id: path.join(dir, 'exact', 'id'), ood: path.join(dir, 'exact', 'ood') });
    assert.ok(same.maxDiff['ood.auroc'] === 0 && same.maxDiff['calibration.ece'] === 0);
    assert.equal(Math.max(...Object.values(same.maxDiff)), 0);
    assert.equal(same.logits.flips, 0);
    const near = await compareF16({ id: path.join(dir, 'fine', 'id'), ood: path.join(dir, 'fine', 'ood') });
    assert.ok(Math.max(...Object.values(near.maxDiff)) > 0, 'rounding off the float16 grid shows');
    assert.ok(near.maxDiff['ood.auroc'] < 0.01 && near.maxDiff['calibration.ece'] < 0.01, JSON.stringify(near.maxDiff));
  } finally {
    cleanup();
  }
});
