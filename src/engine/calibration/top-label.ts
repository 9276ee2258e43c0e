// Top-label calibrators (histogram binning, isotonic regression) map the confidence c = max softmax of the predicted
// class ŷ (first argmax) to g(c) and keep the prediction. NLL, Brier and classwise ECE need a whole distribution, so
// the rest of the mass goes to the other classes in proportion to their softmax:
//   q_ŷ = g(c),  q_j = (1 − g(c)) · exp(z_j − m′) / Σ_{i≠ŷ} exp(z_i − m′)   (m′ = max over j ≠ ŷ),
// which is p_j (1 − g)/(1 − c) computed without the cancellation in 1 − c (c rounds to 1 for confident rows). NLL
// clips q_y below at 1e-15 (sklearn's long-time log_loss eps): a bin where every calibration sample was right maps to
// g = 1 and gives the other classes nothing. Every other metric is calibration-metrics.ts's, on conf = g(c).
import type { CalibrationSummary, ReliabilityBin } from '../report/types';
import { binEdges, binIndex } from '../metrics/calibration-metrics';
import { debiasedEce, topLabelEce } from '../metrics/binned-estimators';
import { smece } from '../metrics/smece';
import { finiteRow } from '../util/rows';

export const NLL_FLOOR = 1e-15;

/** Predicted class (first maximum) and its softmax probability 1 / Σ exp(z_j − max), as predictions() computes it. */
export function topOf(z: ArrayLike<number>, off: number, k: number): { top: number; conf: number } {
  let m = -Infinity;
  let top = 0;
  for (let j = 0; j < k; j++) if (z[off + j] > m) { m = z[off + j]; top = j; }
  let S = 0;
  for (let j = 0; j < k; j++) S += Math.exp(z[off + j] - m);
  return { top, conf: 1 / S };
}

/** q of one row (see the header) into out[0..k). */
export function spreadTopLabel(z: ArrayLike<number>, off: number, k: number, top: number, g: number, out: Float64Array): void {
  let m = -Infinity;
  for (let j = 0; j < k; j++) if (j !== top && z[off + j] > m) m = z[off + j];
  let S = 0;
  for (let j = 0; j < k; j++) S += j === top ? 0 : (out[j] = Math.exp(z[off + j] - m));
  for (let j = 0; j < k; j++) out[j] = j === top ? g : ((1 - g) * out[j]) / S;
}

/**
 * The calibration summary of a top-label map on labelled rows with finite logits: accuracy of the unchanged
 * prediction, ECE / ECE-EM / MCE / debiased / top-label ECE / smECE of g(c), NLL, Brier and classwise ECE of q.
 */
export function topLabelMetrics(logits: Float32Array, labels: Int32Array, n: number, k: number, map: (c: number) => number, B: number): CalibrationSummary & { bins: ReliabilityBin[] } {
  const edges = binEdges(B);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] >= 0 && labels[i] < k && finiteRow(logits, i, k)) rows.push(i);
  const N = rows.length;
  const conf = new Float64Array(N), correct = new Uint8Array(N), pred = new Int32Array(N), binOf = new Int32Array(N);
  const cw = { count: new Float64Array(k * B), hits: new Float64Array(k * B), conf: new Float64Array(k * B) };
  const q = new Float64Array(k);
  let nll = 0, brier = 0, hits = 0;
  rows.forEach((i, s) => {
    const y = labels[i];
    const { top, conf: c } = topOf(logits, i * k, k);
    const g = map(c);
    spreadTopLabel(logits, i * k, k, top, g, q);
    for (let j = 0; j < k; j++) {
      const d = q[j] - (j === y ? 1 : 0);
      brier += d * d;
      const b = j * B + binIndex(edges, q[j]);
      cw.count[b]++;
      cw.conf[b] += q[j];
      if (j === y) cw.hits[b]++;
    }
    nll -= Math.log(Math.max(q[y], NLL_FLOOR));
    conf[s] = g;
    pred[s] = top;
    correct[s] = top === y ? 1 : 0;
    binOf[s] = binIndex(edges, g);
    hits += correct[s];
  });
  const { ece, mce, bins } = equalWidth(conf, correct, binOf, edges);
  let classwise = 0;
  for (let b = 0; b < k * B; b++) if (cw.count[b]) classwise += (cw.count[b] / N) * Math.abs(cw.hits[b] / cw.count[b] - cw.conf[b] / cw.count[b]);
  const smooth = smece(conf, correct);
  const none = N === 0;
  return {
    n: N,
    accuracy: none ? NaN : hits / N,
    ece: none ? NaN : ece,
    ece_em: none ? NaN : equalMassEce(conf, correct, B),
    mce: none ? NaN : mce,
    classwise_ece: none ? NaN : classwise / k,
    nll: none ? NaN : nll / N,
    brier: none ? NaN : brier / N,
    smece: smooth.smece,
    smece_bandwidth: smooth.sigma,
    ece_debiased: debiasedEce(conf, correct, B),
    ece_toplabel: topLabelEce(conf, correct, pred, binOf, k, B),
    bins,
  };
}

function equalWidth(conf: Float64Array, correct: Uint8Array, binOf: Int32Array, edges: Float64Array): { ece: number; mce: number; bins: ReliabilityBin[] } {
  const B = edges.length - 1;
  const N = conf.length;
  const count = new Float64Array(B), hits = new Float64Array(B), sum = new Float64Array(B);
  for (let s = 0; s < N; s++) {
    count[binOf[s]]++;
    hits[binOf[s]] += correct[s];
    sum[binOf[s]] += conf[s];
  }
  let ece = 0, mce = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < B; b++) {
    const c = count[b];
    bins.push({ lo: edges[b], hi: edges[b + 1], count: c, accuracy: c ? hits[b] / c : null, confidence: c ? sum[b] / c : null });
    if (!c) continue;
    const gap = Math.abs(hits[b] / c - sum[b] / c);
    ece += (c / N) * gap;
    mce = Math.max(mce, gap);
  }
  return { ece, mce, bins };
}

/** calibration-metrics.ts's ECE-EM: stable sort by confidence, chunks as numpy.array_split. */
function equalMassEce(conf: Float64Array, correct: Uint8Array, B: number): number {
  const N = conf.length;
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => conf[a] - conf[b] || a - b);
  const base = Math.floor(N / B), extra = N % B;
  let ece = 0;
  let start = 0;
  for (let b = 0; b < B; b++) {
    const size = base + (b < extra ? 1 : 0);
    if (!size) continue;
    let h = 0, c = 0;
    for (let s = start; s < start + size; s++) { h += correct[order[s]]; c += conf[order[s]]; }
    ece += (size / N) * Math.abs(h / size - c / size);
    start += size;
  }
  return ece;
}
