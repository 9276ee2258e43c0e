// Issue 7, cases 19–26: models that are not ONNX, have the wrong signature, disagree with the dataset, output
// probabilities or non-finite values, or ask for an execution provider that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { oodMetrics } from '../../src/engine/metrics/ood-metrics';
import { buildModel } from '../helpers/onnx-builder';
import { imageFolder, tempDir, writeFile } from '../helpers/fixtures';
import { models, nonFiniteFolders, SIZE } from '../hostile/generate';

async function setup() {
  const t = tempDir();
  const m = models(path.join(t.dir, 'models'));
  const id = path.join(t.dir, 'id');
  await imageFolder(id, ['a', 'b'], 4, SIZE, SIZE, 1);
  const ood = path.join(t.dir, 'ood');
  await imageFolder(ood, ['x'], 5, SIZE, SIZE, 1, 50);
  return { ...t, m, id, ood };
}

test('files that are not ONNX models are refused with one sentence', async () => {
  const f = await setup();
  try {
    const refuse = (model: string, message: string | RegExp) => assert.rejects(runScore({ models: [model], id: f.id }), { name: 'UserError', message });
    // Some bytes happen to parse as protobuf: those are refused for having no graph.
    const notModel = (file: string) => new RegExp(`^Not an ONNX model( \\(no graph\\))?: ${file}$`);
    await refuse(f.m.notOnnx, notModel(f.m.notOnnx));
    await refuse(f.m.empty, `Not an ONNX model (empty file): ${f.m.empty}`);
    await refuse(f.m.randomBytes, notModel(f.m.randomBytes));
    await refuse(f.m.truncated, notModel(f.m.truncated));
    await refuse(path.join(f.dir, 'missing.onnx'), `Model file not found: ${path.join(f.dir, 'missing.onnx')}`);
    await refuse(f.id, `Model ${f.id} is a folder, not an .onnx file`);
  } finally {
    f.cleanup();
  }
});

test('models with the wrong signature are refused before any image is read', async () => {
  const f = await setup();
  try {
    const refuse = (model: string, message: string) => assert.rejects(runScore({ models: [model], id: f.id }), { name: 'UserError', message });
    await refuse(f.m.twoInputs, 'Model two-inputs.onnx has 2 inputs (image, mask); OOD Lens needs one image input');
    await refuse(f.m.intInput, 'Model int-input.onnx takes int64 input "input"; OOD Lens feeds float32, float16 or uint8 images');
    await refuse(f.m.output4d, 'Model output-4d.onnx has no 2-D [N,K] classifier output (outputs: heatmap [N,1,4,4]); name the logits output with --logits-output');
  } finally {
    f.cleanup();
  }
});

test('an output declared [N,K] that is 4-D when run is an error naming the model and shape', async () => {
  const f = await setup();
  try {
    const liar = path.join(f.dir, 'liar.onnx');
    writeFile(liar, buildModel([{ op: 'Identity', inputs: ['input'], outputs: ['logits'] }], [{ name: 'input', shape: ['N', 1, SIZE, SIZE] }], [{ name: 'logits', shape: ['N', 16] }]));
    await assert.rejects(runScore({ models: [liar], id: f.id, batchSize: 4 }), { name: 'UserError', message: 'model liar returned output "logits" of shape [4,1,4,4] for a batch of 4' });
  } finally {
    f.cleanup();
  }
});

test('a class count that differs from the ID class folders scores without labels and says why', async () => {
  const f = await setup();
  try {
    const report = await runScore({ models: [f.m.threeClasses], id: f.id, ood: [f.ood] });
    assert.deepEqual(report.models[0].classes, ['class_0', 'class_1', 'class_2']);
    assert.ok(report.warnings.includes('three-classes outputs 3 classes but the ID folder has 2 class folders (a, b); labels are not used, so accuracy and calibration are not computed. Give --label-map FILE to map them'), report.warnings.join('\n'));
    assert.ok(report.samples.every((s) => s.label === null));
    assert.equal(report.ood.find((r) => r.score === 'energy')!.n_id, 8, 'OOD metrics need no labels');
  } finally {
    f.cleanup();
  }
});

test('probability outputs are detected, flagged, and score like the logits they came from', async () => {
  const f = await setup();
  try {
    const report = await runScore({ models: [f.m.classifier, f.m.probabilities], id: f.id, ood: [f.ood], ensemble: false });
    const probs = report.models.find((m) => m.name === 'probabilities')!;
    assert.equal(probs.outputKind, 'probabilities');
    assert.ok(probs.warnings.includes('outputs are probabilities; ln p used as logits'));
    for (const s of report.samples) {
      for (const score of ['msp', 'entropy', 'gen']) {
        assert.ok(Math.abs((s.scores.classifier[score] as number) - (s.scores.probabilities[score] as number)) < 1e-5, `${score} of ${s.path}`);
      }
    }
    const auroc = (model: string) => report.ood.find((r) => r.model === model && r.score === 'msp')!.auroc;
    assert.equal(auroc('probabilities'), auroc('classifier'));
  } finally {
    f.cleanup();
  }
});

test('a Softmax output is read before its Softmax: the exact logits, every logit score as the logits model', async () => {
  const f = await setup();
  try {
    const report = await runScore({ models: [f.m.classifier, f.m.softmaxOutput], id: f.id, ood: [f.ood], ensemble: false });
    const soft = report.models.find((m) => m.name === 'softmax-output')!;
    assert.equal(soft.outputKind, 'logits');
    assert.deepEqual([soft.outputs.logits, soft.outputs.logitsOf], ['linear', 'logits']);
    for (const s of report.samples) {
      for (const score of ['msp', 'max_logit', 'energy']) {
        assert.ok(Math.abs((s.scores.classifier[score] as number) - (s.scores['softmax-output'][score] as number)) < 1e-6, `${score} of ${s.path}`);
      }
    }
  } finally {
    f.cleanup();
  }
});

test('NaN and infinite outputs are left out of every metric, counted, and do not change AUROC', async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const splits = nonFiniteFolders(path.join(t.dir, 'nf'));
    const report = await runScore({ models: [m.nonFinite], id: splits.id, ood: [splits.ood] });
    assert.ok(report.warnings.includes('non-finite on "id": 1 of 5 samples have NaN or infinite outputs; they are left out of every metric'), report.warnings.join('\n'));
    assert.ok(report.warnings.includes('non-finite on "ood": 1 of 4 samples have NaN or infinite outputs; they are left out of every metric'));
    for (const file of splits.nonFinite) {
      const row = report.samples.find((s) => s.path === file)!;
      assert.equal(row.prediction['non-finite'], null);
      assert.ok(Object.values(row.scores['non-finite']).every((v) => v === null), `${file}: every score null`);
    }
    // The same split without the non-finite images gives the same metrics.
    for (const file of splits.nonFinite) fs.rmSync(file);
    const clean = await runScore({ models: [m.nonFinite], id: splits.id, ood: [splits.ood] });
    for (const row of report.ood) {
      const twin = clean.ood.find((r) => r.score === row.score)!;
      assert.deepEqual([row.n_id, row.n_ood, row.n_excluded_id, row.n_excluded_ood], [4, 3, 1, 1], row.score);
      for (const k of ['auroc', 'aupr_in', 'aupr_out', 'fpr95'] as const) assert.equal(row[k], twin[k], `${row.score} ${k}`);
    }
    const id = clean.samples.filter((s) => s.split === 'id').map((s) => s.scores['non-finite'].msp as number);
    const ood = clean.samples.filter((s) => s.split === 'ood').map((s) => s.scores['non-finite'].msp as number);
    assert.equal(report.ood.find((r) => r.score === 'msp')!.auroc, oodMetrics(Float64Array.from(id), Float64Array.from(ood)).auroc);
    assert.ok(report.thresholds.every((r) => Number.isFinite(r.threshold)), 'thresholds come from finite scores');
  } finally {
    t.cleanup();
  }
});

test('an execution provider that cannot load falls back to CPU and says so in the model warnings', async () => {
  const f = await setup();
  try {
    const cpu = await runScore({ models: [f.m.classifier], id: f.id, ood: [f.ood] });
    const report = await runScore({ models: [f.m.classifier], id: f.id, ood: [f.ood], executionProviders: ['cuda', 'cpu'] });
    assert.equal(report.models[0].executionProvider, 'cpu');
    assert.equal(report.models[0].warnings.length, 1);
    assert.match(report.models[0].warnings[0], /^classifier: execution provider cuda: .+; fell back to cpu$/);
    assert.ok(report.warnings.includes(report.models[0].warnings[0]));
    assert.deepEqual(report.samples.map((s) => s.scores), cpu.samples.map((s) => s.scores));
  } finally {
    f.cleanup();
  }
});
