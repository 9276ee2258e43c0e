import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLogitScores, LOGIT_SCORES, predictions, type LogitScoreOptions } from '../../src/engine/scores/logit-scores';
import { computeEnsembleScores, ENSEMBLE_SCORES, klRuleFlags } from '../../src/engine/scores/ensemble-scores';
import { assertAllClose, loadGolden } from '../helpers/golden';

interface LogitCase {
  name: string;
  n: number;
  k: number;
  logits: number[][];
  opts: LogitScoreOptions;
  scores: Record<string, number[]>;
  prediction: number[];
  confidence: number[];
}

const f32 = (rows: number[][]) => Float32Array.from(rows.flat());

test('logit scores match numpy/scipy golden values within 1e-9 (incl. ±1e4 logits, ties, NaN/Inf rows)', () => {
  for (const c of loadGolden<{ cases: LogitCase[] }>('logit-scores').cases) {
    const z = f32(c.logits);
    const s = computeLogitScores(z, c.n, c.k, LOGIT_SCORES, c.opts);
    for (const name of LOGIT_SCORES) assertAllClose(s[name], c.scores[name], 1e-9, `${c.name} ${name}`);
    const p = predictions(z, c.n, c.k);
    assert.deepEqual(Array.from(p.prediction), c.prediction, `${c.name} prediction`);
    assertAllClose(p.confidence, c.confidence, 1e-12, `${c.name} confidence`);
  }
});

test('score orientation: a confident row scores lower (less OOD) than a uniform row on every score', () => {
  const z = Float32Array.from([8, 0, 0, 0, /* uniform */ 1, 1, 1, 1]);
  const s = computeLogitScores(z, 2, 4);
  for (const name of LOGIT_SCORES) assert.ok(s[name][0] < s[name][1], name);
  assert.equal(s.msp[1], -0.25);
  assert.equal(s.max_logit[0], -8);
  assert.ok(Math.abs(s.entropy[1] - Math.log(4)) < 1e-15);
  assert.ok(Math.abs(s.energy[1] - -(1 + Math.log(4))) < 1e-15);
});

test('gen keeps precision where 1 − p underflows naively (p = 1 − 4.5e-17)', () => {
  // z = [40, 3, 0]: 1 − p_max = (e^-37 + e^-40)/(1 + …) ≈ 8.5e-17, which 1 − p would round to 0 or 1.1e-16.
  const s = computeLogitScores(Float32Array.from([40, 3, 0]), 1, 3, ['gen']);
  const e = [1, Math.exp(-37), Math.exp(-40)];
  const S = e[0] + e[1] + e[2];
  const oneMinus = [(e[1] + e[2]) / S, (e[0] + e[2]) / S, (e[0] + e[1]) / S];
  const ref = e.reduce((acc, ej, j) => acc + (ej / S) ** 0.1 * oneMinus[j] ** 0.1, 0);
  assert.ok(ref > 0.02, 'the top class alone contributes (8.5e-17)^0.1 ≈ 0.024');
  assert.ok(Math.abs(s.gen[0] - ref) < 1e-15 * ref, `${s.gen[0]} vs ${ref}`);
});

test('only requested scores are computed', () => {
  const s = computeLogitScores(Float32Array.from([1, 2]), 1, 2, ['energy']);
  assert.deepEqual(Object.keys(s), ['energy']);
});

interface EnsembleGolden {
  n: number;
  k: number;
  members: number[][][];
  scores: Record<string, number[]>;
  prediction: number[];
  confidence: number[];
  meanLogProbs: number[][];
}

test('ensemble scores match numpy golden values within 1e-9', () => {
  const g = loadGolden<EnsembleGolden>('ensemble-scores');
  const r = computeEnsembleScores(g.members.map(f32), g.n, g.k);
  for (const name of ENSEMBLE_SCORES) assertAllClose(r.scores[name], g.scores[name], 1e-9, name);
  assert.deepEqual(Array.from(r.prediction), g.prediction);
  assertAllClose(r.confidence, g.confidence, 1e-12, 'confidence');
  assertAllClose(r.meanLogProbs, g.meanLogProbs.flat(), 1e-6, 'meanLogProbs');
});

test('ensemble: identical members have zero MI, KL and disagreement and reduce to the single-model scores', () => {
  const z = Float32Array.from([3, 1, -2, 0.5, 0.5, 0.4]);
  const r = computeEnsembleScores([z, z, z], 2, 3);
  const single = computeLogitScores(z, 2, 3);
  for (let i = 0; i < 2; i++) {
    assert.ok(r.scores.mutual_info[i] < 1e-15 && r.scores.kl_mean[i] === 0 && r.scores.kl_max[i] === 0);
    assert.equal(r.scores.disagreement[i], 0);
    assert.ok(Math.abs(r.scores.entropy[i] - single.entropy[i]) < 1e-14);
    assert.ok(Math.abs(r.scores.msp[i] - single.msp[i]) < 1e-15);
  }
});

test('KL rule of thumb: flags KL > 10 × mean ID KL, or any class disagreement', () => {
  const klId = Float64Array.from([0.01, 0.03, NaN]); // mean 0.02 → threshold 0.2
  const kl = Float64Array.from([0.1, 0.25, 0.3, 0.05, NaN]);
  const dis = Float64Array.from([0, 0, 0.5, 1 / 3, 0]);
  assert.deepEqual(klRuleFlags(klId, kl, dis), { threshold: 0.2, n: 4, kl: 2, disagree: 2, either: 3 });
});
