import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { runCalibrate } from '../../src/engine/calibrate';
import { calibratedLogits } from '../../src/engine/calibration/apply';
import { predictionSets } from '../../src/engine/metrics/conformal';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, scratchDirs, weights, writeFile } from '../helpers/fixtures';

const scratch = scratchDirs();
const CLASSES = ['a', 'b', 'c'];

async function workspace() {
  const dir = await scratch('ood-lens-calibrate-');
  const model = path.join(dir, 'net.onnx');
  // Large weights make the model over-confident, so the calibrators have something to fix.
  writeFile(model, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(3 * 16, 11).map((w) => w * 8), b: [0, 0, 0], features: true, metadata: { classes: JSON.stringify(CLASSES) } }));
  const id = await imageFolder(path.join(dir, 'id'), CLASSES, 8, 4, 4);
  await imageFolder(path.join(dir, 'calib'), CLASSES, 14, 4, 4, 1, 40);
  return { dir, model, id };
}

test('calibrate --calibrator dirichlet_odir --prediction-set: the model\'s sets on the ID split equal the report\'s', async () => {
  const w = await workspace();
  const out = path.join(w.dir, 'net.dirichlet.onnx');
  const res = await runCalibrate({ model: w.model, calib: path.join(w.dir, 'calib'), id: path.join(w.dir, 'id'), out, calibrator: 'dirichlet_odir', predictionSet: true, run: { conformalAlpha: [0.2] } });
  const rows = res.report.calibrators ?? [];
  assert.deepEqual(rows.map((r) => r.method), ['temperature_scaling', 'vector_scaling', 'matrix_scaling', 'dirichlet_odir', 'ensemble_temperature', 'histogram_binning', 'isotonic', 'last_layer_refit']);
  for (const r of rows) {
    for (const key of ['ece', 'smece', 'nll', 'brier', 'accuracy'] as const) assert.ok(Number.isFinite(r.after[key]), `${r.method} after.${key}`);
    assert.equal(r.lac === undefined, r.topLabel === true, `${r.method}: LAC rows exactly for full-distribution maps`);
    if (r.topLabel) assert.equal(r.after.accuracy, r.before.accuracy, `${r.method} keeps the predictions`);
  }
  const row = rows.find((r) => r.method === 'dirichlet_odir')!;
  const lac = row.lac![0];
  assert.deepEqual(res.predictionSet, { alpha: 0.2, qhat: lac.qhat });
  assert.deepEqual(res.report.settings.export, { out, calibrator: 'dirichlet_odir', predictionSet: { alpha: 0.2, qhat: lac.qhat } });

  // The ID images as the engine feeds them (pixels / 255), through the original and the calibrated model.
  const files = [...w.id.keys()].sort();
  const x = Float32Array.from(files.flatMap((f) => Array.from(w.id.get(f)!, (v) => v * (1 / 255))));
  const feed = { input: new ort.Tensor('float32', x, [files.length, 1, 4, 4]) };
  const raw = (await (await ort.InferenceSession.create(w.model)).run(feed)).logits.data as Float32Array;
  const graph = (await (await ort.InferenceSession.create(out)).run(feed)).prediction_set.data as Uint8Array;
  const engine = predictionSets('lac', calibratedLogits(row.parameters!, raw, files.length, 3), 3, [lac.qhat!], { alpha: 0.2 });
  assert.deepEqual(Array.from(graph, Number), Array.from(engine), 'sets row by row');
  const labels = files.map((f) => CLASSES.indexOf(path.basename(path.dirname(f))));
  const covered = labels.filter((y, i) => engine[i * 3 + y]).length;
  assert.equal(covered / labels.length, lac.coverage, 'the report\'s coverage is these sets\' coverage');
});

test('calibrate refuses an unexportable choice before scoring anything', async () => {
  const base = { model: 'm.onnx', calib: 'nowhere', out: 'x.onnx' };
  await assert.rejects(runCalibrate({ ...base, calibrator: 'last_layer_refit' }), /report-only/);
  await assert.rejects(runCalibrate({ ...base, calibrator: 'platt' }), /Unknown calibrator "platt"/);
  await assert.rejects(runCalibrate({ ...base, calibrator: 'isotonic', predictionSet: true }), /top label/);
  await assert.rejects(runCalibrate({ ...base, predictionSet: true, run: { conformalAlpha: [0.1, 0.05] } }), /single --alpha/);
  await assert.rejects(runCalibrate({ ...base, out: undefined, predictionSet: true }), /give --out/);
});

test('calibrate --prediction-set refuses q̂ = +∞ (too few calibration samples for α)', async () => {
  const w = await workspace();
  const out = path.join(w.dir, 'net.sets.onnx');
  await assert.rejects(runCalibrate({ model: w.model, calib: path.join(w.dir, 'calib'), out, predictionSet: true, run: { conformalAlpha: [0.01] } }), /too small for α = 0.01/);
  assert.equal(fs.existsSync(out), false);
});
