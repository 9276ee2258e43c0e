// Issue 13, VS Code: a model that names no normalization gets one quick pick (presets with their accuracy on
// the ID folder, or custom), and the answer is remembered in its sidecar for every later run.
import '../helpers/vscode-mock';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { askNormalization, presetItems } from '../../src/vscode/normalizationPick';
import { ui } from '../helpers/vscode-mock';
import { buildLinearModel } from '../helpers/onnx-builder';
import { scratchDirs, writeFile, writePng } from '../helpers/fixtures';

const scratch = scratchDirs();

async function setup() {
  const dir = await scratch('oodlens-pick-');
  for (const [cls, level] of [['bright', 140], ['dark', 100]] as const) {
    for (let i = 0; i < 6; i++) await writePng(path.join(dir, 'id', cls, `${i}.png`), Uint8Array.from({ length: 48 }, (_, j) => level + ((i + j) % 5) - 2), 4, 4, 3);
  }
  const model = path.join(dir, 'm.onnx');
  writeFile(model, buildLinearModel({ inputShape: ['N', 3, 4, 4], W: [...Array(48).fill(1), ...Array(48).fill(0)], b: [0, 0], metadata: { classes: '["bright","dark"]' } }));
  return { dir, model, id: path.join(dir, 'id') };
}

test('the rows: measured presets by accuracy with the sample size, then CLIP, then custom', () => {
  const rows = presetItems({ samples: 40, accuracy: { none: 0.5, imagenet: 0.9, inception: 0.95 } });
  assert.deepEqual(rows.map((r) => [r.label, r.description]), [
    ['Inception: mean 0.5, std 0.5', '95.0% on 40 ID images'], ['ImageNet mean/std', '90.0% on 40 ID images'],
    ['None: pixels in [0, 1]', '50.0% on 40 ID images'], ['CLIP mean/std, bicubic', undefined], ['Custom…', undefined],
  ]);
});

test('a pick is saved in the sidecar and the run goes on; the next time nothing is asked', async () => {
  const { dir, model, id } = await setup();
  ui.reset();
  ui.answerPick = (items) => items[0];
  assert.equal(await askNormalization(model, id), true);
  assert.match(ui.picks[0][0].description!, /100\.0% on 12 ID images/);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'm.json'), 'utf8')), { preset: 'imagenet' });
  ui.reset();
  assert.equal(await askNormalization(model, id), true);
  assert.equal(ui.picks.length, 0);
});

test('closing the pick stops the run; custom writes the sidecar and opens it', async () => {
  const { dir, model, id } = await setup();
  ui.reset();
  assert.equal(await askNormalization(model, id), false);
  ui.answerPick = (items) => items.at(-1);
  assert.equal(await askNormalization(model, id), false);
  assert.deepEqual(ui.opened, [path.join(dir, 'm.json')]);
});
