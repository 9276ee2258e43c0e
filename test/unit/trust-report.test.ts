// Issue 16 (first slice): a run reports selective prediction on every labelled split and conformal sets calibrated
// on the calibration split, with the conventions of src/engine/metrics/{selective,conformal}.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { selectiveMetrics } from '../../src/engine/metrics/selective';
import { evaluateGates } from '../../src/engine/gates';

const DEMO = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo');
const opts = {
  models: [path.join(DEMO, 'models', 'ce_seed0.onnx')], id: path.join(DEMO, 'data', 'id_test'), calib: path.join(DEMO, 'data', 'id_calib'),
  ood: [path.join(DEMO, 'data', 'ood_heldout')], scores: ['msp'], conformalAlpha: [0.1, 0.2],
};

test('selective rows are the metrics of the report\'s own samples (confidence = max softmax, correct = prediction = label)', async () => {
  const r = await runScore(opts);
  for (const split of ['id_test', 'id_calib']) {
    const rows = r.samples.filter((s) => s.split === split && s.label !== null);
    const conf = Float64Array.from(rows, (s) => -(s.scores.ce_seed0.msp as number));
    const correct = Uint8Array.from(rows, (s) => (s.prediction.ce_seed0 === s.label ? 1 : 0));
    const row = r.selective!.find((x) => x.model === 'ce_seed0' && x.split === split)!;
    const { curve, ...metrics } = row;
    assert.deepEqual(metrics, { model: 'ce_seed0', split, confidence: 'msp', ...selectiveMetrics(conf, correct) });
    assert.equal(curve.coverage[0], 1, 'the curve starts at full coverage');
    assert.ok(curve.coverage.length <= 200 && curve.coverage.length === curve.risk.length);
  }
  assert.equal(r.selective!.some((x) => x.split === 'ood_heldout'), false, 'OOD splits have no labels of the model');
});

test('conformal rows: four methods × two α on the ID split, calibrated on id_calib, near 1 − α coverage', async () => {
  const r = await runScore(opts);
  const rows = r.conformal!.filter((x) => x.model === 'ce_seed0');
  assert.deepEqual(rows.map((x) => `${x.split} ${x.method} ${x.alpha}`).sort(), ['lac', 'aps', 'raps', 'lac_classwise'].flatMap((m) => [0.1, 0.2].map((a) => `id_test ${m} ${a}`)).sort());
  for (const x of rows) {
    assert.equal(x.n_calib, 300);
    assert.ok(Math.abs(x.coverage - (1 - x.alpha)) < 0.06, `${x.method} α=${x.alpha}: coverage ${x.coverage}`);
    assert.ok(x.mean_set_size >= 0 && x.mean_set_size <= 5);
  }
  await assert.rejects(runScore({ ...opts, conformalAlpha: [1.5] }), /conformal α must lie in \(0, 1\) \(got 1\.5\)/);
  const none = await runScore({ ...opts, calib: undefined });
  assert.deepEqual(none.conformal, [], 'no calibration split, no sets');
});

test('gates read AURC and the conformal coverage and set size of the ID split', async () => {
  const r = await runScore(opts);
  const aurc = r.selective!.find((x) => x.model === 'ce_seed0' && x.split === 'id_test')!.aurc;
  const aps = r.conformal!.find((x) => x.method === 'aps' && x.alpha === 0.2 && x.split === 'id_test')!;
  const g = evaluateGates(r, { aurc_max: aurc + 0.001, coverage_min: { id_test: aps.coverage + 0.01 }, set_size_max: 100, conformal_method: 'aps', conformal_alpha: 0.2 });
  assert.deepEqual(g.map((x) => [x.gate, x.split, x.passed]), [['aurc_max', 'id_test', true], ['coverage_min', 'id_test', false], ['set_size_max', 'id_test', true]]);
  assert.match(g[1].message, new RegExp(`^conformal coverage ${aps.coverage.toFixed(3)} for ce_seed0 on id_test \\(aps\\) fails ≥`));
  assert.equal(evaluateGates(r, { coverage_min: 0.5, conformal_method: 'raps', conformal_alpha: 0.3 })[0].actual, null, 'no row at that α: the gate fails');
});
