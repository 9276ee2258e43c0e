import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { runScore } from '../../src/engine/run';
import { reportJson } from '../../src/engine/report/write';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, tempDir, weights, writeFile } from '../helpers/fixtures';

function repoRoot(): string {
  let dir = __dirname;
  while (!require('node:fs').existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function validator(schemaFile: string) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(repoRoot(), 'schemas', schemaFile), 'utf8')));
}

test('a real report (with a cancelled-free run, NaN written as null) conforms to schemas/report.schema.json', async () => {
  const t = tempDir();
  try {
    const model = path.join(t.dir, 'm.onnx');
    writeFile(model, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(3 * 16, 2), b: [0, 0, 0], features: true, metadata: { classes: '["a","b","c"]' } }));
    await imageFolder(path.join(t.dir, 'id'), ['a', 'b', 'c'], 4, 4, 4);
    await imageFolder(path.join(t.dir, 'calib'), ['a', 'b', 'c'], 3, 4, 4, 1, 50);
    await imageFolder(path.join(t.dir, 'fit'), ['a', 'b', 'c'], 3, 4, 4, 1, 70);
    const report = await runScore({ models: [model], id: path.join(t.dir, 'id'), ood: ['noise:5'], calib: path.join(t.dir, 'calib'), fit: path.join(t.dir, 'fit') });
    const validate = validator('report.schema.json');
    const ok = validate(JSON.parse(reportJson(report)));
    assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 3)));
    assert.ok(report.calibration[0].temperature! > 0);
    assert.ok(report.ood.some((r) => r.score === 'mahalanobis'));
  } finally {
    t.cleanup();
  }
});

test('the bundled demo config conforms to schemas/oodlens.schema.json', () => {
  const validate = validator('oodlens.schema.json');
  const config = JSON.parse(readFileSync(path.join(repoRoot(), 'examples', 'demo', 'oodlens.json'), 'utf8'));
  assert.ok(validate(config), JSON.stringify(validate.errors));
  assert.equal(validate({ id: 'x' }), false, 'models is required');
});
