// The questions after AUROC, per model and labelled split: what error remains when the least confident samples
// are rejected (selective prediction), and which label sets hold the truth 1 − α of the time (conformal).
import type { ConformalRow, SelectiveRow } from '../report/types';
import { riskCoverageCurve, selectiveMetrics } from '../metrics/selective';
import { conformal, type ConformalMethod } from '../metrics/conformal';
import type { Scored } from './build-report';

/** The labelled samples of a split with finite outputs: their confidence and whether the prediction is right. */
export function labelledOutcomes(v: { confidence: Float64Array; prediction: Int32Array; labels: Int32Array | null }): { confidence: Float64Array; correct: Uint8Array } | null {
  if (!v.labels) return null;
  const keep: number[] = [];
  for (let i = 0; i < v.labels.length; i++) if (v.labels[i] >= 0 && v.prediction[i] >= 0) keep.push(i);
  if (keep.length === 0) return null;
  return {
    confidence: Float64Array.from(keep, (i) => v.confidence[i]),
    correct: Uint8Array.from(keep, (i) => (v.prediction[i] === v.labels![i] ? 1 : 0)),
  };
}

const CURVE_POINTS = 200;

/** At most CURVE_POINTS of the curve's points, evenly spaced in index, always with the first and the last. */
function thinned(c: { coverage: number[]; risk: number[] }): { coverage: number[]; risk: number[] } {
  const m = c.coverage.length;
  if (m <= CURVE_POINTS) return { coverage: c.coverage, risk: c.risk };
  const idx = Array.from({ length: CURVE_POINTS }, (_, t) => Math.round((t * (m - 1)) / (CURVE_POINTS - 1)));
  return { coverage: idx.map((i) => c.coverage[i]), risk: idx.map((i) => c.risk[i]) };
}

/** Risk–coverage summaries with the max softmax probability as the confidence (fd-shifts' AURC, E-AURC, AUGRC). */
export function selectiveRows(scored: Scored[]): SelectiveRow[] {
  const rows: SelectiveRow[] = [];
  for (const s of scored) {
    for (const [split, v] of s.perSplit) {
      const o = labelledOutcomes(v);
      if (!o) continue;
      rows.push({ model: s.name, split, confidence: 'msp', ...selectiveMetrics(o.confidence, o.correct), curve: thinned(riskCoverageCurve(o.confidence, o.correct)) });
    }
  }
  return rows;
}

const CONFORMAL_METHODS: ConformalMethod[] = ['lac', 'aps', 'raps', 'lac_classwise'];

/**
 * Split conformal sets calibrated on the calibration split and evaluated on every other labelled split, for each
 * α: LAC, APS and RAPS (λ = 0.1, k_reg = 1), non-randomized, and class-conditional LAC.
 */
export function conformalRows(scored: Scored[], calibSplit: string | undefined, alphas: readonly number[]): ConformalRow[] {
  const rows: ConformalRow[] = [];
  if (!calibSplit) return rows;
  for (const s of scored) {
    const calib = s.perSplit.get(calibSplit);
    if (!calib?.labels) continue;
    for (const [split, v] of s.perSplit) {
      if (split === calibSplit || !v.labels || !v.labels.some((l) => l >= 0)) continue;
      for (const alpha of alphas) {
        for (const method of CONFORMAL_METHODS) {
          const r = conformal(method, { logits: calib.logits, labels: calib.labels }, { logits: v.logits, labels: v.labels }, s.k, { alpha });
          rows.push({ model: s.name, split, ...r });
        }
      }
    }
  }
  return rows;
}
