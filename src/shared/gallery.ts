// Picks the samples worth looking at: ID samples the detector finds most OOD, OOD samples it finds least OOD,
// and confidently wrong predictions. Ordering only; every number comes from the report's per-sample scores.
import type { Report, SampleRow } from '../engine/report/types';
import type { Gallery, GalleryItem, GalleryKind } from './protocol';
import { headlineModel, headlineScore, modelClasses, splitsWithRole } from './headline';

/** Max-softmax based scores rank confidence directly; otherwise the gallery's OOD score stands in for it. */
const CONFIDENCE_SCORES = ['msp', 'maxsoftmax', 'max_softmax'];

export function selectGallery(report: Report, perKind = 8, model = headlineModel(report), score = headlineScore(report, model)): Gallery | null {
  if (model === undefined || score === undefined) return null;
  const classes = modelClasses(report, model);
  const className = (i: number | null | undefined): string | null => (i === null || i === undefined ? null : classes[i] ?? String(i));
  const idSplits = new Set(splitsWithRole(report, 'id'));
  const oodSplits = new Set(splitsWithRole(report, 'ood'));
  const labelled = new Set([...idSplits, ...splitsWithRole(report, 'calib')]);
  const scoreOf = (s: SampleRow, name: string): number | null => {
    const v = s.scores[model]?.[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const confidenceScore = CONFIDENCE_SCORES.find((n) => report.samples.some((s) => scoreOf(s, n) !== null)) ?? score;
  const threshold = report.thresholds.find((t) => t.model === model && t.score === score)?.threshold;

  const pick = (kind: GalleryKind, rows: SampleRow[], by: string, descending: boolean): GalleryItem[] =>
    rows
      .map((s) => ({ s, v: scoreOf(s, by) }))
      .filter((e): e is { s: SampleRow; v: number } => e.v !== null)
      .sort((a, b) => (descending ? b.v - a.v : a.v - b.v))
      .slice(0, perKind)
      .map(({ s }) => ({
        kind,
        path: s.path,
        split: s.split,
        score: scoreOf(s, score) ?? NaN,
        label: className(s.label),
        prediction: className(s.prediction[model]),
        ...(threshold !== undefined && scoreOf(s, score) !== null ? { flagged: scoreOf(s, score)! > threshold } : {}),
      }));

  const id = report.samples.filter((s) => idSplits.has(s.split));
  const ood = report.samples.filter((s) => oodSplits.has(s.split));
  const wrong = report.samples.filter((s) => {
    const p = s.prediction[model];
    return labelled.has(s.split) && s.label !== null && p !== null && p !== undefined && p !== s.label;
  });
  return {
    model,
    score,
    items: [
      ...pick('most-ood-id', id, score, true),
      ...pick('least-ood-ood', ood, score, false),
      // Lowest OOD score = the model was most sure of itself.
      ...pick('confident-wrong', wrong, confidenceScore, false),
    ],
  };
}
