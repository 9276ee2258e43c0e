import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseAttackSpec, resolveMember } from '../../src/engine/attack/spec';
import { randomSearch, squareSide, type Evaluate } from '../../src/engine/attack/search';
import { attackPixelsFor } from '../../src/engine/attack/tensors';
import { plainSpec } from '../../src/engine/image/preprocess';
import { noisePixels } from '../../src/engine/dataset/noise';
import { runScore } from '../../src/engine/run';
import type { Report } from '../../src/engine/report/types';
import { UserError } from '../../src/engine/util/errors';
import { repoRoot } from '../helpers/golden';

test('attack:N[:member] is parsed; the member is a model name, else an index from 0', () => {
  assert.deepEqual(parseAttackSpec('attack:100'), { count: 100 });
  assert.deepEqual(parseAttackSpec(' attack:5:ce_seed1 '), { count: 5, member: 'ce_seed1' });
  assert.equal(parseAttackSpec('noise:5'), null);
  assert.equal(parseAttackSpec('attacks/folder'), null);
  assert.throws(() => parseAttackSpec('attack:0'), UserError);
  const models = [{ name: 'a' }, { name: 'b' }, { name: '0' }];
  assert.equal(resolveMember({ count: 1 }, models).name, 'a');
  assert.equal(resolveMember({ count: 1, member: 'b' }, models).name, 'b');
  assert.equal(resolveMember({ count: 1, member: '1' }, models).name, 'b');
  assert.equal(resolveMember({ count: 1, member: '0' }, models).name, '0', 'a name wins over an index');
  assert.throws(() => resolveMember({ count: 1, member: '7' }, models), /no model "7"/);
});

test('the square shrinks from half the image to one pixel over the steps', () => {
  assert.equal(squareSide(0, 300, 28, 28), 14);
  assert.equal(squareSide(150, 300, 28, 28), 7);
  assert.equal(squareSide(299, 300, 28, 28), 1);
  assert.equal(squareSide(0, 10, 1, 1), 1);
});

/** A stand-in model: "confidence" grows with the mean brightness of each image's first channel. */
function brightness(size: number, C: number): Evaluate & { calls: number } {
  const f = async (px: Uint8Array, m: number) => {
    f.calls++;
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < size; j += C) s += px[i * size + j];
      out[i] = s / (255 * (size / C));
    }
    return out;
  };
  f.calls = 0;
  return f;
}

test('the search is deterministic for a seed, each input independent of the others, and only climbs', async () => {
  const o = { count: 6, height: 8, width: 8, channels: 3 as const, seed: 5, steps: 120, target: 0.65 };
  const a = await randomSearch(brightness(192, 3), o);
  const b = await randomSearch(brightness(192, 3), o);
  assert.deepEqual(a.pixels, b.pixels);
  assert.deepEqual(a.confidence, b.confidence);
  assert.equal(a.evaluations, b.evaluations);
  const other = await randomSearch(brightness(192, 3), { ...o, seed: 6 });
  assert.notDeepEqual(other.pixels, a.pixels);
  // The first inputs of a larger attack are the same images: an input's search does not depend on the batch.
  const more = await randomSearch(brightness(192, 3), { ...o, count: 9 });
  assert.deepEqual(more.pixels.subarray(0, a.pixels.length), a.pixels);
  // It starts from noise:N with the same seed and never gets worse.
  const start = await brightness(192, 3)(Uint8Array.from(Array.from({ length: 6 }, (_, i) => [...noisePixels(i, 5, 8, 8, 3)]).flat()), 6);
  for (let i = 0; i < 6; i++) assert.ok(a.confidence[i] >= start[i]);
  assert.ok(a.confidence.every((c) => c >= 0.65), `reached the target: ${Array.from(a.confidence)}`);
});

test('a cancel stops the search at once, keeping what it reached', async () => {
  const ctl = new AbortController();
  const res = await randomSearch(brightness(64, 1), { count: 3, height: 8, width: 8, channels: 1, seed: 0, steps: 100, target: 0.99, signal: ctl.signal, onStep: (t) => t === 4 && ctl.abort() });
  assert.equal(res.cancelled, true);
  assert.equal(res.stepsUsed, 4);
});

test('attack images reach a member with another input size through PIL resizing and luma', () => {
  const r = { member: 'm', height: 4, width: 4, channels: 3 as const, pixels: new Uint8Array(2 * 48).fill(200), confidence: new Float64Array(2), target: 0.8, steps: 1, stepsUsed: 1, evaluations: 2, seconds: 0, cancelled: false };
  assert.equal(attackPixelsFor(r, 1, plainSpec('NCHW', 3, 4, 4)).length, 48);
  const gray = attackPixelsFor(r, 1, plainSpec('NCHW', 1, 2, 2));
  assert.deepEqual(Array.from(gray), [200, 200, 200, 200]);
});

const DEMO = path.join(repoRoot(), 'examples', 'demo');

async function attackRun(spec: string, seed?: number): Promise<Report> {
  return runScore({
    models: ['ce_seed0', 'ce_seed1', 'ce_seed2'].map((m) => path.join(DEMO, 'models', `${m}.onnx`)),
    id: path.join(DEMO, 'data', 'id_test'), ood: [spec], scores: ['msp', 'energy'], seed, attack: { steps: 150 }, decodeThreads: 1,
  });
}

test('an attack split on the demo ensemble: same seed, same inputs and numbers; the member is fooled; every score and the rule report', { timeout: 120_000 }, async () => {
  const [a, b, c] = [await attackRun('attack:30'), await attackRun('attack:30'), await attackRun('attack:30', 4)];
  const row = a.attack![0];
  const strip = (r: Report) => ({ ...r.attack![0], seconds: 0 });
  assert.deepEqual(strip(a), strip(b));
  const attackScores = (r: Report) => r.samples.filter((s) => s.split === 'attack').map((s) => s.scores);
  assert.deepEqual(attackScores(a), attackScores(b));
  assert.notDeepEqual(attackScores(a), attackScores(c), 'another seed searches other inputs');
  assert.equal(row.member, 'ce_seed0');
  assert.equal(row.count, 30);
  assert.equal(row.target, 0.8);
  // The scored inputs are the searched ones: the member's max softmax in the report agrees with the search.
  const reached = a.samples.filter((s) => s.split === 'attack' && -(s.scores.ce_seed0.msp as number) >= 0.8).length;
  assert.equal(reached, row.success);
  assert.ok(row.successRate >= 0.9, `success ${row.successRate}`);
  assert.deepEqual([...new Set(row.flagged.map((f) => f.model))], ['ce_seed0', 'ce_seed1', 'ce_seed2', 'ensemble']);
  const t = a.thresholds.find((x) => x.model === 'ce_seed1' && x.score === 'energy')!;
  assert.equal(row.flagged.find((f) => f.model === 'ce_seed1' && f.score === 'energy')!.fraction, t.flagged.attack);
  assert.ok(row.ensembleRule && row.ensembleRule.n === 30 && row.ensembleRule.fraction === row.ensembleRule.either / 30);
  const second = await attackRun('attack:10:1');
  assert.equal(second.attack![0].member, 'ce_seed1');
});
