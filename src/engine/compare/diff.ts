// Two reports (or two models of one report) side by side: the OOD table as A, B and B − A, and the samples whose
// OOD flag changed. A sample is flagged when its score is above its side's deployment threshold (the report's
// `thresholds` row for that model and score: keepFraction's, or the one set in oodlens.json); samples are matched
// by split and path, so two runs over the same folders line up whatever order they were scored in.
import type { Report } from '../report/types';

export interface CompareSide {
  /** "A · 2026-11-30 16:00 · ce_seed0", shown in headers. */
  label: string;
  report: Report;
  model: string;
}

const OOD_METRICS = ['auroc', 'aupr_in', 'aupr_out', 'fpr95'] as const;
export type OodMetric = (typeof OOD_METRICS)[number];

export interface Triple { a: number | null; b: number | null; delta: number | null }

export interface OodDiffRow {
  split: string;
  score: string;
  metrics: Record<OodMetric, Triple>;
}

export interface FlagChange {
  path: string;
  split: string;
  scoreA: number;
  scoreB: number;
  /** true: flagged by B, not by A; false: flagged by A, no longer by B. */
  nowFlagged: boolean;
}

export interface FlagDiff {
  score: string;
  thresholdA: number;
  thresholdB: number;
  /** Samples scored on both sides. */
  matched: number;
  newlyFlagged: number;
  noLongerFlagged: number;
  /** The first `cap` changes: newly flagged first, each group from the largest score change down. */
  items: FlagChange[];
}

export interface ReportDiff {
  a: { label: string; model: string; createdAt: string };
  b: { label: string; model: string; createdAt: string };
  /** Scores both sides have (A's order). */
  scores: string[];
  ood: OodDiffRow[];
  /** One per common score with a threshold on both sides and per-sample scores. */
  flags: FlagDiff[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function triple(a: unknown, b: unknown): Triple {
  const x = num(a);
  const y = num(b);
  return { a: x, b: y, delta: x !== null && y !== null ? y - x : null };
}

function scoresOf(side: CompareSide): string[] {
  const seen = new Set<string>();
  for (const rows of [side.report.ood, side.report.thresholds, side.report.histograms]) for (const r of rows) if (r.model === side.model) seen.add(r.score);
  return [...seen];
}

/** Rows for every OOD split and score either side has, A's order first; a side without the row gives null. */
function oodRows(a: CompareSide, b: CompareSide): OodDiffRow[] {
  const keyOf = (r: { split: string; score: string }) => `${r.split}\u0000${r.score}`;
  const rowsA = new Map(a.report.ood.filter((r) => r.model === a.model).map((r) => [keyOf(r), r]));
  const rowsB = new Map(b.report.ood.filter((r) => r.model === b.model).map((r) => [keyOf(r), r]));
  const keys = [...new Set([...rowsA.keys(), ...rowsB.keys()])];
  return keys.map((k) => {
    const ra = rowsA.get(k);
    const rb = rowsB.get(k);
    const [split, score] = k.split('\u0000');
    const metrics = Object.fromEntries(OOD_METRICS.map((m) => [m, triple(ra?.[m], rb?.[m])])) as Record<OodMetric, Triple>;
    return { split, score, metrics };
  });
}

function flagDiff(a: CompareSide, b: CompareSide, score: string, cap: number): FlagDiff | null {
  const thresholdA = num(a.report.thresholds.find((t) => t.model === a.model && t.score === score)?.threshold);
  const thresholdB = num(b.report.thresholds.find((t) => t.model === b.model && t.score === score)?.threshold);
  if (thresholdA === null || thresholdB === null) return null;
  const key = (split: string, p: string) => `${split}\u0000${p}`;
  const inA = new Map<string, number>();
  for (const s of a.report.samples) {
    const v = num(s.scores[a.model]?.[score]);
    if (v !== null) inA.set(key(s.split, s.path), v);
  }
  if (inA.size === 0) return null;
  let matched = 0;
  const changes: FlagChange[] = [];
  for (const s of b.report.samples) {
    const scoreB = num(s.scores[b.model]?.[score]);
    const scoreA = inA.get(key(s.split, s.path));
    if (scoreB === null || scoreA === undefined) continue;
    matched++;
    const flaggedA = scoreA > thresholdA;
    const flaggedB = scoreB > thresholdB;
    if (flaggedA !== flaggedB) changes.push({ path: s.path, split: s.split, scoreA, scoreB, nowFlagged: flaggedB });
  }
  if (matched === 0) return null;
  // The largest moves relative to each side's threshold are the most telling.
  const move = (c: FlagChange) => Math.abs((c.scoreB - thresholdB) - (c.scoreA - thresholdA));
  changes.sort((x, y) => Number(y.nowFlagged) - Number(x.nowFlagged) || move(y) - move(x) || x.path.localeCompare(y.path));
  const newlyFlagged = changes.filter((c) => c.nowFlagged).length;
  return { score, thresholdA, thresholdB, matched, newlyFlagged, noLongerFlagged: changes.length - newlyFlagged, items: changes.slice(0, cap) };
}

export function diffReports(a: CompareSide, b: CompareSide, cap = 48): ReportDiff {
  const inB = new Set(scoresOf(b));
  const scores = scoresOf(a).filter((s) => inB.has(s));
  return {
    a: { label: a.label, model: a.model, createdAt: a.report.createdAt },
    b: { label: b.label, model: b.model, createdAt: b.report.createdAt },
    scores,
    ood: oodRows(a, b),
    flags: scores.map((s) => flagDiff(a, b, s, cap)).filter((f): f is FlagDiff => f !== null),
  };
}
