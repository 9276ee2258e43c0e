// The class-statistics OOD methods (klm, she, rmds, residual, neco, nci, fdbd): each against its float64 numpy
// reference on the shared golden inputs (scripts/ood_golden/class_stats.py), and each on a small hand-computed case
// whose clearly OOD row must score above its clearly ID row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MethodSpec } from '../../src/engine/ood/method';
import { fdbd } from '../../src/engine/ood/methods/fdbd';
import { klm } from '../../src/engine/ood/methods/klm';
import { nci } from '../../src/engine/ood/methods/nci';
import { neco } from '../../src/engine/ood/methods/neco';
import { residual } from '../../src/engine/ood/methods/residual';
import { rmds } from '../../src/engine/ood/methods/rmds';
import { she } from '../../src/engine/ood/methods/she';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsDense } from '../../src/engine/linalg/dense';
import { assertGolden, goldenInputs } from '../helpers/ood-golden';

for (const spec of [klm, she, rmds, residual, neco, nci, fdbd]) {
  test(`${spec.name} matches the float64 reference on every golden case (1e-9 relative)`, () => assertGolden(spec));
}

interface Hand {
  d: number; k: number; W?: number[]; b?: number[];
  fit: { h: number[][]; z: number[][]; y?: number[] };
  test: { h: number[][]; z: number[][] };
  params?: Record<string, number>;
}

/** Fits `spec` on one hand-made batch and scores the test rows. */
async function run(spec: MethodSpec, c: Hand): Promise<number[]> {
  const { d, k } = c;
  const layer = c.W ? { W: Float32Array.from(c.W), b: Float32Array.from(c.b ?? new Array(k).fill(0)), k, d } : null;
  const det = spec.create({ d, k, layer, params: { ...spec.defaults, ...c.params }, dense: jsDense() });
  const n = c.fit.z.length;
  await det.fit?.({ features: Float32Array.from(c.fit.h.flat()), logits: Float32Array.from(c.fit.z.flat()), labels: Int32Array.from(c.fit.y ?? new Array(n).fill(-1)), n });
  await det.finish?.();
  const m = c.test.z.length;
  return [...await det.score({ features: Float32Array.from(c.test.h.flat()), logits: Float32Array.from(c.test.z.flat()), labels: new Int32Array(m).fill(-1), n: m })];
}

const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

test('klm: a posterior equal to its class template scores 0, a uniform one its KL to the nearest template', async () => {
  // Templates: softmax([2, 0]) for class 0 and its mirror for class 1.
  const [id, ood] = await run(klm, { d: 0, k: 2, fit: { h: [], z: [[2, 0], [2, 0], [0, 2], [0, 2]] }, test: { h: [], z: [[2, 0], [0, 0]] } });
  const s = 1 / (1 + Math.exp(-2));
  close(id, 0, 'ID');
  close(ood, 0.5 * Math.log(0.5 / s) + 0.5 * Math.log(0.5 / (1 - s)), 'OOD');
  assert.ok(ood > id);
});

test('she: −h·S_ŷ with patterns from correctly predicted labelled rows only; no pattern → NaN', async () => {
  const [id, ood, none] = await run(she, {
    d: 2, k: 3,
    // S_0 = mean([1,0], [3,0]) = [2,0]; [5,5] is labelled 1 but predicted 0, so left out; class 2 never correct.
    fit: { h: [[1, 0], [3, 0], [0, 2], [5, 5], [1, 1]], z: [[1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0]], y: [0, 0, 1, 1, 2] },
    test: { h: [[2, 0], [0.5, 0.5], [1, 1]], z: [[1, 0, 0], [1, 0, 0], [0, 0, 1]] },
  });
  close(id, -4, 'ID');
  close(ood, -1, 'OOD');
  assert.ok(ood > id);
  assert.ok(Number.isNaN(none), 'class without a pattern');
});

test('rmds: 1-D classes at ±2 (within variance 1) against a background of variance 5', async () => {
  const [id, between, far] = await run(rmds, {
    d: 1, k: 2,
    fit: { h: [[-3], [-1], [1], [3]], z: [[0, 0], [0, 0], [0, 0], [0, 0]], y: [0, 0, 1, 1] },
    test: { h: [[2], [0], [10]], z: [[0, 0], [0, 0], [0, 0]] },
  });
  close(id, 0 - 4 / 5, 'at the class mean');
  close(between, 4 - 0, 'between the classes');
  close(far, 64 - 100 / 5, 'far');
  assert.ok(id < between && between < far);
});

test('residual: the principal axis of the fit features scores 0, the orthogonal one its length', async () => {
  // W = [1, 0], b = 0: origin u = 0; dim = ⌊2/2⌋ = 1, the fit features spread along the first axis.
  const [id, ood] = await run(residual, {
    d: 2, k: 1, W: [1, 0], b: [0],
    fit: { h: [[1, 0], [2, 0], [3, 0], [0, 0.1]], z: [[1], [2], [3], [0]] },
    test: { h: [[5, 0], [0, 3]], z: [[5], [0]] },
  });
  close(id, 0, 'ID');
  close(ood, 3, 'OOD');
});

test('neco: standardized features on the fit line keep their whole norm in the subspace, off it none', async () => {
  // Fit features on the line x₂ = 2x₁: standardized, both coordinates are equal, so the top component is (1, 1)/√2.
  // Mean (2, 4), ML standard deviations (1, 2): [3, 6] standardizes to (1, 1), [3, 2] to (1, −1).
  const fit = { h: [[1, 2], [3, 6], [1, 2], [3, 6]], z: [[0], [0], [0], [0]] };
  const [id, ood] = await run(neco, { d: 2, k: 1, fit, test: { h: [[3, 6], [3, 2]], z: [[0], [0]] } });
  close(id, -1, 'ID');
  close(ood, 0, 'OOD');
  // Without standardization: centred PCA, uncentred denominator.
  const [id2, ood2] = await run(neco, { d: 2, k: 1, params: { standardize: 0 }, fit: { h: [[-1, 0], [1, 0], [-2, 0], [2, 0]], z: [[0], [0], [0], [0]] }, test: { h: [[3, 0], [0, 3]], z: [[0], [0]] } });
  close(id2, -1, 'ID, not standardized');
  close(ood2, 0, 'OOD, not standardized');
});

test('nci: a feature along its class weight scores below one between the classes', async () => {
  // W = I, μ_G = 0; the OOD row has tied logits, so ŷ = 0 (first maximum).
  const [id, ood] = await run(nci, {
    d: 2, k: 2, W: [1, 0, 0, 1], b: [0, 0],
    fit: { h: [[1, 0], [-1, 0], [0, 1], [0, -1]], z: [[1, 0], [-1, 0], [0, 1], [0, -1]] },
    test: { h: [[3, 0], [0.1, 0.1]], z: [[3, 0], [0.1, 0.1]] },
  });
  close(id, -(1 + 0.0001 * 3), 'ID');
  close(ood, -(Math.SQRT1_2 + 0.0001 * Math.fround(0.1) * 2), 'OOD');
  assert.ok(ood > id);
});

test('fdbd: a feature on the decision boundary scores 0, one far from it −(3/√2)/3', async () => {
  const [id, ood] = await run(fdbd, {
    d: 2, k: 2, W: [1, 0, 0, 1], b: [0, 0],
    fit: { h: [[1, 0], [-1, 0], [0, 1], [0, -1]], z: [[1, 0], [-1, 0], [0, 1], [0, -1]] },
    test: { h: [[3, 0], [1, 1]], z: [[3, 0], [1, 1]] },
  });
  close(id, -Math.SQRT1_2, 'ID');
  close(ood, 0, 'OOD');
  assert.ok(ood > id);
});

// The golden "rank-deficient" case has full-rank covariances (np.abs after the low-rank map), so exact singularity
// is made here: a copied feature column. A Mahalanobis form with pseudo-inverses is unchanged by that copy (for
// A = [I; e₀ᵀ], (AΣAᵀ)⁺ = A⁺ᵀΣ⁻¹A⁺), so the scores must stay those of the golden file.
test('rmds: a copied feature column (exactly singular covariances) leaves every golden score unchanged', async () => {
  const want = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'ood', 'rmds.json'), 'utf8')).scores;
  // Not on the rank-deficient case: float32 rounding already leaves eigenvalues at the rank cut-off there, so a
  // copied column (d + 1 moves the cut-off) flips which count, and the OOD rows off the subspace move a lot.
  for (const c of goldenInputs().filter((x) => x.name !== 'rank-deficient')) {
    const { d, k } = c;
    const widen = (x: number[]) => {
      const n = x.length / d;
      return Float32Array.from({ length: n * (d + 1) }, (_, t) => x[Math.floor(t / (d + 1)) * d + (t % (d + 1) === d ? 0 : t % (d + 1))]);
    };
    const det = rmds.create({ d: d + 1, k, layer: null, params: {}, dense: jsDense() });
    const nf = c.fit.labels.length;
    await det.fit!({ features: widen(c.fit.features), logits: Float32Array.from(c.fit.logits), labels: Int32Array.from(c.fit.labels), n: nf });
    await det.finish!();
    const nt = c.test.logits.length / k;
    const got = await det.score({ features: widen(c.test.features), logits: Float32Array.from(c.test.logits), labels: new Int32Array(nt).fill(-1), n: nt });
    (want[c.name] as number[]).forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-9 * Math.abs(e) + 1e-12, `${c.name}[${i}]: ${got[i]} vs ${e}`));
  }
});

test('residual and neco: fit features spanning fewer directions than dim keep the whole null space out of P', async () => {
  // Rank 1 (the first axis) below dim = ⌊4/2⌋ = 2: any split of the 3-D null space would be arbitrary.
  const fit = { h: [[1, 0, 0, 0], [2, 0, 0, 0], [-3, 0, 0, 0], [4, 0, 0, 0]], z: [[0], [0], [0], [0]] };
  const test = { h: [[0, 3, 4, 0], [2, 0, 0, 0]], z: [[0], [0]] };
  const [off, on] = await run(residual, { d: 4, k: 1, W: [1, 0, 0, 0], b: [0], fit, test });
  close(off, 5, 'residual off the span');
  close(on, 0, 'residual on the span');
  const [off2, on2] = await run(neco, { d: 4, k: 1, params: { standardize: 0 }, fit, test: { h: [[1, 3, 4, 0], [2, 0, 0, 0]], z: [[0], [0]] } });
  // μ = (1, 0, 0, 0): the first row's centred part (0, 3, 4, 0) is all null space.
  close(off2, 0, 'neco off the span');
  close(on2, -0.5, 'neco on the span: ‖P(h − μ)‖/‖h‖ = 1/2');
});
