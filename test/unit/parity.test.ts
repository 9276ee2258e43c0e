// Issue 13: models exported the way users export them (torchvision one-liners, a fixed batch of 1, external data,
// float16, uint8 input, an NHWC Softmax model, timm and Hugging Face folders) give the logits the user's own
// PyTorch evaluation gives on the same photos. Goldens: scripts/make-parity.py (torchvision's transforms on PIL
// images, transformers' CLIP processor for hf_style), committed in test/parity/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '../../src/engine/image/decode';
import { makeSampleWriter, plainSpec } from '../../src/engine/image/preprocess';
import { ModelWorker } from '../../src/engine/inference/model-worker';
import { inspectModel, type ModelPlan, type PreprocessHints } from '../../src/engine/model/inspect';
import { sessionModel } from '../../src/engine/onnx/session-model';
import { readLastLayer } from '../../src/engine/onnx/last-layer';
import { inputDims } from '../../src/engine/run/collect';
import { runScore } from '../../src/engine/run';
import { poolFeatures } from '../../src/engine/inference/tensor-io';
import { onnx } from 'onnx-proto';

const ROOT = path.resolve(__dirname, '..', '..', '..', 'test', 'parity');
interface Sample { image: string; logits: number[]; probabilities?: number[]; features?: number[] }
interface Case { model: string; hints: PreprocessHints; output: string; tolerance: number; logits_tolerance?: number; samples: Sample[] }
const golden = JSON.parse(fs.readFileSync(path.join(ROOT, 'golden.json'), 'utf8')) as { cases: Record<string, Case>; images: Record<string, { rgb_sha256: string; width: number; height: number }> };

/** Runs the case's model on every golden image the way a run does (inspect, decode, preprocess, worker). */
async function modelOutputs(c: Case, extraOutputs: (plan: ModelPlan) => string[] = () => []) {
  const plan = await inspectModel(path.join(ROOT, c.model), c.hints);
  const n = c.samples.length;
  const size = plan.spec.channels * plan.spec.height * plan.spec.width;
  const batch = new Float32Array(n * size);
  const write = makeSampleWriter(plan.spec);
  for (const [i, s] of c.samples.entries()) write((await decodeImage(path.join(ROOT, s.image), plan.spec)).data, batch, i);
  const worker = new ModelWorker();
  try {
    const outputs = [plan.logitsOutput, ...extraOutputs(plan)];
    const added = [...new Set([...plan.graph.addedOutputs, ...extraOutputs(plan)])];
    await worker.load({ ...(await sessionModel(plan.path, added)), providers: ['cpu'], outputs, inputType: plan.inputType, fixedBatch: plan.fixedBatch });
    const { outputs: out } = await worker.run(plan.inputName, batch, inputDims(plan, n));
    return { plan, out };
  } finally {
    worker.close();
  }
}

/**
 * Largest logit difference, and whether every prediction is the user's. A golden row whose top two logits are
 * within 2 × `tol` is a tie at that precision (float16 models): its argmax is not compared.
 */
function maxAbsDiff(got: Float32Array, want: number[][], k: number, tol = 0): { diff: number; argmaxSame: boolean } {
  let diff = 0;
  let argmaxSame = true;
  want.forEach((row, i) => {
    const mine = Array.from(got.subarray(i * k, (i + 1) * k));
    row.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - mine[j]))));
    const [top, second] = [...row].sort((a, b) => b - a);
    if (top - second > 2 * tol && mine.indexOf(Math.max(...mine)) !== row.indexOf(top)) argmaxSame = false;
  });
  return { diff, argmaxSame };
}

const report: string[] = [];

for (const [name, c] of Object.entries(golden.cases)) {
  test(`parity: ${name} gives the user's logits (same predictions, within ${c.logits_tolerance ?? c.tolerance})`, { timeout: 60_000 }, async () => {
    const { plan, out } = await modelOutputs(c);
    const logits = out[plan.logitsOutput].data;
    const tol = c.logits_tolerance ?? c.tolerance;
    const { diff, argmaxSame } = maxAbsDiff(logits, c.samples.map((s) => s.logits), 10, tol);
    report.push(`${name}: max |Δlogit| ${diff.toExponential(2)}`);
    assert.ok(argmaxSame, `${name}: a prediction differs`);
    assert.ok(diff <= tol, `${name}: max |Δlogit| ${diff}`);
  });
}

test('parity: the resnet features are the input of its final Gemm, found in the graph, and W·h + b gives its logits', async () => {
  const c = golden.cases.resnet;
  const { plan, out } = await modelOutputs(c, (p) => [p.featuresOutput!]);
  assert.equal(plan.graph.features?.source, 'final-linear');
  assert.equal(plan.graph.finalLinear?.op, 'Gemm');
  const feats = out[plan.featuresOutput!].data;
  const d = feats.length / c.samples.length;
  assert.equal(d, c.samples[0].features!.length);
  const { diff } = maxAbsDiff(feats, c.samples.map((s) => s.features!), d);
  assert.ok(diff <= 1e-4, `features off by ${diff}`);
  const layer = readLastLayer(plan.path, plan.logitsOutput)!;
  assert.equal(layer.d, d);
  for (const [i, s] of c.samples.entries()) {
    for (let k = 0; k < layer.k; k++) {
      let z = layer.b[k];
      for (let j = 0; j < d; j++) z += layer.W[k * d + j] * feats[i * d + j];
      assert.ok(Math.abs(z - s.logits[k]) <= 1e-3, `sample ${i} class ${k}`);
    }
  }
});

test('parity: --features-node on a spatial tensor (the input of the global pool) is averaged over H×W into the same features', async () => {
  const c = golden.cases.resnet;
  const graph = onnx.ModelProto.decode(fs.readFileSync(path.join(ROOT, c.model))).graph!;
  const spatial = graph.node!.find((n) => n.opType === 'GlobalAveragePool')!.input![0];
  const hinted = { ...c, hints: { ...c.hints, features: spatial } };
  const { plan, out } = await modelOutputs(hinted, (p) => [p.featuresOutput!]);
  assert.equal(plan.graph.features?.source, 'features-node');
  const raw = out[spatial];
  assert.equal(raw.dims.length, 4);
  const { diff } = maxAbsDiff(poolFeatures(raw.data, raw.dims), c.samples.map((s) => s.features!), 64);
  assert.ok(diff <= 1e-4, `pooled features off by ${diff}`);
  const report = await runScore({ models: [plan.path], id: path.join(ROOT, 'images'), fit: path.join(ROOT, 'images'), preprocess: hinted.hints, scores: ['mahalanobis'] });
  assert.deepEqual([report.models[0].outputs.features, report.models[0].outputs.featuresPooled], [spatial, true]);
  await assert.rejects(inspectModel(plan.path, { features: 'no-such-tensor' }), /has no tensor named "no-such-tensor"/);
});

test('parity: the external-data model reads its last layer from model.onnx.data', async () => {
  const plan = await inspectModel(path.join(ROOT, golden.cases.external_data.model), {});
  const layer = readLastLayer(plan.path, plan.logitsOutput);
  assert.ok(layer && layer.k === 10 && layer.W.some((v) => v !== 0));
});

test('parity: decoded pixels equal PIL\'s for every golden image (PNG, JPEG, gray, RGBA, palette)', async () => {
  for (const [file, info] of Object.entries(golden.images)) {
    const img = await decodeImage(path.join(ROOT, file), { ...plainSpec('NCHW', 3, info.height, info.width), exif: false });
    assert.equal(createHash('sha256').update(img.data).digest('hex'), info.rgb_sha256, file);
  }
});

test('parity: the batch-1 export gives the same report as the dynamic one, with feature scores from its own penultimate layer', { timeout: 120_000 }, async () => {
  const id = path.join(ROOT, 'images');
  const run = (model: string) => runScore({ models: [path.join(ROOT, model)], id, ood: ['noise:20'], fit: id, preprocess: { preset: 'imagenet' }, scores: ['msp', 'energy', 'mahalanobis', 'knn', 'vim'] });
  const [dyn, fixed] = [await run(golden.cases.resnet.model), await run(golden.cases.resnet_batch1.model)];
  const rows = (r: Awaited<ReturnType<typeof run>>) => r.ood.map((o) => [o.score, o.auroc.toFixed(6)].join(' '));
  assert.deepEqual(rows(fixed), rows(dyn));
  assert.deepEqual(new Set(dyn.ood.map((o) => o.score)), new Set(['msp', 'energy', 'mahalanobis', 'knn', 'vim']));
  assert.equal(fixed.models[0].fixedBatch, 1);
  assert.equal(dyn.models[0].outputs.featuresSource, 'final-linear');
  assert.deepEqual(dyn.models[0].preprocess?.sources.mean, 'flag');
  process.stdout.write(`# ${report.join('; ')}\n`);
});
