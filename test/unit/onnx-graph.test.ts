import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { CALIBRATION_SET_KEY, exportCalibratedModel, TEMPERATURE_KEY } from '../../src/engine/onnx/calibrated-export';
import { readLastLayer } from '../../src/engine/onnx/last-layer';
import { buildLinearModel, buildModel } from '../helpers/onnx-builder';

// A 2-class model over a [1,2,2] input with hand-picked weights.
const W = Float32Array.from([1, 0, 0, 0, 0, 1, 2, -1]);
const b = Float32Array.from([0.5, -0.25]);
const x = Float32Array.from([1, 2, 3, 4, -1, 0, 0.5, 2]);
const expected = [1.5, 3.75, -0.5, -1.25]; // row0: [1+0.5, 2+6-4-0.25], row1: [-1+0.5, 0+1-2-0.25]

test('builder: Gemm linear model runs in onnxruntime with a dynamic batch and features output', async () => {
  const s = await ort.InferenceSession.create(buildLinearModel({ inputShape: ['N', 1, 2, 2], W, b, features: true }));
  const r = await s.run({ input: new ort.Tensor('float32', x, [2, 1, 2, 2]) });
  assert.deepEqual(Array.from(r.logits.data as Float32Array), expected);
  assert.deepEqual(Array.from(r.features.data as Float32Array), Array.from(x));
});

test('builder: NHWC layout, MatMul+Add with raw weights, and softmax give the same function', async () => {
  // The [1,2,2] NCHW input equals a [2,2,1] NHWC input with the same bytes (one channel).
  const nhwc = await ort.InferenceSession.create(
    buildLinearModel({ inputShape: ['N', 2, 2, 1], layout: 'NHWC', W, b, linearOp: 'matmul', rawWeights: true }),
  );
  const r = await nhwc.run({ input: new ort.Tensor('float32', x, [2, 2, 2, 1]) });
  assert.deepEqual(Array.from(r.logits.data as Float32Array), expected);

  const sm = await ort.InferenceSession.create(buildLinearModel({ inputShape: ['N', 1, 2, 2], W, b, softmax: true, outputName: 'probs' }));
  const p = (await sm.run({ input: new ort.Tensor('float32', x, [2, 1, 2, 2]) })).probs.data as Float32Array;
  const e = 1 / (1 + Math.exp(3.75 - 1.5));
  assert.ok(Math.abs(p[0] - e) < 1e-6 && Math.abs(p[0] + p[1] - 1) < 1e-6);
});

test('calibrated export: logits become exactly float32(z / T), other outputs and the logits name are kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ood-lens-export-'));
  // logits also feed a Softmax branch (`probs`), which must keep seeing the uncalibrated logits.
  const bytes = buildModel(
    [
      { op: 'Flatten', inputs: ['input'], outputs: ['features'], attributes: { axis: 1 } },
      { op: 'Gemm', inputs: ['features', 'W', 'b'], outputs: ['logits'], attributes: { transB: 1 } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: 1 } },
    ],
    [{ name: 'input', shape: ['N', 1, 2, 2] }],
    [{ name: 'logits', shape: ['N', 2] }, { name: 'features', shape: ['N', 4] }, { name: 'probs', shape: ['N', 2] }],
    [{ name: 'W', dims: [2, 4], data: W }, { name: 'b', dims: [2], data: b }],
    { author: 'test' },
  );
  const src = path.join(dir, 'model.onnx');
  const dst = path.join(dir, 'model.calibrated.onnx');
  fs.writeFileSync(src, bytes);
  const T = 1.7;
  await exportCalibratedModel(src, dst, { temperature: T, logitsOutput: 'logits', calibrationSet: '/data/calib' });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.calibrated.onnx', 'model.onnx'], 'no temp file left behind');

  const feed = { input: new ort.Tensor('float32', x, [2, 1, 2, 2]) };
  const before = await (await ort.InferenceSession.create(src)).run(feed);
  const s = await ort.InferenceSession.create(dst);
  assert.deepEqual(s.outputNames.slice().sort(), ['features', 'logits', 'probs']);
  const after = await s.run(feed);
  const z = before.logits.data as Float32Array;
  assert.deepEqual(Array.from(after.logits.data as Float32Array), Array.from(z, (v) => Math.fround(v / Math.fround(T))));
  assert.deepEqual(after.features.data, before.features.data);
  assert.deepEqual(after.probs.data, before.probs.data);

  const meta = Object.fromEntries(onnx.ModelProto.decode(fs.readFileSync(dst)).metadataProps.map((p) => [p.key, p.value]));
  assert.deepEqual(meta, { author: 'test', [TEMPERATURE_KEY]: '1.7', [CALIBRATION_SET_KEY]: '/data/calib' });

  // Re-exporting replaces the metadata rather than duplicating it, and an unknown output is an error.
  await exportCalibratedModel(dst, dst, { temperature: 2, logitsOutput: 'logits', calibrationSet: 'b' });
  const again = onnx.ModelProto.decode(fs.readFileSync(dst)).metadataProps.filter((p) => p.key === TEMPERATURE_KEY);
  assert.deepEqual(again.map((p) => p.value), ['2']);
  await assert.rejects(exportCalibratedModel(src, dst, { temperature: 2, logitsOutput: 'nope', calibrationSet: '' }), /not an output/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('readLastLayer: Gemm (transB=1), MatMul+Add with raw_data, Gemm transB=0 with alpha/beta, and non-linear heads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ood-lens-lastlayer-'));
  const write = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const gemm = readLastLayer(write('gemm.onnx', buildLinearModel({ inputShape: ['N', 1, 2, 2], W, b })), 'logits');
  assert.deepEqual(gemm && { W: Array.from(gemm.W), b: Array.from(gemm.b), k: gemm.k, d: gemm.d }, { W: Array.from(W), b: Array.from(b), k: 2, d: 4 });

  const mm = readLastLayer(write('mm.onnx', buildLinearModel({ inputShape: ['N', 1, 2, 2], W, b, linearOp: 'matmul', rawWeights: true })), 'logits');
  assert.deepEqual(mm && Array.from(mm.W), Array.from(W));
  assert.deepEqual(mm && Array.from(mm.b), Array.from(b));

  // Gemm with B stored [d, k] (transB = 0), alpha = 2, beta = 0.5, behind an Identity.
  const Bt = [1, 0, 0, 1, 0, 2, 0, -1]; // [4, 2] = Wᵀ
  const scaled = readLastLayer(
    write('gemm-t.onnx', buildModel(
      [
        { op: 'Flatten', inputs: ['input'], outputs: ['f'], attributes: { axis: 1 } },
        { op: 'Gemm', inputs: ['f', 'B', 'C'], outputs: ['z'], attributes: { alpha: { float: 2 }, beta: { float: 0.5 } } },
        { op: 'Identity', inputs: ['z'], outputs: ['out'] },
      ],
      [{ name: 'input', shape: ['N', 1, 2, 2] }],
      [{ name: 'out', shape: ['N', 2] }],
      [{ name: 'B', dims: [4, 2], data: Bt }, { name: 'C', dims: [2], data: [0.5, -0.25] }],
    )),
    'out',
  );
  assert.deepEqual(scaled && Array.from(scaled.W), Array.from(W, (v) => 2 * v));
  assert.deepEqual(scaled && Array.from(scaled.b), [0.25, -0.125]);

  assert.equal(readLastLayer(write('softmax.onnx', buildLinearModel({ inputShape: ['N', 4], W, b, softmax: true })), 'logits'), null);
  assert.equal(readLastLayer(path.join(dir, 'gemm.onnx'), 'missing'), null);
  fs.rmSync(dir, { recursive: true, force: true });
});
