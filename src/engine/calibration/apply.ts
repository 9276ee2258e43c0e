// A fitted calibrator applied from its report parameters, computing exactly what the exported ONNX graph computes
// (onnx/calibration-graph.ts): float64 from the float32 logits, rounded to float32 once at the end. Temperature is
// the exception, kept as the export has always written it: float32(z / float32(T)).
import type { CalibratorParameters } from '../report/types';
import { finiteRow, softmaxInto } from '../util/rows';
import { logSoftmaxInto } from './dirichlet';
import { applyHistogramBinning } from './histogram-binning';
import { applyIsotonic } from './isotonic';
import { topOf } from './top-label';

export function isTopLabel(p: CalibratorParameters): p is Extract<CalibratorParameters, { kind: 'histogram' | 'isotonic' }> {
  return p.kind === 'histogram' || p.kind === 'isotonic';
}

/** The map of one full-distribution calibrator: row `off` of z → calibrated logits in out[0..k) (float64). */
function rowMap(p: Exclude<CalibratorParameters, { kind: 'histogram' | 'isotonic' }>, k: number): (z: Float32Array, off: number, out: Float64Array) => void {
  const tmp = new Float64Array(k), p1 = new Float64Array(k);
  switch (p.kind) {
    case 'temperature': {
      const T = Math.fround(p.temperature);
      return (z, off, out) => { for (let j = 0; j < k; j++) out[j] = z[off + j] / T; };
    }
    case 'vector':
      return (z, off, out) => { for (let c = 0; c < k; c++) out[c] = p.c[c] + p.a[c] * z[off + c]; };
    case 'matrix':
      return (z, off, out) => linear(p.A, p.c, z, off, k, out);
    case 'dirichlet':
      return (z, off, out) => {
        logSoftmaxInto(z, off, k, tmp, 0);
        linear(p.W, p.b, tmp, 0, k, out);
      };
    case 'ensemble_temperature': {
      const [w0, w1, w2] = p.weights;
      return (z, off, out) => {
        for (let j = 0; j < k; j++) tmp[j] = z[off + j] / p.temperature;
        softmaxInto(tmp, 0, k, tmp);
        softmaxInto(z, off, k, p1);
        for (let j = 0; j < k; j++) out[j] = Math.log(w0 * tmp[j] + w1 * p1[j] + w2 / p.classes);
      };
    }
  }
}

function linear(A: number[][], c: number[], x: ArrayLike<number>, off: number, k: number, out: Float64Array): void {
  for (let r = 0; r < k; r++) {
    let v = c[r];
    for (let j = 0; j < k; j++) v += A[r][j] * x[off + j];
    out[r] = v;
  }
}

/**
 * Calibrated logits [n, k] (softmax gives the calibrated probabilities): what the exported model's logits output
 * holds. Top-label maps leave the logits as they are. Rows with a non-finite logit become NaN.
 */
export function calibratedLogits(p: CalibratorParameters, logits: Float32Array, n: number, k: number): Float32Array {
  if (isTopLabel(p)) return Float32Array.from(logits);
  const map = rowMap(p, k);
  const out = new Float32Array(n * k);
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    if (!finiteRow(logits, i, k)) { out.fill(NaN, i * k, (i + 1) * k); continue; }
    map(logits, i * k, row);
    for (let j = 0; j < k; j++) out[i * k + j] = row[j];
  }
  return out;
}

/** g(c) of a top-label map for every row (NaN for a non-finite row): the exported `calibrated_confidence`. */
export function topLabelConfidence(p: Extract<CalibratorParameters, { kind: 'histogram' | 'isotonic' }>, logits: Float32Array, n: number, k: number): Float64Array {
  const g = topLabelMap(p);
  return Float64Array.from({ length: n }, (_, i) => (finiteRow(logits, i, k) ? g(topOf(logits, i * k, k).conf) : NaN));
}

export function topLabelMap(p: Extract<CalibratorParameters, { kind: 'histogram' | 'isotonic' }>): (c: number) => number {
  return p.kind === 'histogram' ? (c) => applyHistogramBinning(p, c) : (c) => applyIsotonic(p, c);
}
