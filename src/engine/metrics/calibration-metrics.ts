// Calibration metrics of softmax(logits) against labels. Works unchanged on log-probabilities (softmax of ln p is p),
// e.g. an ensemble's meanLogProbs. Probabilities come from a max-shifted log-softmax in float64.
import type { ReliabilityBin } from '../report/types';
import { debiasedEce, topLabelEce } from './binned-estimators';
import { smece } from './smece';

export interface CalibrationOptions {
  /** Bins for ece, ece_em, mce, classwise_ece, ece_debiased, ece_toplabel and the reliability diagram (default 15). */
  bins?: number;
}

export interface CalibrationMetrics {
  /** Samples used: labelled, label in [0, k), finite logits. */
  n: number;
  /** label −1. */
  n_unlabelled: number;
  /** label ≥ k or < −1. */
  n_invalid_label: number;
  /** Rows with a non-finite logit. */
  n_nonfinite: number;
  accuracy: number;
  /** Equal-width bins (lo, hi] on max p (confidence 0 goes in the first bin): Σ_b (n_b/N)|acc_b − conf_b|. */
  ece: number;
  /**
   * Equal-mass bins: samples sorted by confidence (ties by input order, a stable sort), then split into `bins`
   * contiguous chunks as numpy.array_split does (the first N mod B chunks get one extra sample); same sum as ece.
   */
  ece_em: number;
  /** Max |acc_b − conf_b| over non-empty equal-width bins. */
  mce: number;
  /** Mean over classes c of the equal-width ECE of p_c against 1[y = c], every sample in every class's bins. */
  classwise_ece: number;
  /** (1/N) Σ_i Σ_c (p_ic − 1[c = y_i])². */
  brier: number;
  /** SmoothECE of the top label as relplot 1.0.3 computes it (smece.ts). */
  smece: number;
  /** The bandwidth σ of that smECE (relplot's fixed-point search). */
  smece_bandwidth: number;
  /** Kumar et al.'s debiased l2 calibration error over equal-mass bins (binned-estimators.ts). */
  ece_debiased: number;
  /** Gupta & Ramdas' top-label ECE: equal-width bins per predicted class, weighted by class frequency. */
  ece_toplabel: number;
  /** Mean −ln p_{i,y_i}. */
  nll: number;
  bins: ReliabilityBin[];
  /** Per used sample (not written to the report): top confidence, correctness, equal-width bin. */
  confidences: Float64Array;
  correct: Uint8Array;
  binOf: Int32Array;
  /** Why samples were excluded, or why metrics are NaN. */
  messages: string[];
}

/** Equal-width edges exactly as numpy.linspace(0, 1, B + 1) computes them. */
export function binEdges(B: number): Float64Array {
  const edges = new Float64Array(B + 1);
  const step = 1 / B;
  for (let i = 0; i < B; i++) edges[i] = i * step;
  edges[B] = 1;
  return edges;
}

/** Bin of x for (lo, hi] bins, i.e. searchsorted(edges, x, 'left') − 1, clamped so 0 joins the first bin. */
export function binIndex(edges: Float64Array, x: number): number {
  const B = edges.length - 1;
  // ceil(x·B) − 1 is right up to rounding next to an edge; the two loops settle it against the exact edges.
  let b = Math.min(B - 1, Math.max(0, Math.ceil(x * B) - 1));
  while (b > 0 && x <= edges[b]) b--;
  while (b < B - 1 && x > edges[b + 1]) b++;
  return b;
}

export function calibrationMetrics(logits: Float32Array, labels: Int32Array, n: number, k: number, opts: CalibrationOptions = {}): CalibrationMetrics {
  const B = opts.bins ?? 15;
  const edges = binEdges(B);
  const messages: string[] = [];
  let nUnlabelled = 0;
  let nInvalid = 0;
  let nNonfinite = 0;

  const use = new Int32Array(n); // indices of the usable rows
  let N = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y === -1) { nUnlabelled++; continue; }
    if (y < -1 || y >= k) { nInvalid++; continue; }
    let finite = true;
    for (let j = 0; j < k; j++) if (!Number.isFinite(logits[i * k + j])) { finite = false; break; }
    if (!finite) { nNonfinite++; continue; }
    use[N++] = i;
  }
  if (nUnlabelled) messages.push(`${nUnlabelled} unlabelled sample(s) excluded`);
  if (nInvalid) messages.push(`${nInvalid} sample(s) with a label outside [0, ${k}) excluded`);
  if (nNonfinite) messages.push(`${nNonfinite} sample(s) with non-finite logits excluded`);

  const conf = new Float64Array(N);
  const correct = new Uint8Array(N);
  const pred = new Int32Array(N);
  const cwCount = new Float64Array(k * B);
  const cwHits = new Float64Array(k * B);
  const cwConf = new Float64Array(k * B);
  const p = new Float64Array(k);
  let hits = 0;
  let brier = 0;
  let nll = 0;
  for (let s = 0; s < N; s++) {
    const off = use[s] * k;
    const y = labels[use[s]];
    let m = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) if (logits[off + j] > m) { m = logits[off + j]; arg = j; }
    let S = 0;
    for (let j = 0; j < k; j++) { p[j] = Math.exp(logits[off + j] - m); S += p[j]; }
    const logS = Math.log(S);
    let sq = 0;
    for (let j = 0; j < k; j++) {
      p[j] /= S;
      const d = p[j] - (j === y ? 1 : 0);
      sq += d * d;
      const b = j * B + binIndex(edges, p[j]);
      cwCount[b]++;
      cwConf[b] += p[j];
      if (j === y) cwHits[b]++;
    }
    brier += sq;
    nll += logS - (logits[off + y] - m);
    conf[s] = p[arg];
    pred[s] = arg;
    correct[s] = arg === y ? 1 : 0;
    hits += correct[s];
  }

  const count = new Float64Array(B);
  const binHits = new Float64Array(B);
  const binConf = new Float64Array(B);
  const binOf = new Int32Array(N);
  for (let s = 0; s < N; s++) {
    const b = (binOf[s] = binIndex(edges, conf[s]));
    count[b]++;
    binHits[b] += correct[s];
    binConf[b] += conf[s];
  }
  let ece = 0;
  let mce = N > 0 ? 0 : NaN;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < B; b++) {
    const c = count[b];
    bins.push({ lo: edges[b], hi: edges[b + 1], count: c, accuracy: c ? binHits[b] / c : null, confidence: c ? binConf[b] / c : null });
    if (!c) continue;
    const gap = Math.abs(binHits[b] / c - binConf[b] / c);
    ece += (c / N) * gap;
    if (gap > mce) mce = gap;
  }

  let classwise = 0;
  for (let j = 0; j < k; j++) {
    for (let b = 0; b < B; b++) {
      const c = cwCount[j * B + b];
      if (c) classwise += (c / N) * Math.abs(cwHits[j * B + b] / c - cwConf[j * B + b] / c);
    }
  }

  if (N === 0) messages.push('no labelled samples with finite logits: metrics are NaN');
  const smooth = smece(conf, correct);
  return {
    n: N,
    n_unlabelled: nUnlabelled,
    n_invalid_label: nInvalid,
    n_nonfinite: nNonfinite,
    accuracy: N ? hits / N : NaN,
    ece: N ? ece : NaN,
    ece_em: N ? equalMassEce(conf, correct, B) : NaN,
    mce,
    classwise_ece: N ? classwise / k : NaN,
    brier: N ? brier / N : NaN,
    nll: N ? nll / N : NaN,
    smece: smooth.smece,
    smece_bandwidth: smooth.sigma,
    ece_debiased: debiasedEce(conf, correct, B),
    ece_toplabel: topLabelEce(conf, correct, pred, binOf, k, B),
    bins,
    confidences: conf,
    correct,
    binOf,
    messages,
  };
}

function equalMassEce(conf: Float64Array, correct: Uint8Array, B: number): number {
  const N = conf.length;
  const order = new Uint32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  order.sort((a, b) => conf[a] - conf[b] || a - b);
  const base = Math.floor(N / B);
  const extra = N % B;
  let ece = 0;
  let start = 0;
  for (let b = 0; b < B; b++) {
    const size = base + (b < extra ? 1 : 0);
    if (!size) continue;
    let h = 0;
    let c = 0;
    for (let s = start; s < start + size; s++) { h += correct[order[s]]; c += conf[order[s]]; }
    ece += (size / N) * Math.abs(h / size - c / size);
    start += size;
  }
  return ece;
}
