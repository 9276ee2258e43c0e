import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { CalibratorParameters } from '../../src/engine/report/types';
import { calibratedLogits, isTopLabel, topLabelConfidence } from '../../src/engine/calibration/apply';
import { linearParameters } from '../../src/engine/calibration/comparison';
import { fitDirichletOdir } from '../../src/engine/calibration/dirichlet';
import { fitEnsembleTemperature } from '../../src/engine/calibration/ensemble-temperature';
import { fitHistogramBinning } from '../../src/engine/calibration/histogram-binning';
import { fitIsotonic } from '../../src/engine/calibration/isotonic';
import { fitMatrixScaling, fitVectorScaling } from '../../src/engine/calibration/scaling';
import { fitTemperature } from '../../src/engine/calibration/temperature';
import { calibrateConformal, mulberry32, predictionSets } from '../../src/engine/metrics/conformal';
import { topLabel } from '../../src/engine/metrics/smece';
import { softmaxInto } from '../../src/engine/util/rows';
import { CALIBRATOR_KEY, CONFORMAL_KEYS, exportCalibratedModel } from '../../src/engine/onnx/calibrated-export';
import { buildLinearModel } from '../helpers/onnx-builder';
import { scratchDirs } from '../helpers/fixtures';

const scratch = scratchDirs();
const K = 4, D = 8;
// An over-confident 4-class linear model on [1, 2, 4] inputs; labels are its argmax under noise.
const rand = mulberry32(11);
const W = Float32Array.from({ length: K * D }, () => (rand() - 0.5) * 6);
const model = buildLinearModel({ inputShape: ['N', 1, 2, 4], W, b: [0.3, -0.2, 0.1, 0], features: true });
const inputs = (n: number) => Float32Array.from({ length: n * D }, () => rand() * 2 - 1);
const calibX = inputs(160), idX = inputs(60);

async function run(file: string | Uint8Array, x: Float32Array) {
  const s = await ort.InferenceSession.create(file as string);
  return s.run({ input: new ort.Tensor('float32', x, [x.length / D, 1, 2, 4]) });
}

function noisyLabels(z: Float32Array): Int32Array {
  return Int32Array.from({ length: z.length / K }, (_, i) => {
    let best = 0, arg = 0;
    for (let c = 0; c < K; c++) {
      const v = z[i * K + c] + 3 * (rand() - 0.5);
      if (c === 0 || v > best) [best, arg] = [v, c];
    }
    return arg;
  });
}

/** Every exportable calibrator fitted on the calibration inputs, as report parameters. */
async function fitted() {
  const zc = (await run(model, calibX)).logits.data as Float32Array;
  const yc = noisyLabels(zc);
  const n = yc.length;
  const T = fitTemperature(zc, yc, n, K).temperature;
  const dir = fitDirichletOdir(zc, yc, n, K);
  const { conf, correct } = topLabel(zc, yc, n, K);
  const params: CalibratorParameters[] = [
    { kind: 'temperature', temperature: T },
    linearParameters(fitVectorScaling(zc, yc, n, K))!,
    linearParameters(fitMatrixScaling(zc, yc, n, K))!,
    { kind: 'dirichlet', W: Array.from({ length: K }, (_, r) => Array.from(dir.W.subarray(r * K, (r + 1) * K))), b: Array.from(dir.b) },
    { kind: 'ensemble_temperature', temperature: T, weights: fitEnsembleTemperature(zc, yc, n, K, T).weights, classes: K },
    { kind: 'histogram', ...fitHistogramBinning(conf, correct) },
    { kind: 'isotonic', ...fitIsotonic(conf, correct) },
  ];
  return { zc, yc, params };
}
const fits = fitted();

const softmaxRows = (z: ArrayLike<number>) => {
  const p = new Float64Array(z.length);
  for (let i = 0; i < z.length / K; i++) softmaxInto(z, i * K, K, p, i * K);
  return p;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const meta = (file: string) => Object.fromEntries(onnx.ModelProto.decode(fs.readFileSync(file)).metadataProps.map((p) => [p.key, p.value]));

test('every exportable calibrator: the ONNX graph gives the engine\'s probabilities (1e-6) and keeps the other outputs', async () => {
  const { params } = await fits;
  const dir = await scratch('ood-lens-calexport-');
  const src = path.join(dir, 'model.onnx');
  fs.writeFileSync(src, model);
  const before = await run(src, idX);
  const z = before.logits.data as Float32Array;
  const worst: string[] = [];
  for (const p of params) {
    const dst = path.join(dir, `${p.kind}.onnx`);
    await exportCalibratedModel(src, dst, { calibrator: p, logitsOutput: 'logits', calibrationSet: 'calib' });
    const out = await run(dst, idX);
    assert.deepEqual(out.features.data, before.features.data, `${p.kind}: features untouched`);
    const engine = calibratedLogits(p, z, z.length / K, K);
    if (isTopLabel(p)) {
      assert.deepEqual(out.logits.data, z, `${p.kind}: logits untouched`);
      const g = topLabelConfidence(p, z, z.length / K, K);
      assert.deepEqual(out.calibrated_confidence.dims, [z.length / K]);
      const d = maxDiff(out.calibrated_confidence.data as Float32Array, g);
      assert.ok(d <= 1e-6, `${p.kind}: confidence off by ${d}`);
      worst.push(`${p.kind} ${d.toExponential(1)}`);
    } else {
      const d = maxDiff(softmaxRows(out.logits.data as Float32Array), softmaxRows(engine));
      assert.ok(d <= 1e-6, `${p.kind}: probabilities off by ${d}`);
      worst.push(`${p.kind} ${d.toExponential(1)}`);
    }
    if (p.kind !== 'temperature') assert.equal(meta(dst)[CALIBRATOR_KEY], { vector: 'vector_scaling', matrix: 'matrix_scaling', dirichlet: 'dirichlet_odir', ensemble_temperature: 'ensemble_temperature', histogram: 'histogram_binning', isotonic: 'isotonic' }[p.kind]);
  }
  console.log(`graph vs engine, max |Δp| (|Δg| for top-label): ${worst.join(', ')}`);
});

test('prediction_set: the graph\'s LAC sets equal the engine\'s row by row, a score exactly at q̂ included', async () => {
  const { zc, yc, params } = await fits;
  const dir = await scratch('ood-lens-predset-');
  const src = path.join(dir, 'model.onnx');
  fs.writeFileSync(src, model);
  const alpha = 0.2;
  for (const p of params.filter((q) => ['temperature', 'dirichlet', 'ensemble_temperature'].includes(q.kind))) {
    const calCal = calibratedLogits(p, zc, yc.length, K);
    const qhat = calibrateConformal('lac', { logits: calCal, labels: yc }, K, { alpha }).qhat[0];
    // The calibration rows whose true-class score is q̂ itself and the next one above: the borderline pair.
    const score = (i: number) => 1 - softmaxRows(calCal.subarray(i * K, (i + 1) * K))[yc[i]];
    const scores = Array.from(yc, (_, i) => score(i));
    const at = scores.findIndex((s) => s === qhat);
    const above = scores.reduce((b, s, i) => (s > qhat && (b < 0 || s < scores[b]) ? i : b), -1);
    assert.ok(at >= 0 && above >= 0, `${p.kind}: borderline rows found`);
    const x = Float32Array.from([...idX, ...calibX.subarray(at * D, (at + 1) * D), ...calibX.subarray(above * D, (above + 1) * D)]);
    const dst = path.join(dir, `${p.kind}-sets.onnx`);
    await exportCalibratedModel(src, dst, { calibrator: p, logitsOutput: 'logits', calibrationSet: 'calib', predictionSet: { alpha, qhat } });
    const out = await run(dst, x);
    const n = x.length / D;
    const raw = (await run(src, x)).logits.data as Float32Array;
    const engine = predictionSets('lac', calibratedLogits(p, raw, n, K), K, [qhat], { alpha });
    assert.deepEqual(out.prediction_set.dims, [n, K]);
    assert.deepEqual(Array.from(out.prediction_set.data as Uint8Array, Number), Array.from(engine), `${p.kind}: sets row by row`);
    assert.equal(engine[(n - 2) * K + yc[at]], 1, `${p.kind}: the class scored exactly q̂ is in its set`);
    assert.equal(engine[(n - 1) * K + yc[above]], 0, `${p.kind}: the next score above q̂ is out`);
    const m = meta(dst);
    assert.equal(Number(m[CONFORMAL_KEYS.qhat]), qhat);
    assert.equal(Number(m[CONFORMAL_KEYS.alpha]), alpha);
    assert.equal(m[CONFORMAL_KEYS.method], 'lac');
  }
});

test('export refusals: prediction sets of a top-label map, opset below 11, an output already named prediction_set', async () => {
  const { params } = await fits;
  const dir = await scratch('ood-lens-refuse-');
  const src = path.join(dir, 'model.onnx');
  fs.writeFileSync(src, model);
  const hist = params.find((p) => p.kind === 'histogram')!;
  const dirichlet = params.find((p) => p.kind === 'dirichlet')!;
  const base = { logitsOutput: 'logits', calibrationSet: 'c' };
  await assert.rejects(exportCalibratedModel(src, path.join(dir, 'a.onnx'), { ...base, calibrator: hist, predictionSet: { alpha: 0.1, qhat: 0.5 } }), /top label/);
  await assert.rejects(exportCalibratedModel(src, path.join(dir, 'a.onnx'), { ...base, calibrator: dirichlet, predictionSet: { alpha: 0.1, qhat: Infinity } }), /finite/);
  const old = onnx.ModelProto.decode(model);
  old.opsetImport = [{ domain: '', version: 9 }];
  const oldFile = path.join(dir, 'old.onnx');
  fs.writeFileSync(oldFile, onnx.ModelProto.encode(old).finish());
  await assert.rejects(exportCalibratedModel(oldFile, path.join(dir, 'b.onnx'), { ...base, calibrator: dirichlet }), /opset 11/);
  const withSets = path.join(dir, 'sets.onnx');
  await exportCalibratedModel(src, withSets, { ...base, calibrator: dirichlet, predictionSet: { alpha: 0.1, qhat: 0.5 } });
  await assert.rejects(exportCalibratedModel(withSets, path.join(dir, 'c.onnx'), { ...base, calibrator: dirichlet, predictionSet: { alpha: 0.1, qhat: 0.5 } }), /already has a tensor named "prediction_set"/);
  assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no temp file left behind');
});
