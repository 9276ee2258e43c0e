import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MethodSpec } from '../../src/engine/ood/method';
import { ash } from '../../src/engine/ood/methods/ash';
import { dice } from '../../src/engine/ood/methods/dice';
import { react } from '../../src/engine/ood/methods/react';
import { scale } from '../../src/engine/ood/methods/scale';
import { vra } from '../../src/engine/ood/methods/vra';
import { ActivationLog, ashShaping, identityShaping, shapedLogits } from '../../src/engine/ood/shaping';
import { percentile } from '../../src/engine/ood/stats';
import { jsDense } from '../../src/engine/linalg/dense';
import { assertGolden, goldenInputs } from '../helpers/ood-golden';

for (const spec of [react, ash, scale, dice, vra]) {
  test(`${spec.name} matches the float64 reference on every golden case (1e-9 relative)`, () => assertGolden(spec));
}

test('shapedLogits with the identity shaping reproduces the golden logits W·h + b (float32-rounded)', async () => {
  for (const c of goldenInputs()) {
    const { d, k } = c;
    const layer = { W: Float32Array.from(c.W), b: Float32Array.from(c.b), k, d };
    const n = c.test.logits.length / k;
    const z = await shapedLogits(layer, identityShaping, { features: Float32Array.from(c.test.features), logits: Float32Array.from(c.test.logits), labels: new Int32Array(n), n }, jsDense());
    // The tied-logits case overwrote its first three rows' logits with 1.5: they are not W·h + b.
    for (let i = c.name === 'zero-rows-and-ties' ? 3 : 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const want = c.test.logits[i * k + j];
        assert.ok(Math.abs(z[i * k + j] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${c.name}[${i}, ${j}]: ${z[i * k + j]} vs ${want}`);
      }
    }
  }
});

test('shapedLogits gives NaN rows for non-finite features or logits, and the methods NaN scores', async () => {
  const layer = { W: Float32Array.from([1, 0, 0, 1]), b: new Float32Array(2), k: 2, d: 2 };
  const batch = { features: Float32Array.from([1, NaN, 1, 2, 3, 4]), logits: Float32Array.from([0, 0, Infinity, 0, 3, 4]), labels: new Int32Array(3), n: 3 };
  assert.deepEqual([...(await shapedLogits(layer, identityShaping, batch, jsDense()))], [NaN, NaN, NaN, NaN, 3, 4]);
  assert.deepEqual([...(await score(ash, layer, [[1, 1]], [[1, NaN], [1, 2]]))].map(Number.isNaN), [true, false]);
});

test('the in-place percentile of all fit activations equals numpy.percentile (stats.percentile), ties included', async () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const [n, levels] of [[1, 0], [2, 0], [97, 0], [500, 5], [1000, 0], [333, 2]]) {
    const x = Float32Array.from({ length: n }, () => (levels ? Math.floor(rnd() * levels) : rnd() * 10 - 3));
    const qs = [0, 1, 10, 33.3, 50, 85, 90, 99.9, 100];
    const log = new ActivationLog();
    log.push(x, n, 1);
    assert.deepEqual(log.percentiles(qs), qs.map((q) => percentile(x, q)), `n = ${n}`);
  }
});

test('ash keeps d − round(d·p/100) activations, numpy rounding half to even (d = 10, p = 85 keeps 2)', async () => {
  const out = new Float64Array(10);
  ashShaping(85).apply(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0, 10, out);
  assert.deepEqual([...out].map((v) => v !== 0), [false, false, false, false, false, false, false, false, true, true]);
  assert.ok(Math.abs(out[9] - 10 * Math.exp(55 / 19)) < 1e-9 * out[9]);
});

// Hand-computed cases: a clearly ID row (mass on one class's weights) against a flat, weak (OOD-like) row.
const lse = (...z: number[]) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));

async function score(spec: MethodSpec, layer: { W: Float32Array; b: Float32Array; k: number; d: number }, fit: number[][], rows: number[][], params: Record<string, number> = {}): Promise<Float64Array> {
  const { d, k } = layer;
  const det = spec.create({ d, k, layer, params: { ...spec.defaults, ...params }, dense: jsDense() });
  const batch = (r: number[][]) => ({ features: Float32Array.from(r.flat()), logits: new Float32Array(r.length * k), labels: new Int32Array(r.length).fill(-1), n: r.length });
  await det.fit?.(batch(fit));
  await det.finish?.();
  return det.score(batch(rows));
}

const close = (got: number, want: number) => assert.ok(Math.abs(got - want) <= 1e-12 * Math.abs(want), `${got} vs ${want}`);
const eye2 = { W: Float32Array.from([1, 0, 0, 1]), b: new Float32Array(2), k: 2, d: 2 };
const pairs4 = { W: Float32Array.from([1, 1, 0, 0, 0, 0, 1, 1]), b: new Float32Array(2), k: 2, d: 4 };

test('react: clip c = 4.6 (90th percentile of 0,0,0,2,2,4,4,6); a weak flat row scores above a confident one', async () => {
  const [id, ood, big] = await score(react, eye2, [[4, 0], [0, 4], [2, 2], [6, 0]], [[4, 0], [0.5, 0.5], [10, 0]]);
  close(id, -lse(4, 0));
  close(ood, -lse(0.5, 0.5));
  close(big, -lse(4.6, 0)); // the abnormal activation is clipped
  assert.ok(ood > id);
});

test('ash (p = 50): the flat row loses half its mass to pruning, so it scores higher', async () => {
  const [id, ood] = await score(ash, pairs4, [], [[3, 3, 0, 0], [1, 1, 1, 1]], { percentile: 50 });
  close(id, -lse(6 * Math.E, 0)); // top 2 = all the mass: factor e¹
  close(ood, -lse(2 * Math.exp(2), 0)); // top 2 (ties: lowest index) = half the mass: factor e², the rest pruned
  assert.ok(ood > id);
});

test('scale (p = 50): the whole row is scaled by exp(Σh / Σ top-2)', async () => {
  const [id, ood] = await score(scale, pairs4, [], [[3, 3, 0, 0], [1, 1, 1, 1]], { percentile: 50 });
  close(id, -lse(6 * Math.E, 0));
  close(ood, -lse(2 * Math.exp(2), 2 * Math.exp(2)));
  assert.ok(ood > id);
});

test('dice (p = 75): only the two largest contributions survive; a row on the pruned weights scores as b alone', async () => {
  const W = Float32Array.from([1, 1, 0.125, 0.125, 0.125, 0.125, 1, 1]);
  // mean h = [2, 2, 0.5, 0.5] → V = [2, 2, 1/16, 1/16 | 1/4, 1/4, 1/2, 1/2]; 75th percentile 0.5 + 0.25·1.5 = 0.875.
  const [id, ood] = await score(dice, { W, b: new Float32Array(2), k: 2, d: 4 }, [[4, 4, 0, 0], [0, 0, 1, 1]], [[2, 2, 0, 0], [0, 0, 3, 3]], { p: 75 });
  close(id, -lse(4, 0));
  close(ood, -lse(0, 0));
  assert.ok(ood > id);
});

test('vra: α = 0.9, β = 8.1 over fit activations 0…9; low ones zeroed (paper) or raised to α (OpenOOD)', async () => {
  const fit = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]];
  const [id, ood, high] = await score(vra, eye2, fit, [[8, 0.5], [2, 2], [20, 8]]);
  close(id, -lse(8, 0));
  close(ood, -lse(2, 2));
  close(high, -lse(8.1, 8)); // 20 → β, 8 ≤ β kept
  assert.ok(ood > id);
  close((await score(vra, eye2, fit, [[8, 0.5]], { zero_low: 0 }))[0], -lse(8, 0.9));
  close((await score(vra, eye2, fit, [[8, 0.5]], { gamma: 0.25 }))[0], -lse(8.25, 0));
});
