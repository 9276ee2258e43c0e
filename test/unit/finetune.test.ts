import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { energyObjective, energyOf, type EnergyData, type LossParts } from '../../src/engine/finetune/loss';
import { defaultMargins, fitEnergyLayer, M_OUT_GAP } from '../../src/engine/finetune/fit';
import { checkOutlierSource } from '../../src/engine/finetune/sources';
import { exportFinetunedModel, FINETUNE_KEY } from '../../src/engine/finetune/onnx-export';
import { runFinetune } from '../../src/engine/finetune/run-finetune';
import { applyLayer } from '../../src/engine/finetune/section';
import { readLastLayer } from '../../src/engine/onnx/last-layer';
import { runScore } from '../../src/engine/run';
import { reportJson } from '../../src/engine/report/write';
import { UserError } from '../../src/engine/util/errors';
import { buildModel, type NodeSpec, type TensorSpec } from '../helpers/onnx-builder';
import { tempDir, weights, writeFile } from '../helpers/fixtures';
import { repoRoot } from '../helpers/golden';

const d = 4, k = 3;

function data(): EnergyData {
  const fit = Float32Array.from(weights(12 * d, 11), (v) => 3 * v);
  const outliers = Float32Array.from(weights(8 * d, 12), (v) => 0.5 * v);
  // Two unlabelled rows: in the energy term, not in the CE.
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, -1, 2, -1, 1]);
  return { d, k, fit, nFit: 12, labels, outliers, nOut: 8 };
}

test('the loss is CE + λ·(mean relu(E_in − m_in)² + mean relu(m_out − E_out)²) + l2/2·‖W − W₀‖², by hand', () => {
  const D = data();
  const W0 = weights(k * d, 13);
  const x = new Float64Array(k * d + k);
  x.set(weights(k * d, 14));
  x.set([0.1, -0.2, 0.3], k * d);
  const o = { lambda: 0.7, mIn: -1.2, mOut: 0.4, T: 2, l2: 0.05, W0 };
  const parts = {} as LossParts;
  const total = energyObjective(D, o)(x, new Float64Array(x.length), parts);
  const z = (X: Float32Array, i: number) => Array.from({ length: k }, (_, c) => x[k * d + c] + Array.from({ length: d }, (_, j) => x[c * d + j] * X[i * d + j]).reduce((a, v) => a + v, 0));
  let ce = 0, n = 0, eIn = 0, eOut = 0;
  for (let i = 0; i < D.nFit; i++) {
    const zi = z(D.fit, i);
    if (D.labels[i] >= 0) {
      ce += Math.log(zi.reduce((a, v) => a + Math.exp(v), 0)) - zi[D.labels[i]];
      n++;
    }
    eIn += Math.max(0, -2 * Math.log(zi.reduce((a, v) => a + Math.exp(v / 2), 0)) - o.mIn) ** 2;
  }
  for (let i = 0; i < D.nOut; i++) eOut += Math.max(0, o.mOut + 2 * Math.log(z(D.outliers, i).reduce((a, v) => a + Math.exp(v / 2), 0))) ** 2;
  let reg = 0;
  for (let q = 0; q < k * d; q++) reg += (x[q] - W0[q]) ** 2;
  assert.ok(eIn > 0 && eOut > 0, 'both margin terms are active somewhere');
  assert.ok(Math.abs(parts.ce - ce / n) < 1e-12);
  assert.ok(Math.abs(parts.energyIn - eIn / D.nFit) < 1e-12);
  assert.ok(Math.abs(parts.energyOut - eOut / D.nOut) < 1e-12);
  assert.ok(Math.abs(total - (ce / n + 0.7 * (eIn / D.nFit + eOut / D.nOut) + 0.025 * reg)) < 1e-12);
});

test('the gradient matches central finite differences (every weight and bias, margins active)', () => {
  const D = data();
  const W0 = weights(k * d, 13);
  for (const T of [1, 2.5]) {
    const f = energyObjective(D, { lambda: 0.3, mIn: -1.5, mOut: 0.5, T, l2: 0.1, W0 });
    const x = new Float64Array(k * d + k);
    x.set(weights(k * d, 15));
    x.set([0.2, 0.1, -0.3], k * d);
    const g = new Float64Array(x.length);
    f(x, g);
    const h = 1e-6;
    const tmp = new Float64Array(x.length);
    for (let p = 0; p < x.length; p++) {
      const xp = Float64Array.from(x); xp[p] += h;
      const xm = Float64Array.from(x); xm[p] -= h;
      const fd = (f(xp, tmp) - f(xm, tmp)) / (2 * h);
      assert.ok(Math.abs(fd - g[p]) <= 1e-6 * Math.max(1, Math.abs(fd)), `T=${T} ∂L/∂x[${p}]: analytic ${g[p]}, finite differences ${fd}`);
    }
  }
});

test('energy is −T·logsumexp(z/T)', () => {
  const z = [1, 2, 3];
  assert.ok(Math.abs(energyOf(z, 0, 3, 1) + Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))) < 1e-12);
  assert.ok(Math.abs(energyOf(z, 0, 3, 2) + 2 * Math.log(Math.exp(0.5) + Math.exp(1) + Math.exp(1.5))) < 1e-12);
});

test('default margins: m_in = the 95th percentile of the fit energies (linear interpolation), m_out = m_in + 5', () => {
  const e = Float64Array.from({ length: 21 }, (_, i) => -10 + i * 0.5); // −10 … 0
  const m = defaultMargins(e);
  // numpy.percentile(e, 95) = e[19] = −0.5
  assert.equal(m.mIn, -0.5);
  assert.equal(m.mOut, -0.5 + M_OUT_GAP);
  assert.equal(M_OUT_GAP, 5);
  assert.deepEqual(defaultMargins(Float64Array.from([NaN, 2, NaN])), { mIn: 2, mOut: 7 });
  assert.throws(() => defaultMargins(Float64Array.from([NaN])), UserError);
});

test('the fit starts from W₀, b₀, lowers the loss, and takes given margins (m_out defaults to m_in + 5)', () => {
  const D = data();
  const W0 = weights(k * d, 13);
  const b0 = Float32Array.from([0.1, 0, -0.1]);
  const fit = fitEnergyLayer(D, W0, b0, { mIn: -2 });
  assert.equal(fit.mOut, 3);
  assert.deepEqual(fit.marginSource, { mIn: 'given', mOut: 'default' });
  assert.ok(fit.loss.after.total < fit.loss.before.total);
  // λ = 0 and a huge pull: the layer stays where it was (only the biases move, by the CE).
  const still = fitEnergyLayer(D, W0, b0, { lambda: 0, l2: 1e6 });
  for (let i = 0; i < W0.length; i++) assert.ok(Math.abs(still.W[i] - W0[i]) < 1e-4);
  assert.throws(() => fitEnergyLayer(D, W0, b0, { mIn: 1, mOut: 0 }), UserError);
});

test('outliers that are a test split are refused: same folder (through a symlink), nested folders, noise with the same seed', async () => {
  const t = tempDir();
  try {
    const a = path.join(t.dir, 'ood_a');
    fs.mkdirSync(path.join(a, 'inner'), { recursive: true });
    fs.mkdirSync(path.join(t.dir, 'ood_b'));
    fs.symlinkSync(a, path.join(t.dir, 'link'));
    await assert.rejects(checkOutlierSource(path.join(t.dir, 'link'), [{ flag: '--ood', source: a }]), (e: Error) => e instanceof UserError && /--ood .*ood_a/.test(e.message));
    await assert.rejects(checkOutlierSource(path.join(a, 'inner'), [{ flag: '--ood', source: a }]), /one folder inside the other/);
    await assert.rejects(checkOutlierSource(a, [{ flag: '--fit', source: path.join(a, 'inner') }]), UserError);
    await assert.rejects(checkOutlierSource('noise:100', [{ flag: '--ood', source: 'noise:300' }]), /same images/);
    await checkOutlierSource('noise:100:7', [{ flag: '--ood', source: 'noise:300' }]);
    await checkOutlierSource(path.join(t.dir, 'ood_b'), [{ flag: '--ood', source: a }]);
    await checkOutlierSource(`${t.dir}/m.csv#split=train_ood`, [{ flag: '--ood', source: `${t.dir}/m.csv#split=test_ood` }]);
    await assert.rejects(checkOutlierSource(`${t.dir}/m.csv`, [{ flag: '--ood', source: `${t.dir}/m.csv#split=test_ood` }]), UserError);
  } finally {
    t.cleanup();
  }
});

/** The final layer alone (input = features), in three spellings. */
function layerModels(W: Float32Array, b: Float32Array): Record<string, Uint8Array> {
  const Wt = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) Wt[j * k + c] = W[c * d + j];
  const make = (nodes: NodeSpec[], inits: TensorSpec[]) => buildModel(nodes, [{ name: 'h', shape: ['N', d] }], [{ name: 'logits', shape: ['N', k] }], inits);
  return {
    // alpha 2, beta 0.5: folded into the new tensors.
    gemm: make([{ op: 'Gemm', inputs: ['h', 'W', 'b'], outputs: ['logits'], attributes: { transB: 1, alpha: { float: 2 }, beta: { float: 0.5 } } }],
      [{ name: 'W', dims: [k, d], data: W.map((v) => v / 2) }, { name: 'b', dims: [k], data: b.map((v) => v * 2) }]),
    matmulAdd: make([{ op: 'MatMul', inputs: ['h', 'W'], outputs: ['mm'] }, { op: 'Add', inputs: ['mm', 'b'], outputs: ['logits'] }],
      [{ name: 'W', dims: [d, k], data: Wt }, { name: 'b', dims: [1, k], data: b, raw: true }]),
    matmulOnly: make([{ op: 'MatMul', inputs: ['h', 'W'], outputs: ['mm'] }, { op: 'Identity', inputs: ['mm'], outputs: ['logits'] }], [{ name: 'W', dims: [d, k], data: Wt }]),
  };
}

test('the exported ONNX computes W′·h + b′ for a Gemm (alpha, beta), a MatMul + Add and a MatMul without bias', async () => {
  const t = tempDir();
  try {
    const W = weights(k * d, 21), b = Float32Array.from([0.5, -0.25, 1]);
    const W2 = weights(k * d, 22), b2 = Float32Array.from([-1, 2, 0.125]);
    const h = weights(5 * d, 23);
    for (const [name, bytes] of Object.entries(layerModels(W, b))) {
      const src = path.join(t.dir, `${name}.onnx`), out = path.join(t.dir, `${name}.energy.onnx`);
      writeFile(src, bytes);
      assert.deepEqual(Array.from(readLastLayer(src, 'logits')!.W), Array.from(W), name);
      await exportFinetunedModel(src, out, 'logits', { W: W2, b: b2, k, d }, { lambda: 0.1 });
      const session = await ort.InferenceSession.create(out);
      const res = await session.run({ h: new ort.Tensor('float32', h, [5, d]) });
      const want = applyLayer(h, 5, d, W2, b2, k);
      const got = res.logits.data as Float32Array;
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `${name}: logit ${i} ${got[i]} vs ${want[i]}`);
      const layer = readLastLayer(out, 'logits')!;
      assert.deepEqual(Array.from(layer.W), Array.from(W2));
      await session.release();
      const written = onnx.ModelProto.decode(fs.readFileSync(out));
      assert.equal(written.metadataProps?.find((p) => p.key === FINETUNE_KEY)?.value, '{"lambda":0.1}');
      // The layer's own initializers are replaced under their names: nothing is left unused.
      assert.deepEqual(written.graph!.initializer!.map((i) => i.name).sort(), name === 'matmulOnly' ? ['W', 'ood_lens_finetuned_b'] : ['W', 'b']);
    }
  } finally {
    t.cleanup();
  }
});

const DEMO = path.join(repoRoot(), 'examples', 'demo');

test('finetune on a demo model: the report section, its schema, and an ONNX that loads and gives W′·h + b′ with the same features', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    const model = path.join(DEMO, 'models', 'ce_seed0.onnx');
    const out = path.join(t.dir, 'ce_seed0.energy.onnx');
    const { report, outPath } = await runFinetune({
      model, fit: path.join(DEMO, 'data', 'id_fit'), outliers: 'noise:200:7', id: path.join(DEMO, 'data', 'id_test'),
      ood: [path.join(DEMO, 'data', 'ood_heldout'), 'noise:100'], out, run: { decodeThreads: 1 },
    });
    assert.equal(outPath, out);
    const f = report.finetune!;
    assert.equal(f.model, 'ce_seed0');
    assert.equal(f.fittedOn, 'id_fit');
    assert.deepEqual(f.outliers, { source: 'noise:200:7', count: 200 });
    assert.equal(f.lambda, 0.1);
    assert.deepEqual(f.marginSource, { mIn: 'default', mOut: 'default' });
    assert.ok(Math.abs(f.mOut - f.mIn - 5) < 1e-9);
    assert.ok(f.layerCheck < 1e-3);
    assert.ok(f.loss.after.total < f.loss.before.total);
    assert.deepEqual(f.splits.map((s) => [s.split, s.role]), [['id_test', 'id'], ['ood_heldout', 'ood'], ['noise', 'ood'], ['id_fit', 'fit'], ['outliers', 'outliers']]);
    const heldout = f.splits[1];
    assert.ok(heldout.before.auroc! > 0.8 && heldout.after.auroc! > 0.5);
    // The "before" numbers are the report's own.
    assert.ok(Math.abs(heldout.before.auroc! - report.ood.find((r) => r.split === 'ood_heldout' && r.score === 'energy')!.auroc) < 1e-12);
    assert.equal(f.splits[4].before.auroc, null, 'training outliers get no AUROC');
    assert.ok(!report.splits.some((s) => s.name === 'outliers'), 'outliers are not a report split');
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(repoRoot(), 'schemas', 'report.schema.json'), 'utf8')));
    assert.ok(validate(JSON.parse(reportJson(report))), JSON.stringify(validate.errors?.slice(0, 3)));

    // Score the original and the fine-tuned model together on the fit split: same features, logits = W′·h + b′.
    const rows = new Map<string, { h: number[]; z: number[] }>();
    await runScore({ models: [model, out], id: path.join(DEMO, 'data', 'id_fit'), scores: ['energy'], decodeThreads: 1 }, {
      onFeatures: (m, split, h, z, n, width) => {
        if (split.role !== 'id') return;
        const r = rows.get(m.name) ?? { h: [], z: [] };
        rows.set(m.name, r);
        r.h.push(...h!.subarray(0, n * width));
        r.z.push(...z);
      },
    });
    const before = rows.get('ce_seed0')!, after = rows.get('ce_seed0.energy')!;
    assert.equal(after.h.length, 500 * 64);
    assert.deepEqual(after.h, before.h);
    const layer = readLastLayer(out, 'logits')!;
    const want = applyLayer(Float32Array.from(after.h), 500, 64, layer.W, layer.b, 5);
    let gap = 0;
    for (let i = 0; i < want.length; i++) gap = Math.max(gap, Math.abs(want[i] - after.z[i]));
    assert.ok(gap < 1e-4, `|logits − (W′h + b′)| ≤ ${gap}`);
    assert.ok(after.z.some((v, i) => Math.abs(v - before.z[i]) > 1e-2), 'the logits changed');
  } finally {
    t.cleanup();
  }
});

test('finetune refuses outliers that are also a test OOD split', async () => {
  const ood = path.join(DEMO, 'data', 'ood_digits');
  await assert.rejects(runFinetune({ model: path.join(DEMO, 'models', 'ce_seed0.onnx'), fit: path.join(DEMO, 'data', 'id_fit'), outliers: ood + '/', ood: [ood] }),
    (e: Error) => e instanceof UserError && /cannot also be a test split/.test(e.message));
});

test('the finetune command refuses shared outliers in one line (exit 1) and asks for what it needs', () => {
  const cli = path.join(__dirname, '..', '..', 'cli.js');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const ood = path.join(DEMO, 'data', 'ood_digits');
  const shared = run(['finetune', '--model', path.join(DEMO, 'models', 'ce_seed0.onnx'), '--fit', path.join(DEMO, 'data', 'id_fit'), '--outliers', ood, '--ood', ood, '--out', '/nonexistent/x.onnx']);
  assert.equal(shared.status, 1);
  assert.match(shared.stderr, /^ood-lens: --outliers .* cannot also be a test split: it overlaps --ood /);
  const missing = run(['finetune', '--model', 'm.onnx', '--fit', 'dir']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /finetune needs --model M.onnx, --fit DIR and --outliers/);
});
