// Post-hoc OOD scores from classifier logits, all oriented higher = more OOD.
// Every row is shifted by its max logit m (log-sum-exp trick) and evaluated in float64. With e_j = exp(z_j − m)
// and rest = Σ_{j≠argmax} e_j, the normalizer is S = 1 + rest, so 1 − p_max = rest / S and ln S = log1p(rest)
// never lose precision for confident samples (where 1 − p would round to 0).

import { kthSmallest } from './select';

export const LOGIT_SCORES = ['msp', 'max_logit', 'entropy', 'energy', 'gen', 'odin_t'] as const;
export type LogitScore = (typeof LOGIT_SCORES)[number];

export interface LogitScoreOptions {
  /** Energy temperature (default 1). */
  energyT?: number;
  /** GEN exponent γ (default 0.1). */
  genGamma?: number;
  /** GEN uses the M largest probabilities (default min(100, C)). */
  genM?: number;
  /** ODIN temperature, without input perturbation (default 1000). */
  odinT?: number;
}

/**
 * msp = −max p; max_logit = −max z; entropy = −Σ p ln p; energy = −T·logsumexp(z/T);
 * gen = Σ over the M largest p of p^γ(1−p)^γ (Liu et al., CVPR 2023); odin_t = −max softmax(z/T).
 * Rows with any non-finite logit give NaN for every score.
 */
export function computeLogitScores(
  logits: Float32Array,
  n: number,
  k: number,
  names: readonly LogitScore[] = LOGIT_SCORES,
  opts: LogitScoreOptions = {},
): Record<string, Float64Array> {
  const energyT = opts.energyT ?? 1;
  const gamma = opts.genGamma ?? 0.1;
  const M = Math.max(1, Math.min(k, Math.floor(opts.genM ?? Math.min(100, k))));
  const odinT = opts.odinT ?? 1000;
  const want = new Set<string>(names);
  const out: Record<string, Float64Array> = {};
  for (const name of names) out[name] = new Float64Array(n);
  const msp = out.msp;
  const maxLogit = out.max_logit;
  const entropy = out.entropy;
  const energy = out.energy;
  const gen = out.gen;
  const odin = out.odin_t;

  const e = new Float64Array(k); // exp(z − m) of the current row
  const select = want.has('gen') && M < k ? new Float64Array(k) : null;

  for (let r = 0; r < n; r++) {
    const off = r * k;
    let m = -Infinity;
    let arg = 0;
    let finite = true;
    for (let j = 0; j < k; j++) {
      const z = logits[off + j];
      if (!Number.isFinite(z)) finite = false;
      else if (z > m) { m = z; arg = j; }
    }
    if (!finite || k === 0) {
      for (const name of names) out[name][r] = NaN;
      continue;
    }
    let rest = 0;
    let weighted = 0; // Σ_{j≠arg} e_j (z_j − m), ≤ 0
    for (let j = 0; j < k; j++) {
      const d = logits[off + j] - m;
      const ej = Math.exp(d);
      e[j] = ej;
      if (j !== arg) { rest += ej; weighted += ej * d; }
    }
    const S = 1 + rest;
    const logS = Math.log1p(rest);
    if (msp) msp[r] = -1 / S;
    if (maxLogit) maxLogit[r] = -m;
    // −Σ p ln p = ln S − (1/S) Σ e_j (z_j − m): a sum of two non-negative terms.
    if (entropy) entropy[r] = logS - weighted / S;
    if (energy) energy[r] = energyT === 1 ? -m - logS : -m - energyT * Math.log1p(restAt(logits, off, k, m, arg, energyT));
    if (odin) odin[r] = -1 / (1 + restAt(logits, off, k, m, arg, odinT));
    if (gen) gen[r] = genScore(e, k, arg, rest, S, gamma, M, select);
  }
  return out;
}

/** Σ_{j≠arg} exp((z_j − m)/T): the softmax(z/T) normalizer minus the top term. */
function restAt(logits: Float32Array, off: number, k: number, m: number, arg: number, T: number): number {
  let rest = 0;
  for (let j = 0; j < k; j++) if (j !== arg) rest += Math.exp((logits[off + j] - m) / T);
  return rest;
}

/**
 * GEN over the M largest probabilities. 1 − p_arg = rest/S exactly; for any other class
 * S − e_j = 1 + (rest − e_j) ≥ 1, so (S − e_j)/S has no cancellation either.
 */
function genScore(e: Float64Array, k: number, arg: number, rest: number, S: number, gamma: number, M: number, select: Float64Array | null): number {
  let sum = 0;
  if (!select) {
    for (let j = 0; j < k; j++) sum += genTerm(e, j, arg, rest, S, gamma);
    return sum;
  }
  // Only the M largest: find the M-th largest e (quickselect), take everything above it and the rest from ties.
  select.set(e);
  const thr = kthLargest(select, k, M);
  let above = 0;
  let tieIdx = -1;
  for (let j = 0; j < k; j++) {
    if (e[j] > thr) { sum += genTerm(e, j, arg, rest, S, gamma); above++; }
    else if (e[j] === thr && tieIdx < 0) tieIdx = j;
  }
  return sum + (M - above) * genTerm(e, tieIdx, arg, rest, S, gamma);
}

/** p^γ (1 − p)^γ for class j. */
function genTerm(e: Float64Array, j: number, arg: number, rest: number, S: number, gamma: number): number {
  const q = j === arg ? rest / S : (1 + (rest - e[j])) / S;
  return Math.pow((e[j] / S) * q, gamma); // p·q ≥ min(p, q)/2 as one of them is ≥ ½: no extra underflow
}

/**
 * GEN of a probability vector p (e.g. an ensemble mean): for j ≠ argmax, p_j ≤ ½ so 1 − p_j is exact to an ulp;
 * for the argmax, 1 − p is the sum of the others. `select` is scratch of length k, needed when M < k.
 */
export function genOfProbs(p: Float64Array, k: number, gamma: number, M: number, select: Float64Array): number {
  let arg = 0;
  for (let j = 1; j < k; j++) if (p[j] > p[arg]) arg = j;
  let restArg = 0;
  for (let j = 0; j < k; j++) if (j !== arg) restArg += p[j];
  const thr = M < k ? (select.set(p.subarray(0, k)), kthLargest(select, k, M)) : -Infinity;
  let sum = 0;
  let above = 0;
  let tieTerm = 0;
  for (let j = 0; j < k; j++) {
    if (p[j] < thr) continue;
    const t = Math.pow(p[j] * (j === arg ? restArg : 1 - p[j]), gamma);
    if (p[j] > thr) { sum += t; above++; }
    else tieTerm = t;
  }
  return M < k ? sum + (M - above) * tieTerm : sum;
}

/** The M-th largest of a[0..k) (1-based M), reordering a. */
function kthLargest(a: Float64Array, k: number, M: number): number {
  return kthSmallest(a, k, k - M + 1);
}

/** First argmax and max softmax per row; rows with a non-finite logit give prediction −1 and confidence NaN. */
export function predictions(logits: Float32Array, n: number, k: number): { prediction: Int32Array; confidence: Float64Array } {
  const prediction = new Int32Array(n);
  const confidence = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const off = r * k;
    let m = -Infinity;
    let arg = 0;
    let finite = k > 0;
    for (let j = 0; j < k; j++) {
      const z = logits[off + j];
      if (!Number.isFinite(z)) finite = false;
      else if (z > m) { m = z; arg = j; }
    }
    if (!finite) {
      prediction[r] = -1;
      confidence[r] = NaN;
      continue;
    }
    let S = 0;
    for (let j = 0; j < k; j++) S += Math.exp(logits[off + j] - m);
    prediction[r] = arg;
    confidence[r] = 1 / S;
  }
  return { prediction, confidence };
}
