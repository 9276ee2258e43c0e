// Issue 13: a model that names no normalization is tried on labelled ID images with [0, 1], ImageNet and
// Inception normalization; a clearly better one is suggested in a warning, never applied silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { buildLinearModel } from '../helpers/onnx-builder';
import { scratchDirs, writeFile, writePng } from '../helpers/fixtures';

const scratch = scratchDirs();

/** Class "dark" images are level 100, "bright" ones 140 (±3); the model says bright when Σ x > 0. */
async function setup() {
  const dir = await scratch('oodlens-norm-');
  for (const [cls, level] of [['bright', 140], ['dark', 100]] as const) {
    for (let i = 0; i < 12; i++) {
      const px = Uint8Array.from({ length: 4 * 4 * 3 }, (_, j) => level + ((i * 7 + j) % 7) - 3);
      await writePng(path.join(dir, 'id', cls, `${i}.png`), px, 4, 4, 3);
    }
  }
  // Logits [Σx, 0] over the 48 inputs: "bright" (class 0) wins when the normalized pixels sum above zero.
  const W = [...Array(48).fill(1), ...Array(48).fill(0)];
  const model = (name: string, metadata: Record<string, string> = {}) => {
    const file = path.join(dir, `${name}.onnx`);
    writeFile(file, buildLinearModel({ inputShape: ['N', 3, 4, 4], W, b: [0, 0], metadata: { classes: '["bright","dark"]', ...metadata } }));
    return file;
  };
  return { dir, model };
}

test('no normalization given: the three accuracies are measured and the better preset is suggested, not applied', async () => {
  const { dir, model } = await setup();
  const report = await runScore({ models: [model('plain')], id: path.join(dir, 'id') });
  const check = report.models[0].normalizationCheck!;
  assert.deepEqual(check, { samples: 24, accuracy: { none: 0.5, imagenet: 1, inception: 1 }, suggest: 'imagenet' });
  assert.ok(report.warnings.some((w) => /plain: no normalization was given .* accuracy is 50\.0% that way, 100\.0% with --preset imagenet and 100\.0% with --preset inception\. Add --preset imagenet/.test(w)), report.warnings.join('\n'));
  assert.equal(report.calibration.find((r) => r.model === 'plain')!.accuracy, 0.5, 'the run itself keeps [0, 1] pixels');
});

test('a model whose normalization is known (flag or metadata) is not checked', async () => {
  const { dir, model } = await setup();
  const flagged = await runScore({ models: [model('plain')], id: path.join(dir, 'id'), preprocess: { preset: 'imagenet' } });
  assert.equal(flagged.models[0].normalizationCheck, undefined);
  assert.equal(flagged.calibration[0].accuracy, 1);
  const meta = await runScore({ models: [model('meta', { 'ood_lens.preprocess': JSON.stringify({ preset: 'none' }) })], id: path.join(dir, 'id') });
  assert.equal(meta.models[0].normalizationCheck, undefined);
});
