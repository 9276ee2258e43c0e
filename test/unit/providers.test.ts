// Issue 13: `auto` picks the accelerators the installed onnxruntime-node build can load, CPU last; on an
// accelerator the first batch is checked against CPU. Here only the CPU exists, so the choice is tested as a
// function, the fallback for real, and the check by asking for it on CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { resolveProviders } from '../../src/engine/inference/providers';
import { ModelWorker } from '../../src/engine/inference/model-worker';
import { inspectModel } from '../../src/engine/model/inspect';
import { inputDims } from '../../src/engine/run/collect';
import { runScore } from '../../src/engine/run';

const DEMO = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo');
const model = path.join(DEMO, 'models', 'ce_seed0.onnx');

test('auto: DirectML on Windows, CoreML on macOS, CUDA on Linux only when installed; CPU always last, no duplicates', () => {
  assert.deepEqual(resolveProviders(['auto'], { platform: 'win32', hasCuda: false }), ['dml', 'cpu']);
  assert.deepEqual(resolveProviders(['auto'], { platform: 'darwin', hasCuda: false }), ['coreml', 'cpu']);
  assert.deepEqual(resolveProviders(['auto'], { platform: 'linux', hasCuda: true }), ['cuda', 'cpu']);
  assert.deepEqual(resolveProviders(['auto'], { platform: 'linux', hasCuda: false }), ['cpu']);
  assert.deepEqual(resolveProviders(['cpu', 'webgpu', 'auto', 'cuda'], { platform: 'linux', hasCuda: true }), ['webgpu', 'cuda', 'cpu']);
  assert.deepEqual(resolveProviders(['tensorrt', 'cuda']), ['tensorrt', 'cuda', 'cpu']);
});

test('a provider that cannot load falls back to CPU and says why; auto on this machine runs on CPU without a warning', async () => {
  const id = path.join(DEMO, 'data', 'id_test');
  const [cuda, auto] = [await runScore({ models: [model], id, executionProviders: ['cuda'] }), await runScore({ models: [model], id })];
  assert.equal(cuda.models[0].executionProvider, 'cpu');
  assert.match(cuda.models[0].warnings.join('\n'), /execution provider cuda: .+; fell back to cpu/);
  assert.equal(auto.models[0].executionProvider, 'cpu');
  assert.deepEqual(auto.models[0].warnings, []);
  assert.equal(auto.models[0].cpuCheck, undefined, 'no check when CPU itself ran');
});

test('the accelerator check runs the first batch again on CPU and reports the largest logit difference', async () => {
  const plan = await inspectModel(model);
  const worker = new ModelWorker();
  try {
    await worker.load({ model, providers: ['cpu'], outputs: [plan.logitsOutput], inputType: plan.inputType, fixedBatch: plan.fixedBatch, crossCheck: true });
    const dims = inputDims(plan, 4);
    const input = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 17) / 17);
    const first = await worker.run(plan.inputName, input.slice(), dims);
    const second = await worker.run(plan.inputName, input.slice(), dims);
    assert.equal(first.cpuDiff, 0, 'CPU against CPU');
    assert.equal(second.cpuDiff, undefined, 'once per load');
  } finally {
    worker.close();
  }
});
