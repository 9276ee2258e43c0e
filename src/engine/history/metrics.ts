// A run's numbers for the history index, and their change since the previous run with the direction that counts as
// better for each metric. Browser-safe: the webview imports it too.
import type { GateResult } from '../gates';
import type { Report } from '../report/types';
import { formatHeadline, type Headline } from '../../shared/headline';
import type { RunMetrics } from './types';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function runMetrics(report: Pick<Report, 'ood' | 'calibration'>, gates: GateResult[] | null): RunMetrics {
  return {
    ood: report.ood.map((r) => ({ model: r.model, split: r.split, score: r.score, auroc: num(r.auroc), fpr95: num(r.fpr95) })),
    calibration: report.calibration.map((r) => ({ model: r.model, split: r.split, ece: num(r.ece), accuracy: num(r.accuracy) })),
    gates: gates && gates.length ? { passed: gates.filter((g) => g.passed).length, total: gates.length } : null,
  };
}

export type DeltaMetric = 'auroc' | 'fpr95' | 'ece' | 'accuracy' | 'gates';

/** Which way is better. */
export const HIGHER_IS_BETTER: Record<DeltaMetric, boolean> = { auroc: true, fpr95: false, ece: false, accuracy: true, gates: true };

export interface Delta {
  metric: DeltaMetric;
  value: number;
  previous: number;
  /** value − previous. */
  delta: number;
  /** 'same' when the change does not show at the panel's 3 decimals (or is 0 for counts). */
  change: 'better' | 'worse' | 'same';
}

/** null when either value is missing: no change is claimed across a metric that did not exist before. */
export function delta(metric: DeltaMetric, value: number | null | undefined, previous: number | null | undefined): Delta | null {
  if (typeof value !== 'number' || typeof previous !== 'number' || !Number.isFinite(value) || !Number.isFinite(previous)) return null;
  const d = value - previous;
  const visible = metric === 'gates' ? d !== 0 : Math.abs(d) >= 5e-4;
  const up = d > 0 === HIGHER_IS_BETTER[metric];
  return { metric, value, previous, delta: d, change: !visible ? 'same' : up ? 'better' : 'worse' };
}

/** "+0.030", "−0.012" (a true minus sign), "±0.000"; counts without decimals. */
export function formatDelta(d: Delta): string {
  const digits = d.metric === 'gates' ? 0 : 3;
  if (d.change === 'same') return `±${(0).toFixed(digits)}`;
  return `${d.delta > 0 ? '+' : '−'}${Math.abs(d.delta).toFixed(digits)}`;
}

export interface HeadlineDeltas {
  /** One per OOD split of the model and score, in the current run's order. */
  auroc: { split: string; value: number | null; delta: Delta | null }[];
  ece: { split: string; value: number | null; delta: Delta | null } | null;
  accuracy: { split: string; value: number | null; delta: Delta | null } | null;
  gates: { passed: number; total: number; delta: Delta | null } | null;
}

/**
 * The panel's headline numbers for one model and score with their change since `previous`: AUROC per OOD split,
 * ECE and accuracy on the ID split (`idSplit`, else the model's first calibration row), gates passed.
 */
export function headlineDeltas(current: RunMetrics, previous: RunMetrics | undefined, model: string, score: string, idSplit?: string): HeadlineDeltas {
  const auroc = current.ood.filter((r) => r.model === model && r.score === score).map((r) => {
    const before = previous?.ood.find((p) => p.model === model && p.score === score && p.split === r.split);
    return { split: r.split, value: r.auroc, delta: delta('auroc', r.auroc, before?.auroc) };
  });
  const cal = current.calibration.find((c) => c.model === model && c.split === idSplit) ?? current.calibration.find((c) => c.model === model);
  const calBefore = cal && previous?.calibration.find((c) => c.model === model && c.split === cal.split);
  const g = current.gates;
  return {
    auroc,
    ece: cal ? { split: cal.split, value: cal.ece, delta: delta('ece', cal.ece, calBefore?.ece) } : null,
    accuracy: cal ? { split: cal.split, value: cal.accuracy, delta: delta('accuracy', cal.accuracy, calBefore?.accuracy) } : null,
    gates: g ? { ...g, delta: delta('gates', g.passed, previous?.gates && previous.gates.total === g.total ? previous.gates.passed : null) } : null,
  };
}

/**
 * The status bar's and CodeLens's one line with changes: "AUROC 0.910 (+0.030) · ECE 0.025 (−0.004)". The AUROC
 * is the headline's (weakest OOD split), compared with the previous run's AUROC on that same split.
 */
export function formatHeadlineDelta(h: Headline, previous: RunMetrics | undefined): string {
  const change = (d: Delta | null) => (d ? ` (${formatDelta(d)})` : '');
  const auroc = h.auroc && previous?.ood.find((r) => r.model === h.model && r.score === h.score && r.split === h.auroc!.split);
  const ece = h.ece && previous?.calibration.find((c) => c.model === h.model && c.split === h.ece!.split);
  return formatHeadline(h, {
    auroc: h.auroc && change(delta('auroc', h.auroc.value, auroc ? auroc.auroc : null)),
    ece: h.ece && change(delta('ece', h.ece.value, ece ? ece.ece : null)),
  });
}
