// Which model and score a one-line summary (status bar, CodeLens, gates, Explorer badges) talks about.
// Browser-safe: imported by the host, the engine and the webview.
import type { Report } from '../engine/report/types';

export const ENSEMBLE_MODEL = 'ensemble';
export const PREFERRED_SCORE = 'energy';

type Rows = Pick<Report, 'models' | 'ood' | 'calibration' | 'histograms'>;

/** The scored models: the report's models, then any other model its rows name (the ensemble is not a ModelInfo). */
export function reportModels(report: Rows): string[] {
  const names = new Set(report.models.map((m) => m.name));
  for (const rows of [report.ood, report.calibration, report.histograms]) for (const r of rows) names.add(r.model);
  return [...names];
}

/** The ensemble when the report has one (it is what gets deployed), else the first model. */
export function headlineModel(report: Rows): string | undefined {
  const names = reportModels(report);
  return names.includes(ENSEMBLE_MODEL) ? ENSEMBLE_MODEL : names[0];
}

/** Class names of a model; the ensemble shares its members' classes. */
export function modelClasses(report: Pick<Report, 'models'>, model: string): string[] {
  return (report.models.find((m) => m.name === model) ?? report.models[0])?.classes ?? [];
}

/** Scores in the order the report lists them in its OOD rows (then thresholds and histograms). */
export function reportScores(report: Pick<Report, 'ood' | 'thresholds' | 'histograms'>): string[] {
  const seen = new Set<string>();
  for (const r of report.ood) seen.add(r.score);
  for (const r of report.thresholds) seen.add(r.score);
  for (const r of report.histograms) seen.add(r.score);
  return [...seen];
}

/** Scores computed for one model (models differ: the ensemble has its own set, feature scores need features). */
export function modelScores(report: Pick<Report, 'ood' | 'thresholds' | 'histograms'>, model: string): string[] {
  const seen = new Set<string>();
  for (const rows of [report.ood, report.thresholds, report.histograms]) for (const r of rows) if (r.model === model) seen.add(r.score);
  return [...seen];
}

/** `energy` when the model has it (a robust default on logits), else the model's first score. */
export function headlineScore(report: Rows & Pick<Report, 'thresholds'>, model = headlineModel(report)): string | undefined {
  const scores = model === undefined ? reportScores(report) : modelScores(report, model);
  return scores.includes(PREFERRED_SCORE) ? PREFERRED_SCORE : scores[0];
}

export function splitsWithRole(report: Pick<Report, 'splits'>, role: string): string[] {
  return report.splits.filter((s) => s.role === role).map((s) => s.name);
}

export interface Headline {
  model: string;
  score: string | undefined;
  /** Weakest OOD split for the headline model and score. */
  auroc?: { value: number; split: string };
  /** Before scaling, on the first ID split. */
  ece?: { value: number; split: string };
  partial: boolean;
}

export function headline(report: Report): Headline | undefined {
  const model = headlineModel(report);
  if (model === undefined) return undefined;
  const score = headlineScore(report, model);
  const h: Headline = { model, score, partial: report.partial };
  for (const row of report.ood) {
    if (row.model !== model || row.score !== score || !Number.isFinite(row.auroc)) continue;
    if (!h.auroc || row.auroc < h.auroc.value) h.auroc = { value: row.auroc, split: row.split };
  }
  const idSplits = splitsWithRole(report, 'id');
  const cal = report.calibration.find((c) => c.model === model && idSplits.includes(c.split))
    ?? report.calibration.find((c) => c.model === model);
  if (cal && Number.isFinite(cal.ece)) h.ece = { value: cal.ece, split: cal.split };
  return h;
}

/** `changes`: text after a number, e.g. " (+0.030)" since the previous run. */
export function formatHeadline(h: Headline, changes: { auroc?: string; ece?: string } = {}): string {
  const parts: string[] = [];
  if (h.auroc) parts.push(`AUROC ${h.auroc.value.toFixed(3)}${changes.auroc ?? ''}`);
  if (h.ece) parts.push(`ECE ${h.ece.value.toFixed(3)}${changes.ece ?? ''}`);
  if (parts.length === 0) parts.push('no metrics');
  return parts.join(' · ') + (h.partial ? ' (partial)' : '');
}
