import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ModelWorker } from '../../src/engine/inference/model-worker';
import type { LoadRequest } from '../../src/engine/inference/messages';
import { inspectModel } from '../../src/engine/model/inspect';
import { inputDims } from '../../src/engine/run/collect';
import { buildLinearModel } from '../helpers/onnx-builder';
import { tempDir, weights, writeFile } from '../helpers/fixtures';

const demoModel = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo', 'models', 'ce_seed0.onnx');

/** Loads `model` with the given thread choice, runs one fixed batch, and closes the worker. */
async function loadAndRun(model: string, threads: Pick<LoadRequest, 'intraOpThreads' | 'probe'>, batch = 8) {
  const plan = await inspectModel(model);
  const dims = inputDims(plan, batch);
  const input = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
  const worker = new ModelWorker();
  try {
    const loaded = await worker.load({ model, providers: ['cpu'], outputs: [plan.logitsOutput], inputType: plan.inputType, fixedBatch: plan.fixedBatch, ...threads });
    const { outputs } = await worker.run(plan.inputName, input, dims);
    return { loaded, logits: outputs[plan.logitsOutput].data, plan };
  } finally {
    worker.close();
  }
}

test('a model the probe finds cheap gets the threads left by decoding, and gives the same logits', async () => {
  const plan = await inspectModel(demoModel);
  const probe = (cheapMicros: number) => ({ inputName: plan.inputName, dims: inputDims(plan, 64), cheapMicros, cheapThreads: 1 });
  const cheap = await loadAndRun(demoModel, { probe: probe(Infinity) });
  const costly = await loadAndRun(demoModel, { probe: probe(0) });
  assert.equal(cheap.loaded.threads, 1);
  assert.equal(costly.loaded.threads, undefined, 'a model over the limit keeps the threads it was given');
  assert.equal(cheap.logits.length, 8 * 5);
  for (let i = 0; i < cheap.logits.length; i++) assert.ok(Math.abs(cheap.logits[i] - costly.logits[i]) <= 1e-5, `logit ${i}`);

  // Threads given without a probe (several models sharing the cores) are kept; with one, a cheap model gets fewer.
  const shared = await loadAndRun(demoModel, { intraOpThreads: 2 });
  assert.equal(shared.loaded.threads, 2);
  const lone = await loadAndRun(demoModel, { intraOpThreads: 2, probe: probe(Infinity) });
  assert.equal(lone.loaded.threads, 1);
});

test('a model with a fixed batch is not probed, and loads with its default threads', async () => {
  const t = tempDir();
  try {
    // The batch dimension is fixed at 1: a probe's batch of 64 would fail inside onnxruntime.
    const file = path.join(t.dir, 'fixed.onnx');
    writeFile(file, buildLinearModel({ inputShape: [1, 1, 4, 4], W: weights(3 * 16), b: [0, 0, 0] }));
    const plan = await inspectModel(file);
    const { loaded, logits } = await loadAndRun(file, { probe: { inputName: plan.inputName, dims: inputDims(plan, 64), cheapMicros: Infinity, cheapThreads: 1 } }, 1);
    assert.equal(loaded.threads, undefined);
    assert.equal(logits.length, 3);
  } finally {
    t.cleanup();
  }
});
