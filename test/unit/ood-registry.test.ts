// Issue 14: every registry method runs in a real run beside the logit scores, with its parameters and the
// --shaping modifier, on a model exported the way users do (the parity ResNet: features found in its graph).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { parseConfig } from '../../src/engine/config';
import { METHOD_NAMES } from '../../src/engine/ood/registry';
import { parseParams } from '../../src/engine/ood/choice';

const PARITY = path.resolve(__dirname, '..', '..', '..', 'test', 'parity');
const model = path.join(PARITY, 'models', 'resnet', 'model.onnx');
const images = path.join(PARITY, 'images');
const base = { models: [model], id: images, ood: ['noise:12'], fit: images, preprocess: { preset: 'imagenet' as const } };
const scoreOf = (r: Awaited<ReturnType<typeof runScore>>, name: string) => r.samples.map((s) => s.scores.model[name] as number);

test('without --scores every method the model allows is computed, each with an OOD row', async () => {
  const r = await runScore(base);
  const names = new Set(r.ood.map((o) => o.score));
  for (const m of METHOD_NAMES) assert.ok(names.has(m), `${m} has a row`);
  assert.deepEqual((r.settings.scoreParameters as Record<string, unknown>).knn, { k: 50 });
});

test('--shaping react: energy+react is ReAct, sample by sample; a parameter applies to both', async () => {
  const r = await runScore({ ...base, scores: ['energy', 'msp', 'react'], shaping: 'react', params: { react: { percentile: 80 } } });
  // The modifier hands float32 logits to the logit scores, as a model's own logits are: equal to float32 rounding.
  scoreOf(r, 'energy+react').forEach((v, i) => assert.ok(Math.abs(v - scoreOf(r, 'react')[i]) <= 1e-6 * Math.abs(v), `sample ${i}`));
  assert.ok(scoreOf(r, 'msp+react').every(Number.isFinite));
  const r90 = await runScore({ ...base, scores: ['react'] });
  assert.notDeepEqual(scoreOf(r90, 'react'), scoreOf(r, 'react'), 'percentile 80 differs from the default 90');
});

test('parameters are checked against the registry, on the command line and in oodlens.json', async () => {
  assert.deepEqual(parseParams(['knn.k=10', 'react.percentile=95']), { knn: { k: 10 }, react: { percentile: 95 } });
  assert.throws(() => parseParams(['knn.kk=3']), /knn has no parameter "kk" \(it has: k\)/);
  assert.throws(() => parseParams(['nope.k=3']), /Unknown method "nope"/);
  assert.throws(() => parseParams(['knn.k=many']), /--param knn\.k expects a number/);
  const parsed = parseConfig(JSON.stringify({ models: ['m.onnx'], id: 'x', params: { vim: { depth: 2 } } }), '/tmp/oodlens.json');
  assert.match(parsed.issues.map((i) => `${i.path} ${i.message}`).join('\n'), /\/params vim has no parameter "depth" \(it has: dim\)/);
  await assert.rejects(runScore({ ...base, params: { knn: { q: 1 } } }), /knn has no parameter "q"/);
});
