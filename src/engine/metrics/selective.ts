// Selective prediction (risk–coverage) metrics, float64, with fd-shifts' conventions (IML-DKFZ/fd-shifts @ c4467ae:
// rc_stats_utils.py selective_risk_stats / generalized_risk_stats, rc_stats.py evaluate_auc with its default
// "linear" interpolation). Higher confidence = accepted first; samples with a non-finite confidence are left out.
// The curve has one point per distinct confidence t (accept every sample with confidence ≥ t), so tied samples
// move together and nothing depends on sample order — unlike per-sample curves (torch-uncertainty), whose value
// on ties depends on how the sort breaks them.
import { sortedWithoutNaN } from './sort';

/** One point per distinct confidence (tied confidences are accepted or rejected together, so the result does not depend on sample order), from full coverage down. */
export interface RiskCoverageCurve {
  coverage: number[];
  /** Selective risk: errors accepted / samples accepted. */
  risk: number[];
  /** The lowest accepted confidence: the point accepts every sample with confidence ≥ threshold. */
  threshold: number[];
}

export interface SelectiveMetrics {
  /** Samples with a finite confidence. */
  n: number;
  error_rate: number;
  /**
   * fd-shifts' AURC in [0, 1] (fd-shifts displays it ×1000): the trapezoid rule (not a step sum) over the curve's
   * points plus a closing point (coverage 0, risk of the last point), i.e. a rectangle below the smallest coverage.
   */
  aurc: number;
  /** aurc − (r + (1 − r)·ln(1 − r)), r = error_rate: the excess over an optimal ranking (0 at r = 0, aurc − 1 at r = 1). */
  eaurc: number;
  /** fd-shifts' AUGRC: the same trapezoid over generalized risk = errors accepted / n, closing at (0, 0). */
  augrc: number;
  /**
   * Selective risk at the point with the smallest coverage k/n that still has 100·k ≥ 95·n (exact integers). Not
   * fd-shifts' get_working_point(target_cov=0.95), which takes the lowest risk among points with coverage ≥ 0.95.
   */
  risk_at_95_coverage: number;
}

/** Curve points as integer counts, lowest threshold (full coverage) first. */
interface Points {
  n: number;
  m: number;
  accepted: Float64Array;
  errors: Float64Array;
  threshold: Float64Array;
}

function points(confidence: Float64Array, correct: Uint8Array): Points {
  if (confidence.length !== correct.length) throw new RangeError(`selective metrics: ${confidence.length} confidences but ${correct.length} correctness flags`);
  let nOk = 0;
  let nBad = 0;
  for (let i = 0; i < confidence.length; i++) {
    if (!Number.isFinite(confidence[i])) continue;
    if (correct[i]) nOk++;
    else nBad++;
  }
  const ok = new Float64Array(nOk);
  const bad = new Float64Array(nBad);
  for (let i = 0, a = 0, b = 0; i < confidence.length; i++) {
    if (!Number.isFinite(confidence[i])) continue;
    if (correct[i]) ok[a++] = confidence[i];
    else bad[b++] = confidence[i];
  }
  // Sorting each side apart (radix sort, no index permutation) and merging from the low end visits each distinct
  // confidence once; `===` groups −0 with +0, as numpy's `!=` does.
  const sOk = sortedWithoutNaN(ok);
  const sBad = sortedWithoutNaN(bad);
  const n = nOk + nBad;
  const accepted = new Float64Array(n);
  const errors = new Float64Array(n);
  const threshold = new Float64Array(n);
  let m = 0;
  let k = n;
  let e = nBad;
  for (let i = 0, j = 0; i < nOk || j < nBad; m++) {
    const t = j >= nBad || (i < nOk && sOk[i] <= sBad[j]) ? sOk[i] : sBad[j];
    accepted[m] = k;
    errors[m] = e;
    threshold[m] = t;
    const i0 = i;
    const j0 = j;
    while (i < nOk && sOk[i] === t) i++;
    while (j < nBad && sBad[j] === t) j++;
    k -= i - i0 + (j - j0);
    e -= j - j0;
  }
  return { n, m, accepted: accepted.subarray(0, m), errors: errors.subarray(0, m), threshold: threshold.subarray(0, m) };
}

export function riskCoverageCurve(confidence: Float64Array, correct: Uint8Array): RiskCoverageCurve {
  const { n, m, accepted, errors, threshold } = points(confidence, correct);
  const curve: RiskCoverageCurve = { coverage: new Array(m), risk: new Array(m), threshold: Array.from(threshold) };
  for (let p = 0; p < m; p++) {
    curve.coverage[p] = accepted[p] / n;
    curve.risk[p] = errors[p] / accepted[p];
  }
  return curve;
}

export function selectiveMetrics(confidence: Float64Array, correct: Uint8Array): SelectiveMetrics {
  const { n, m, accepted: k, errors: e } = points(confidence, correct);
  if (n === 0) return { n, error_rate: NaN, aurc: NaN, eaurc: NaN, augrc: NaN, risk_at_95_coverage: NaN };
  let aurc = 0;
  // 2n²·AUGRC = Σ (k_p − k_{p+1})(e_p + e_{p+1}) is an integer (exact below n ≈ 6.7e7): one rounding in all.
  let augrc2 = 0;
  let at95 = 0;
  for (let p = 0; p < m; p++) {
    const last = p + 1 === m;
    const width = k[p] - (last ? 0 : k[p + 1]);
    const risk = e[p] / k[p];
    aurc += (width * (risk + (last ? risk : e[p + 1] / k[p + 1]))) / 2;
    augrc2 += width * (e[p] + (last ? 0 : e[p + 1]));
    if (100 * k[p] >= 95 * n) at95 = p;
  }
  const r = e[0] / n;
  // Optimal-ranking AURC (Geifman et al. 2019): r + (1 − r)·ln(1 − r), whose limit at r = 1 is 1.
  const optimal = r === 1 ? 1 : r + (1 - r) * Math.log1p(-r);
  return { n, error_rate: r, aurc: aurc / n, eaurc: aurc / n - optimal, augrc: augrc2 / (2 * n * n), risk_at_95_coverage: e[at95] / k[at95] };
}

/** The largest coverage whose selective risk is ≤ maxRisk (accepting the most confident first, ties together); 0 when none. */
export function coverageAtRisk(confidence: Float64Array, correct: Uint8Array, maxRisk: number): number {
  const { n, m, accepted, errors } = points(confidence, correct);
  // Risk is not monotone in coverage: scan from full coverage down and stop at the first admissible point.
  for (let p = 0; p < m; p++) if (errors[p] / accepted[p] <= maxRisk) return accepted[p] / n;
  return 0;
}
