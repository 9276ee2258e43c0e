// The calibrator comparison in the panel and the HTML report: every calibrator fitted on the calibration split and
// measured on the ID split, in one table after the uncalibrated model, with its conventions in one line.
import type { CalibrationSummary, CalibratorRow } from '../src/engine/report/types';
import { fmt, h, table } from './dom';

export const CALIBRATORS_CONVENTIONS =
  'Fitted on the calibration split, measured on ID. Dirichlet: ODIR λ = μ = 0.01; ensemble temperature: weights of softmax(z/T), softmax(z) and uniform by NLL; ' +
  'histogram binning (15 equal-mass bins) and isotonic (sklearn PAV) are top-label (*): the prediction is kept, NLL/Brier spread 1 − g over the other classes in proportion. ' +
  'LAC: q̂ on the calibrator\'s probabilities. Export: ood-lens calibrate --calibrator NAME (the last-layer refit is report-only).';

const metrics = (m: CalibrationSummary) => [fmt(m.accuracy), fmt(m.ece), fmt(m.smece), fmt(m.nll), fmt(m.brier)];

export function calibratorsSection(rows: CalibratorRow[]): HTMLElement | null {
  if (rows.length === 0) return null;
  const alpha = rows.find((r) => r.lac?.length)?.lac?.[0].alpha;
  const lac = (r: CalibratorRow) => {
    const l = r.lac?.find((x) => x.alpha === alpha);
    return l ? `${fmt(l.coverage)} / ${fmt(l.mean_set_size, 2)}` : '—';
  };
  const body: string[][] = [];
  for (const model of new Set(rows.map((r) => r.model))) {
    const mine = rows.filter((r) => r.model === model);
    body.push([model, 'none (as trained)', ...metrics(mine[0].before), '—', '—']);
    for (const r of mine) body.push([model, `${r.method}${r.topLabel ? ' *' : ''}`, ...metrics(r.after), lac(r), r.parameters ? 'yes' : 'report only']);
  }
  const head = ['model', 'calibrator', 'accuracy', 'ECE', 'smECE', 'NLL', 'Brier', alpha === undefined ? 'LAC' : `LAC coverage / size (α = ${alpha})`, 'ONNX export'];
  return h('div', { id: 'calibrators' },
    table('calibrators-table', `Calibrators fitted on "${rows[0].fittedOn}", measured on "${rows[0].evaluatedOn}"`, head, body),
    h('p', { class: 'conventions-line' }, CALIBRATORS_CONVENTIONS));
}
