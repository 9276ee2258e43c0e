// Issue 13, "any export": fixed batch sizes other than 1, symbolic batch names of any spelling, bfloat16 outputs
// read through an appended Cast, and inputs that cannot be fed refused in one sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { inspectModel } from '../../src/engine/model/inspect';
import { buildModel, buildLinearModel, type NodeSpec } from '../helpers/onnx-builder';
import { imageFolder, scratchDirs, weights, writeFile } from '../helpers/fixtures';

const scratch = scratchDirs();
const W = weights(3 * 4, 5);
const b = [0.1, 0, -0.1];

async function setup() {
  const dir = await scratch('oodlens-export-');
  await imageFolder(path.join(dir, 'id'), ['a', 'b', 'c'], 3, 2, 2, 1);
  const model = (name: string, bytes: Uint8Array) => {
    writeFile(path.join(dir, `${name}.onnx`), bytes);
    return path.join(dir, `${name}.onnx`);
  };
  return { dir, id: path.join(dir, 'id'), model };
}

const energies = (r: Awaited<ReturnType<typeof runScore>>, m: string) => r.samples.map((s) => s.scores[m].energy as number);

test('a batch fixed at 4 scores 9 images in padded slices; batch names like unk__123 are dynamic; same scores', async () => {
  const { id, model } = await setup();
  const dyn = model('dyn', buildLinearModel({ inputShape: ['unk__123', 1, 2, 2], W, b, features: true }));
  const fixed = model('fixed', buildLinearModel({ inputShape: [4, 1, 2, 2], W, b, features: true }));
  assert.equal((await inspectModel(dyn)).fixedBatch, null);
  const r = await runScore({ models: [dyn, fixed], id, fit: id, ensemble: false, batchSize: 5, scores: ['energy', 'knn'] });
  assert.equal(r.models.find((m) => m.name === 'fixed')!.fixedBatch, 4);
  assert.equal(r.samples.length, 9);
  assert.deepEqual(energies(r, 'fixed'), energies(r, 'dyn'));
  assert.deepEqual(r.samples.map((s) => s.scores.fixed.knn), r.samples.map((s) => s.scores.dyn.knn));
});

test('bfloat16 outputs and inputs are refused in one sentence that says what to export instead', async () => {
  const { model } = await setup();
  const nodes: NodeSpec[] = [
    { op: 'Flatten', inputs: ['input'], outputs: ['flat'], attributes: { axis: 1 } },
    { op: 'Gemm', inputs: ['flat', 'W', 'b'], outputs: ['z'], attributes: { transB: 1 } },
    { op: 'Cast', inputs: ['z'], outputs: ['logits'], attributes: { to: 16 } },
  ];
  const bf16 = model('bf16', buildModel(nodes, [{ name: 'input', shape: ['N', 1, 2, 2] }], [{ name: 'logits', shape: ['N', 3], elemType: 'bfloat16' }],
    [{ name: 'W', dims: [3, 4], data: W }, { name: 'b', dims: [3], data: b }]));
  await assert.rejects(inspectModel(bf16), /^UserError: Model bf16\.onnx has bfloat16 output\(s\) logits, which onnxruntime-node cannot load; export the outputs as float32 or float16$/);
  const bf16In = model('bf16-in', buildModel([{ op: 'Cast', inputs: ['input'], outputs: ['x'], attributes: { to: 1 } }, { op: 'Flatten', inputs: ['x'], outputs: ['logits'], attributes: { axis: 1 } }],
    [{ name: 'input', shape: ['N', 1, 2, 2], elemType: 'bfloat16' }], [{ name: 'logits', shape: ['N', 4] }]));
  await assert.rejects(inspectModel(bf16In), /takes bfloat16 input "input"; OOD Lens feeds float32, float16 or uint8 images \(onnxruntime-node cannot make bfloat16 tensors/);
});
