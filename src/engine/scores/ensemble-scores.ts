// Deep-ensemble OOD scores from the members' logits (all oriented higher = more OOD).
// Each member's row is turned into log-softmax once; probabilities, entropies and KL divergences all come from
// those log-probabilities, and ln p̄ is a log-sum-exp over members, so nothing underflows into log(0).
import { genOfProbs } from './logit-scores';

export const ENSEMBLE_SCORES = ['msp', 'entropy', 'gen', 'mutual_info', 'kl_mean', 'kl_max', 'disagreement'] as const;
export type EnsembleScore = (typeof ENSEMBLE_SCORES)[number];

export interface EnsembleScoreOptions {
  /** GEN exponent γ (default 0.1). */
  genGamma?: number;
  /** GEN uses the M largest mean probabilities (default min(100, C)). */
  genM?: number;
}

export interface EnsembleScores {
  /**
   * msp, entropy, gen of the mean probability p̄; mutual_info = H(p̄) − mean_m H(p_m) (clipped at 0);
   * kl_mean = mean over unordered member pairs of ½[KL(p_i‖p_j) + KL(p_j‖p_i)]; kl_max = max over ordered pairs of
   * KL(p_i‖p_j); disagreement = fraction of unordered pairs whose (first) argmax differs. With a single member there
   * are no pairs and the last three are 0. Rows where any member has a non-finite logit are NaN.
   */
  scores: Record<EnsembleScore, Float64Array>;
  /** First argmax of p̄ (−1 for non-finite rows). */
  prediction: Int32Array;
  /** max p̄ (NaN for non-finite rows). */
  confidence: Float64Array;
  /** ln p̄, n*k: usable as logits for calibration metrics (softmax of it is p̄). */
  meanLogProbs: Float32Array;
}

export function computeEnsembleScores(members: readonly Float32Array[], n: number, k: number, opts: EnsembleScoreOptions = {}): EnsembleScores {
  const M = members.length;
  if (M === 0) throw new Error('ensemble needs at least one member');
  for (const z of members) if (z.length < n * k) throw new Error(`member logits have ${z.length} values, expected ${n}*${k}`);
  const gamma = opts.genGamma ?? 0.1;
  const genM = Math.max(1, Math.min(k, Math.floor(opts.genM ?? Math.min(100, k))));
  const scores = {} as Record<EnsembleScore, Float64Array>;
  for (const name of ENSEMBLE_SCORES) scores[name] = new Float64Array(n);
  const prediction = new Int32Array(n);
  const confidence = new Float64Array(n);
  const meanLogProbs = new Float32Array(n * k);

  const logp = new Float64Array(M * k); // member log-softmax rows
  const probs = new Float64Array(M * k); // member softmax rows
  const argm = new Int32Array(M);
  const pbar = new Float64Array(k);
  const lpbar = new Float64Array(k);
  const select = new Float64Array(k);
  const pairs = (M * (M - 1)) / 2;

  for (let r = 0; r < n; r++) {
    const off = r * k;
    let finite = k > 0;
    for (let m = 0; m < M && finite; m++) {
      argm[m] = logSoftmaxRow(members[m], off, k, logp, probs, m * k);
      if (argm[m] < 0) finite = false;
    }
    if (!finite) {
      for (const name of ENSEMBLE_SCORES) scores[name][r] = NaN;
      prediction[r] = -1;
      confidence[r] = NaN;
      meanLogProbs.fill(NaN, off, off + k);
      continue;
    }

    let memberEntropy = 0;
    for (let t = 0; t < M * k; t++) memberEntropy -= (probs[t] * logp[t]) / M;
    // ln p̄_j = ln(mean_m p_mj), or a log-sum-exp over members where that mean is too small to take the log of.
    let arg = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += probs[m * k + j];
      let l: number;
      if (s > 1e-280) {
        l = Math.log(s / M);
      } else {
        let mx = -Infinity;
        for (let m = 0; m < M; m++) if (logp[m * k + j] > mx) mx = logp[m * k + j];
        let e = 0;
        for (let m = 0; m < M; m++) e += Math.exp(logp[m * k + j] - mx);
        l = mx + Math.log(e / M);
      }
      lpbar[j] = l;
      pbar[j] = Math.exp(l);
      meanLogProbs[off + j] = l;
      if (l > lpbar[arg]) arg = j;
    }
    let H = 0;
    for (let j = 0; j < k; j++) H -= pbar[j] * lpbar[j];

    let klSum = 0;
    let klMax = 0;
    let differ = 0;
    for (let a = 0; a < M; a++) {
      for (let b = a + 1; b < M; b++) {
        const ab = kl(probs, logp, a * k, b * k, k);
        const ba = kl(probs, logp, b * k, a * k, k);
        klSum += 0.5 * (ab + ba);
        if (ab > klMax) klMax = ab;
        if (ba > klMax) klMax = ba;
        if (argm[a] !== argm[b]) differ++;
      }
    }

    prediction[r] = arg;
    confidence[r] = pbar[arg];
    scores.msp[r] = -pbar[arg];
    scores.entropy[r] = H;
    scores.gen[r] = genOfProbs(pbar, k, gamma, genM, select);
    scores.mutual_info[r] = Math.max(0, H - memberEntropy);
    scores.kl_mean[r] = pairs > 0 ? klSum / pairs : 0;
    scores.kl_max[r] = klMax;
    scores.disagreement[r] = pairs > 0 ? differ / pairs : 0;
  }
  return { scores, prediction, confidence, meanLogProbs };
}

/** Writes log-softmax and softmax of z[off..off+k) at dOff; returns the first argmax, or −1 for a non-finite row. */
function logSoftmaxRow(z: Float32Array, off: number, k: number, logp: Float64Array, probs: Float64Array, dOff: number): number {
  let mx = -Infinity;
  let arg = -1;
  for (let j = 0; j < k; j++) {
    const v = z[off + j];
    if (!Number.isFinite(v)) return -1;
    if (v > mx) { mx = v; arg = j; }
  }
  let s = 0;
  for (let j = 0; j < k; j++) {
    const e = Math.exp(z[off + j] - mx);
    probs[dOff + j] = e;
    s += e;
  }
  const lse = mx + Math.log(s);
  for (let j = 0; j < k; j++) {
    logp[dOff + j] = z[off + j] - lse;
    probs[dOff + j] /= s;
  }
  return arg;
}

/** KL(p_a ‖ p_b) = Σ p_a (ln p_a − ln p_b) from log-probabilities; underflowed p_a terms contribute 0. */
function kl(probs: Float64Array, logp: Float64Array, a: number, b: number, k: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) s += probs[a + j] * (logp[a + j] - logp[b + j]);
  return s > 0 ? s : 0;
}

export interface KlRuleCounts {
  /** factor × mean KL over the finite ID values. */
  threshold: number;
  /** Samples with a finite KL and disagreement value (the denominator for the counts). */
  n: number;
  /** KL > threshold. */
  kl: number;
  /** Members disagree on the predicted class (disagreement > 0). */
  disagree: number;
  either: number;
}

/**
 * Rule of thumb for ensembles: flag a sample when its member KL exceeds `factor` × the mean KL on the ID split,
 * or when the members disagree on the class. Pass the same KL statistic (e.g. kl_mean) for klId and kl.
 */
export function klRuleFlags(klId: Float64Array, kl: Float64Array, disagreement: Float64Array, factor = 10): KlRuleCounts {
  let sum = 0;
  let cnt = 0;
  for (let i = 0; i < klId.length; i++) if (Number.isFinite(klId[i])) { sum += klId[i]; cnt++; }
  const threshold = cnt > 0 ? (factor * sum) / cnt : NaN;
  const out: KlRuleCounts = { threshold, n: 0, kl: 0, disagree: 0, either: 0 };
  for (let i = 0; i < kl.length; i++) {
    if (!Number.isFinite(kl[i]) || !Number.isFinite(disagreement[i])) continue;
    out.n++;
    const byKl = kl[i] > threshold;
    const byDisagree = disagreement[i] > 0;
    if (byKl) out.kl++;
    if (byDisagree) out.disagree++;
    if (byKl || byDisagree) out.either++;
  }
  return out;
}
