import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch, MethodSpec } from '../../src/engine/ood/method';
import { nnguide } from '../../src/engine/ood/methods/nnguide';
import { relation } from '../../src/engine/ood/methods/relation';
import { topKMean } from '../../src/engine/ood/neighbours';
import { jsDense } from '../../src/engine/linalg/dense';
import { assertGolden } from '../helpers/ood-golden';

test('nnguide matches the float64 reference on every golden case (defaults, 1e-9 relative)', () => assertGolden(nnguide));
test('nnguide matches the reference with a strided bank larger than k (alpha 0.1, k 5)', () => assertGolden(nnguide, 'nnguide-stride'));
test('relation matches the float64 reference on every golden case (defaults, 1e-9 relative)', () => assertGolden(relation));
test('relation matches the reference with pow 2', () => assertGolden(relation, 'relation-pow2'));

/** A batch of rows given as arrays (features width d, logits width k). */
function batch(h: number[][], z: number[][]): Batch {
  return { features: Float32Array.from(h.flat()), logits: Float32Array.from(z.flat()), labels: new Int32Array(h.length).fill(-1), n: h.length };
}

/** Fits `spec` on fit rows streamed in batches of `fitSizes` (cycled), then scores the test rows in one batch. */
async function fitted(spec: MethodSpec, d: number, k: number, params: Record<string, number>, fitH: number[][], fitZ: number[][], fitSizes = [fitH.length]) {
  const det = spec.create({ d, k, layer: null, params: { ...spec.defaults, ...params }, dense: jsDense() });
  for (let at = 0, i = 0; at < fitH.length; i++) {
    const m = Math.min(fitSizes[i % fitSizes.length], fitH.length - at);
    await det.fit!(batch(fitH.slice(at, at + m), fitZ.slice(at, at + m)));
    at += m;
  }
  await det.finish!();
  return det;
}

// Two fit samples, one per class: h = [3, 0] with logits [ln 3, 0] (softmax [3/4, 1/4], logsumexp ln 4), and its
// mirror. ID query: the first one's direction and logits; OOD query: [−1, −1] with flat logits (logsumexp ln 2).
// The expected values use ln 3 as the float32 the detectors get (about 4e-8 from ln 3).
const L3 = Math.fround(Math.log(3));
const LN4 = Math.log(Math.exp(L3) + 1);
const P = Math.exp(L3) / (Math.exp(L3) + 1);
const FIT_H = [[3, 0], [0, 5]];
const FIT_Z = [[L3, 0], [0, L3]];
const TEST = batch([[2, 0], [-1, -1]], [[L3, 0], [0, 0]]);

test('nnguide by hand: an ID row scores −(ln 4)², a far OOD row +ln 2 · ln 4/√2 (higher = more OOD)', async () => {
  // Bank = ln 4 · [1, 0] and ln 4 · [0, 1]; k = 1 takes the largest inner product with the normalized query.
  const s = await (await fitted(nnguide, 2, 2, { k: 1, alpha: 1 }, FIT_H, FIT_Z)).score(TEST);
  assert.ok(Math.abs(s[0] - -(LN4 * LN4)) < 1e-12, `${s[0]}`);
  assert.ok(Math.abs(s[1] - (Math.log(2) * LN4) / Math.SQRT2) < 1e-12, `${s[1]}`);
  assert.ok(s[1] > s[0]);
});

test('relation by hand: an ID row scores −(3/4·3/4 + 1/4·1/4) = −0.625, a row with no positive cosine 0', async () => {
  const s = await (await fitted(relation, 2, 2, {}, FIT_H, FIT_Z)).score(TEST);
  assert.ok(Math.abs(s[0] - -(P * P + (1 - P) * (1 - P))) < 1e-12, `${s[0]}`);
  assert.equal(Math.abs(s[1]), 0);
  assert.ok(s[1] > s[0]);
});

test('non-finite inputs score NaN; an empty fit split scores NaN', async () => {
  for (const spec of [nnguide, relation]) {
    const det = await fitted(spec, 2, 2, {}, [[NaN, 1], ...FIT_H], [[0, 0], ...FIT_Z]);
    const s = await det.score(batch([[2, 0], [Infinity, 0], [1, 1]], [[L3, 0], [0, 0], [0, NaN]]));
    assert.ok(Number.isFinite(s[0]) && Number.isNaN(s[1]) && Number.isNaN(s[2]), `${spec.name}: ${s}`);
    assert.ok(Number.isNaN((await (await fitted(spec, 2, 2, {}, [], [])).score(TEST))[0]), spec.name);
  }
  assert.throws(() => nnguide.create({ d: 2, k: 2, layer: null, params: { k: 10, alpha: 0 }, dense: jsDense() }), /alpha > 0/);
});

// Ties: every fit row appears three times and the queries are equally similar to several of them, so NNGuide's
// k-th neighbour falls inside a group of equal similarities. Scores must be the same bit for bit whatever the fit
// batching, the test batching and order, and (for NNGuide, where the bank is the whole split at alpha 1) the
// order of the fit rows.
const BASE_H = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 2, 2]];
const BASE_Z = [[2, 0, 0], [0, 2, 0], [0, 0, 2], [1, 1, 0], [0, 1, 1]];
const TIE_H = [...BASE_H, ...BASE_H, ...BASE_H];
const TIE_Z = [...BASE_Z, ...BASE_Z, ...BASE_Z];
const Q_H = [[1, 1, 1], [2, 2, 0], [1, 0, 1], [0, 3, 3], [5, 0, 0], [1, 1, 1]];
const Q_Z = [[1, 1, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [3, 0, 0], [1, 1, 1]];

async function scoresEveryWay(spec: MethodSpec, params: Record<string, number>, fitH: number[][], fitZ: number[][], fitSizes: number[]): Promise<Float64Array[]> {
  const det = await fitted(spec, 3, 3, params, fitH, fitZ, fitSizes);
  const all = await det.score(batch(Q_H, Q_Z));
  const single = new Float64Array(Q_H.length);
  for (const [i, h] of Q_H.entries()) single[i] = (await det.score(batch([h], [Q_Z[i]])))[0];
  const reversed = (await det.score(batch([...Q_H].reverse(), [...Q_Z].reverse()))).reverse();
  return [all, single, reversed];
}

test('nnguide with ties in similarity: identical scores whatever the batch order and the fit order', async () => {
  const params = { k: 4, alpha: 1 };
  const ref = (await scoresEveryWay(nnguide, params, TIE_H, TIE_Z, [TIE_H.length]))[0];
  assert.equal(ref[0], ref[5]);
  const perm = TIE_H.map((_, i) => (i * 7) % TIE_H.length);
  for (const [h, z, sizes] of [[TIE_H, TIE_Z, [1]], [TIE_H, TIE_Z, [4, 2]], [perm.map((i) => TIE_H[i]), perm.map((i) => TIE_Z[i]), [3]]] as const) {
    for (const s of await scoresEveryWay(nnguide, params, [...h], [...z], [...sizes])) assert.deepEqual(s, ref);
  }
});

test('relation with ties in similarity: identical scores whatever the fit and test batching', async () => {
  const ref = (await scoresEveryWay(relation, {}, TIE_H, TIE_Z, [TIE_H.length]))[0];
  assert.equal(ref[0], ref[5]);
  for (const sizes of [[1], [4, 2]]) for (const s of await scoresEveryWay(relation, {}, TIE_H, TIE_Z, sizes)) assert.deepEqual(s, ref);
});

test('topKMean: the k largest whatever the order, ties included', async () => {
  const v = Float64Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]);
  const heap = new Float64Array(4);
  assert.equal(topKMean(v, 0, v.length, 4, heap), (9 + 6 + 5 + 5) / 4);
  assert.equal(topKMean(Float64Array.from([...v].reverse()), 0, v.length, 4, heap), (9 + 6 + 5 + 5) / 4);
  assert.equal(topKMean(v, 2, 3, 3, heap), (4 + 1 + 5) / 3);
});
