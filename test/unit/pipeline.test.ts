import { test } from 'node:test';
import { react } from '../../src/engine/ood/methods/react';
import { jsDense } from '../../src/engine/linalg/dense';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { buildLinearModel, buildModel } from '../helpers/onnx-builder';
import { imageFolder, linear, npy, tempDir, weights, writeFile } from '../helpers/fixtures';
import type { Report } from '../../src/engine/report/types';

const K = 3;

function softmaxMax(z: number[]): number {
  const m = Math.max(...z);
  const s = z.reduce((a, v) => a + Math.exp(v - m), 0);
  return 1 / s;
}

/** Expected msp per file from the known linear model on the file's pixels (x = px/255 in C,H,W order). */
function expectedMsp(W: Float32Array, b: Float32Array, px: Uint8Array, h: number, w: number, srcC: number, modelC: number): number {
  const x: number[] = [];
  for (let c = 0; c < modelC; c++) {
    for (let i = 0; i < h * w; i++) {
      const s = i * srcC;
      const v = modelC === 1 && srcC >= 3 ? (px[s] * 19595 + px[s + 1] * 38470 + px[s + 2] * 7471 + 0x8000) >> 16 : px[s + (srcC >= 3 ? c : 0)];
      x.push(Math.fround(Math.fround(v * (1 / 255)) - 0));
    }
  }
  return -softmaxMax(linear(W, b, x));
}

function scoreOf(report: Report, file: string, model: string, score: string): number {
  const row = report.samples.find((s) => s.path === file);
  assert.ok(row, `sample ${file} in report`);
  return row.scores[model][score] as number;
}

async function setup(opts: { shape: (number | string)[]; layout?: 'NCHW' | 'NHWC'; imgC: 1 | 3; modelC: 1 | 3; nId?: number; softmax?: boolean; sidecar?: object }) {
  const t = tempDir();
  const h = 4, w = 4;
  const d = opts.modelC * h * w;
  const W = weights(K * d, 3);
  const b = Float32Array.from([0.1, -0.2, 0.05]);
  const model = path.join(t.dir, 'model.onnx');
  writeFile(model, buildLinearModel({ inputShape: opts.shape, layout: opts.layout, W, b, softmax: opts.softmax, metadata: { classes: '["a","b","c"]' } }));
  if (opts.sidecar) writeFile(path.join(t.dir, 'model.json'), JSON.stringify(opts.sidecar));
  const id = await imageFolder(path.join(t.dir, 'id'), ['a', 'b', 'c'], opts.nId ?? 4, h, w, opts.imgC, 0);
  const ood = await imageFolder(path.join(t.dir, 'ood'), ['x'], 5, h, w, opts.imgC, 100);
  return { ...t, model, id, ood, W, b, h, w };
}

for (const c of [
  { name: 'NCHW gray model, gray images', shape: ['N', 1, 4, 4], imgC: 1, modelC: 1 },
  { name: 'NHWC RGB model, RGB images', shape: ['N', 4, 4, 3], layout: 'NHWC', imgC: 3, modelC: 3 },
  { name: 'NCHW RGB model, gray images (replicated)', shape: ['N', 3, 4, 4], imgC: 1, modelC: 3 },
  { name: 'NCHW gray model, RGB images (luma)', shape: ['N', 1, 4, 4], imgC: 3, modelC: 1 },
] as const) {
  test(`scores match the known linear model: ${c.name}`, async () => {
    const f = await setup({ ...c, shape: [...c.shape], layout: 'layout' in c ? c.layout : undefined });
    try {
      // 12 ID images with batch 5: batches of 5, 5, 2.
      const report = await runScore({ models: [f.model], id: path.join(f.dir, 'id'), ood: [path.join(f.dir, 'ood')], batchSize: 5 });
      assert.equal(report.samples.length, 17);
      for (const [file, px] of [...f.id, ...f.ood]) {
        const want = expectedMsp(f.W, f.b, px, f.h, f.w, c.imgC, c.modelC);
        assert.ok(Math.abs(scoreOf(report, file, 'model', 'msp') - want) < 1e-5, `${file}: ${scoreOf(report, file, 'model', 'msp')} vs ${want}`);
      }
      assert.deepEqual(report.models[0].classes, ['a', 'b', 'c']);
      assert.equal(report.models[0].input.layout, 'layout' in c ? c.layout : 'NCHW');
      assert.equal(report.splits.find((s) => s.name === 'id')!.count, 12);
      assert.ok(report.ood.some((r) => r.split === 'ood' && r.score === 'msp' && r.auroc >= 0 && r.auroc <= 1));
      assert.equal(report.calibration[0].model, 'model');
    } finally {
      f.cleanup();
    }
  });
}

test('a model with dynamic H/W takes its size from the sidecar JSON', async () => {
  const t = tempDir();
  try {
    // GlobalAveragePool makes any H×W valid; logits = [mean, −mean].
    const model = path.join(t.dir, 'dyn.onnx');
    writeFile(model, buildModel(
      [{ op: 'GlobalAveragePool', inputs: ['input'], outputs: ['pooled'] }, { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attributes: { axis: 1 } },
        { op: 'Gemm', inputs: ['flat', 'W', 'b'], outputs: ['logits'], attributes: { transB: 1 } }],
      [{ name: 'input', shape: ['N', 1, 'H', 'W'] }], [{ name: 'logits', shape: ['N', 2] }],
      [{ name: 'W', dims: [2, 1], data: [1, -1] }, { name: 'b', dims: [2], data: [0, 0] }],
    ));
    const id = await imageFolder(path.join(t.dir, 'id'), ['p', 'q'], 3, 6, 6, 1);
    await assert.rejects(runScore({ models: [model], id: path.join(t.dir, 'id') }), /dynamic input size/);
    writeFile(path.join(t.dir, 'dyn.json'), JSON.stringify({ height: 6, width: 6 }));
    const report = await runScore({ models: [model], id: path.join(t.dir, 'id') });
    for (const [file, px] of id) {
      const mean = px.reduce((a, v) => a + Math.fround(v / 255), 0) / px.length;
      assert.ok(Math.abs(scoreOf(report, file, 'dyn', 'max_logit') + Math.abs(mean)) < 1e-5);
    }
    assert.deepEqual([report.models[0].input.height, report.models[0].input.width], [6, 6]);
  } finally {
    t.cleanup();
  }
});

test('probability outputs are detected and give the same msp as the logits model', async () => {
  const a = await setup({ shape: ['N', 1, 4, 4], imgC: 1, modelC: 1 });
  try {
    const probs = path.join(a.dir, 'probs.onnx');
    writeFile(probs, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: a.W, b: a.b, softmax: 'exp-log', metadata: { classes: '["a","b","c"]' } }));
    const report = await runScore({ models: [a.model, probs], id: path.join(a.dir, 'id'), ood: [path.join(a.dir, 'ood')], ensemble: false });
    assert.equal(report.models.find((m) => m.name === 'probs')!.outputKind, 'probabilities');
    assert.equal(report.models.find((m) => m.name === 'model')!.outputKind, 'logits');
    for (const file of a.id.keys()) assert.ok(Math.abs(scoreOf(report, file, 'model', 'msp') - scoreOf(report, file, 'probs', 'msp')) < 1e-5);
    assert.equal(report.ensemble, undefined);
  } finally {
    a.cleanup();
  }
});

test('two models form an ensemble with disagreement scores', async () => {
  const a = await setup({ shape: ['N', 1, 4, 4], imgC: 1, modelC: 1 });
  try {
    const m2 = path.join(a.dir, 'model2.onnx');
    writeFile(m2, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(K * 16, 9), b: a.b, metadata: { classes: '["a","b","c"]' } }));
    const report = await runScore({ models: [a.model, m2], id: path.join(a.dir, 'id'), ood: [path.join(a.dir, 'ood')], batchSize: 7 });
    const ens = report.samples[0].scores.ensemble;
    assert.ok(ens && 'kl_mean' in ens && 'mutual_info' in ens && 'disagreement' in ens);
    assert.ok(report.ood.some((r) => r.model === 'ensemble' && r.score === 'kl_max'));
    assert.ok(report.calibration.some((r) => r.model === 'ensemble'));
    assert.deepEqual((report.ensemble as { members: string[] }).members, ['model', 'model2']);
  } finally {
    a.cleanup();
  }
});

test('noise and holdout splits are named splits', async () => {
  const a = await setup({ shape: ['N', 1, 4, 4], imgC: 1, modelC: 1 });
  try {
    // The model knows classes a, b: class folder c of the ID folder becomes the "holdout" OOD split.
    const m2 = path.join(a.dir, 'two.onnx');
    writeFile(m2, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(2 * 16, 5), b: [0, 0], metadata: { classes: '["a","b"]' } }));
    const report = await runScore({ models: [m2], id: path.join(a.dir, 'id'), ood: ['noise:9'], holdout: ['c'] });
    const names = report.splits.map((s) => `${s.name}:${s.role}:${s.count}`);
    assert.deepEqual(names, ['id:id:8', 'holdout:ood:4', 'noise:ood:9']);
    assert.ok(report.samples.filter((s) => s.split === 'noise').every((s) => s.path.startsWith('noise:9/')));
    const again = await runScore({ models: [m2], id: path.join(a.dir, 'id'), ood: ['noise:9'], holdout: ['c'] });
    assert.deepEqual(again.samples.map((s) => s.scores.two.msp), report.samples.map((s) => s.scores.two.msp), 'noise is seeded');
    assert.equal(report.calibration[0].model, 'two');
  } finally {
    a.cleanup();
  }
});

test('precomputed .npy logits, labels and features give the same report shape', async () => {
  const t = tempDir();
  try {
    const idLogits = [2, 0, 0, 0, 3, 0, 0, 0, 1, 1, 0.5, 0];
    writeFile(path.join(t.dir, 'id', 'logits.npy'), npy([4, 3], idLogits));
    writeFile(path.join(t.dir, 'id', 'labels.npy'), npy([4], [0, 1, 2, 1], '<i8'));
    writeFile(path.join(t.dir, 'ood', 'logits.npy'), npy([2, 3], [0.1, 0, 0.1, 0, 0, 0]));
    const report = await runScore({ models: [], id: path.join(t.dir, 'id'), ood: [path.join(t.dir, 'ood')] });
    assert.equal(report.models[0].name, 'precomputed');
    assert.equal(report.splits[0].count, 4);
    const msp = report.samples.filter((s) => s.split === 'id').map((s) => s.scores.precomputed.msp as number);
    assert.ok(Math.abs(msp[0] + softmaxMax([2, 0, 0])) < 1e-12);
    const row = report.ood.find((r) => r.score === 'msp')!;
    assert.equal(row.auroc, 1, 'every OOD sample is less confident than every ID sample');
    assert.equal(report.calibration[0].accuracy, 0.75, 'the last row predicts class 0, labelled 1');
  } finally {
    t.cleanup();
  }
});

test('precomputed W.npy and b.npy give the last-layer methods the final layer; a wrong shape is one clear error', async () => {
  const t = tempDir();
  try {
    const d = 4, k = 3;
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const W = Array.from({ length: k * d }, () => rand() - 0.5);
    const b = [0.1, -0.2, 0.05];
    const split = (name: string, n: number, shift: number) => {
      const h = Array.from({ length: n * d }, () => Math.max(0, rand() + shift));
      const z = Array.from({ length: n * k }, (_, a) => b[a % k] + W.slice((a % k) * d, (a % k + 1) * d).reduce((s, w, j) => s + w * h[Math.floor(a / k) * d + j], 0));
      writeFile(path.join(t.dir, name, 'features.npy'), npy([n, d], h));
      writeFile(path.join(t.dir, name, 'logits.npy'), npy([n, k], z));
      return { h: Float32Array.from(h), z: Float32Array.from(z), n };
    };
    const fit = split('fit', 30, 0);
    const id = split('id', 10, 0);
    split('ood', 10, 1.5);
    const opts = { models: [], id: path.join(t.dir, 'id'), ood: [path.join(t.dir, 'ood')], fit: path.join(t.dir, 'fit'), scores: ['react', 'vim', 'knn'] };
    const without = await runScore(opts);
    assert.deepEqual([...new Set(without.ood.map((r) => r.score))].filter((s) => ['react', 'vim', 'knn'].includes(s)), ['knn']);
    assert.ok(without.warnings.some((w) => /react skipped/.test(w)), without.warnings.join('; '));

    writeFile(path.join(t.dir, 'fit', 'W.npy'), npy([k, d], W));
    writeFile(path.join(t.dir, 'fit', 'b.npy'), npy([k], b));
    const report = await runScore(opts);
    const layer = { W: Float32Array.from(W), b: Float32Array.from(b), k, d };
    const det = react.create({ d, k, layer, params: { ...react.defaults }, dense: jsDense() });
    await det.fit?.({ features: fit.h, logits: fit.z, labels: new Int32Array(fit.n).fill(-1), n: fit.n });
    await det.finish?.();
    const want = await det.score({ features: id.h, logits: id.z, labels: new Int32Array(id.n).fill(-1), n: id.n });
    const got = report.samples.filter((s) => s.split === 'id').map((s) => s.scores.precomputed.react as number);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-9 * Math.abs(want[i]), `react[${i}]: ${v} vs ${want[i]}`));
    assert.ok(report.ood.some((r) => r.score === 'vim'));

    writeFile(path.join(t.dir, 'fit', 'W.npy'), npy([d, k], W));
    await assert.rejects(runScore(opts), /W\.npy has shape \(4, 3\); expected \[3, 4\]/);
  } finally {
    t.cleanup();
  }
});

test('cancellation keeps what was scored and marks the report partial', async () => {
  const a = await setup({ shape: ['N', 1, 4, 4], imgC: 1, modelC: 1, nId: 40 });
  try {
    const controller = new AbortController();
    const report = await runScore(
      { models: [a.model], id: path.join(a.dir, 'id'), ood: [path.join(a.dir, 'ood')], batchSize: 8 },
      { signal: controller.signal, onProgress: (p) => { if (p.phase === 'scoring' && p.done >= 16) controller.abort(); } },
    );
    assert.equal(report.partial, true);
    const id = report.splits.find((s) => s.name === 'id')!;
    assert.ok(id.count >= 16 && id.count < 120, `scored ${id.count}`);
    assert.equal(report.samples.length, id.count);
    assert.ok(report.warnings.some((w) => /cancelled/.test(w)));
  } finally {
    a.cleanup();
  }
});

test('bad inputs fail with one clear sentence', async () => {
  const a = await setup({ shape: ['N', 1, 4, 4], imgC: 1, modelC: 1 });
  try {
    const notOnnx = path.join(a.dir, 'text.onnx');
    writeFile(notOnnx, 'hello, I am not a model');
    await assert.rejects(runScore({ models: [notOnnx], id: path.join(a.dir, 'id') }), /Not an ONNX model/);
    await assert.rejects(runScore({ models: [a.model], id: path.join(a.dir, 'missing') }), /Folder not found/);
    const empty = path.join(a.dir, 'empty');
    writeFile(path.join(empty, 'notes.txt'), 'x');
    await assert.rejects(runScore({ models: [a.model], id: empty }), /has no images/);
    await assert.rejects(runScore({ models: [a.model], id: path.join(a.dir, 'id'), holdout: ['zzz'] }), /no class folder "zzz"/);
  } finally {
    a.cleanup();
  }
});
