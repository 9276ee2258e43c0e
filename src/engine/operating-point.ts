// What a detector does at one threshold: the fraction of each split it flags, and against the ID split the confusion
// counts, TPR, FPR and precision. Computed from the report's per-sample scores (exact), not from the downsampled
// curves or the histograms. Conventions, as everywhere in the report: higher score = more OOD, a sample is flagged
// OOD when score > threshold, OOD is the positive class, and samples whose score is not finite are left out.
import type { HistogramSet, Report, ThresholdRow } from './report/types';
import { keepCount } from './metrics/ood-metrics';

/** A deployment threshold chosen by hand (oodlens.json `thresholds`), overriding the keepFraction rule. */
export interface ConfiguredThreshold {
  model: string;
  score: string;
  threshold: number;
}

export interface SplitFlags {
  split: string;
  role: string;
  /** Samples with a finite score. */
  n: number;
  flagged: number;
  /** flagged / n; NaN when n = 0. */
  fraction: number;
}

/** One OOD split (or all of them pooled) against the ID split: OOD positive. */
export interface Confusion {
  idSplit: string;
  oodSplit: string;
  /** OOD flagged, ID flagged, ID kept, OOD kept. */
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  tpr: number;
  fpr: number;
  /** tp / (tp + fp); NaN when nothing is flagged. Depends on the ID : OOD ratio of this report. */
  precision: number;
}

export interface OperatingPoint {
  model: string;
  score: string;
  threshold: number;
  splits: SplitFlags[];
  confusion: Confusion[];
}

type Samples = Pick<Report, 'samples' | 'splits'>;

export const POOLED_OOD = 'all OOD';

/** One model's score per split, from the per-sample rows (non-finite scores dropped). */
export function splitScores(report: Samples, model: string, score: string): Map<string, number[]> {
  const out = new Map<string, number[]>(report.splits.map((s) => [s.name, []]));
  for (const s of report.samples) {
    const v = s.scores[model]?.[score];
    if (typeof v === 'number' && Number.isFinite(v)) out.get(s.split)?.push(v);
  }
  return out;
}

/** True when the report carries per-sample scores for this model and score. */
export function hasSampleScores(report: Samples, model: string, score: string): boolean {
  return report.samples.some((s) => typeof s.scores[model]?.[score] === 'number');
}

function flags(values: number[], threshold: number): number {
  let n = 0;
  for (const v of values) if (v > threshold) n++;
  return n;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);

export function operatingPoint(report: Samples, model: string, score: string, threshold: number): OperatingPoint {
  const byName = splitScores(report, model, score);
  const splits: SplitFlags[] = report.splits.map((s) => {
    const values = byName.get(s.name) ?? [];
    const flagged = flags(values, threshold);
    return { split: s.name, role: s.role, n: values.length, flagged, fraction: ratio(flagged, values.length) };
  });
  const id = splits.find((s) => s.role === 'id');
  const ood = splits.filter((s) => s.role === 'ood');
  const confusion: Confusion[] = [];
  if (id) {
    const against = (name: string, n: number, flagged: number): Confusion => {
      const tp = flagged;
      const fp = id.flagged;
      return { idSplit: id.split, oodSplit: name, tp, fp, tn: id.n - fp, fn: n - tp, tpr: ratio(tp, n), fpr: ratio(fp, id.n), precision: ratio(tp, tp + fp) };
    };
    for (const o of ood) confusion.push(against(o.split, o.n, o.flagged));
    if (ood.length > 1) confusion.push(against(POOLED_OOD, ood.reduce((a, o) => a + o.n, 0), ood.reduce((a, o) => a + o.flagged, 0)));
  }
  return { model, score, threshold, splits, confusion };
}

/**
 * The threshold at which a fraction `fpr` of the ID split is flagged (a click on the ROC curve): the deployment
 * rule with keep = 1 − fpr, t = the k-th smallest ID score, k = ceil((1 − fpr)·n). NaN without ID scores.
 */
export function thresholdForFpr(report: Samples, model: string, score: string, fpr: number): number {
  const id = report.splits.find((s) => s.role === 'id');
  const values = Float64Array.from(id ? splitScores(report, model, score).get(id.name) ?? [] : []).sort();
  if (values.length === 0) return NaN;
  const keep = Math.min(1, Math.max(0, 1 - fpr));
  return values[keepCount(values.length, keep) - 1];
}

export function configuredThreshold(list: readonly ConfiguredThreshold[] | undefined, model: string, score: string): number | undefined {
  return list?.find((t) => t.model === model && t.score === score)?.threshold;
}

/**
 * A report with configured thresholds in place of its keepFraction ones (after "Use as deployment threshold", so
 * badges, gallery and gates follow without a re-run): threshold rows and histogram lines, flagged fractions from
 * the per-sample scores. A report without per-sample scores is returned as it is.
 */
export function withConfiguredThresholds(report: Report, list: readonly ConfiguredThreshold[]): Report {
  if (report.samples.length === 0 || list.length === 0) return report;
  const thresholds = report.thresholds.map((row) => {
    const t = configuredThreshold(list, row.model, row.score);
    if (t === undefined || !hasSampleScores(report, row.model, row.score)) return row;
    return configuredRow(row, operatingPoint(report, row.model, row.score, t));
  });
  const histograms = report.histograms.map((h): HistogramSet => {
    const row = thresholds.find((r) => r.model === h.model && r.score === h.score && r.source === 'config');
    return row ? { ...h, threshold: row.threshold } : h;
  });
  return { ...report, thresholds, histograms };
}

function configuredRow(row: ThresholdRow, point: OperatingPoint): ThresholdRow {
  const flagged = Object.fromEntries(point.splits.map((s) => [s.split, s.fraction]));
  const fit = flagged[row.fittedOn];
  const out: ThresholdRow = { ...row, threshold: point.threshold, keepFraction: Number.isFinite(fit) ? 1 - fit : NaN, flagged, source: 'config' };
  if (row.minMaxScaled) {
    const { min, max } = row.minMaxScaled;
    out.minMaxScaled = { min, max, threshold: max > min ? (point.threshold - min) / (max - min) : 0 };
  }
  return out;
}
