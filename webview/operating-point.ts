// The operating point in the panel: a click on the score histogram (a threshold) or on the ROC curve (an ID
// false-positive rate), or a typed threshold, asks the host for the numbers at that point; they come back from the
// report's per-sample scores (src/engine/operating-point.ts). "Use as deployment threshold" writes it to oodlens.json.
import type { Chart, ChartDataset, ChartEvent } from 'chart.js';
import type { OperatingPoint } from '../src/engine/operating-point';
import type { PickAt } from '../src/shared/protocol';
import { type ChartSpec, verticalLine } from './charts';
import { fmt, h, table } from './dom';
import type { Theme } from './theme';

export const OPERATING_POINT_CONVENTIONS = 'Higher score = more OOD; a sample is flagged OOD when score > threshold; OOD is the positive class: TPR = OOD flagged, FPR = ID flagged, precision = OOD among the flagged (it depends on this report\'s ID : OOD ratio). Exact, from the per-sample scores.';

export interface Picked {
  model: string;
  score: string;
  point: OperatingPoint | null;
  error?: string;
}

/** Clicks on the chart's plot area become picks: the x value of a histogram, the FPR of a ROC curve. */
export function makePickable(spec: ChartSpec, onPick: (at: PickAt) => void): ChartSpec {
  const options = (spec.config.options ??= {});
  const inside = (event: ChartEvent, chart: Chart) => {
    const area = chart.chartArea;
    return event.x !== null && event.y !== null && event.x >= area.left && event.x <= area.right && event.y >= area.top && event.y <= area.bottom;
  };
  options.onHover = (event: ChartEvent, _elements: unknown, chart: Chart) => {
    chart.canvas.style.cursor = inside(event, chart) ? 'crosshair' : 'default';
  };
  options.onClick = (event: ChartEvent, _elements: unknown, chart: Chart) => {
    if (!inside(event, chart)) return;
    const x = chart.scales.x.getValueForPixel(event.x!);
    if (x === undefined || !Number.isFinite(x)) return;
    onPick(spec.id === 'roc' ? { fpr: Math.min(1, Math.max(0, x)) } : { threshold: x });
  };
  return { ...spec, title: `${spec.title} · click to pick a threshold`, summary: `${spec.summary} Click to pick a threshold; the operating point section below also takes one typed.` };
}

/** The picked threshold on the histogram, beside the deployment threshold. */
export function markHistogram(spec: ChartSpec, point: OperatingPoint, theme: Theme): void {
  (spec.config.plugins ??= []).push(verticalLine(point.threshold, theme.foreground, `picked ${fmt(point.threshold)}`, 'oodPicked', 1));
}

/** The picked point on the ROC curve of the selected OOD split. */
export function markRoc(spec: ChartSpec, point: OperatingPoint, split: string, theme: Theme): void {
  const c = point.confusion.find((x) => x.oodSplit === split);
  if (!c || !Number.isFinite(c.fpr) || !Number.isFinite(c.tpr)) return;
  const datasets = spec.config.data.datasets as ChartDataset<'scatter', { x: number; y: number }[]>[];
  datasets.push({ label: `picked ${point.model} (t = ${fmt(point.threshold)})`, data: [{ x: c.fpr, y: c.tpr }], pointStyle: 'crossRot', pointRadius: 9, borderWidth: 3, borderColor: theme.foreground, backgroundColor: theme.foreground });
}

export interface OperatingPointActions {
  pick(at: PickAt): void;
  /** Absent: this report cannot be saved to (no oodlens.json, or the stand-alone HTML report). */
  use?(threshold: number): void;
}

/** The section's content for the selected model and score; `picked` only when it is for them. */
export function operatingPointSection(picked: Picked | undefined, model: string, score: string, actions: OperatingPointActions | undefined): HTMLElement[] {
  const heading = h('h3', { id: 'operating-point-heading' }, `Operating point: ${model} · ${score}`);
  const conventions = h('p', { class: 'conventions-line' }, OPERATING_POINT_CONVENTIONS);
  if (!actions) return [heading, conventions, h('p', { class: 'empty' }, 'Open this report in VS Code to pick a threshold on the histogram or the ROC curve.')];
  const input = h('input', { id: 'op-threshold', type: 'number', step: 'any', 'aria-label': `Threshold on ${score}`, value: picked?.point ? String(picked.point.threshold) : '' });
  const form = h('form', { class: 'controls', id: 'op-form' }, h('label', {}, 'Threshold ', input), h('button', { type: 'submit', class: 'secondary' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = Number(input.value);
    if (input.value !== '' && Number.isFinite(t)) actions.pick({ threshold: t });
  });
  const out: HTMLElement[] = [heading, conventions, form];
  if (picked?.error) out.push(h('p', { class: 'empty', role: 'status' }, picked.error));
  const p = picked?.point;
  if (!p) return picked?.error ? out : [...out, h('p', { class: 'empty' }, 'Click the score histogram or the ROC curve, or type a threshold.')];
  out.push(
    h('p', { role: 'status', id: 'op-summary' }, `At ${score} > ${fmt(p.threshold, 4)}:`),
    table('op-splits', `Fraction of each split flagged OOD at ${fmt(p.threshold, 4)}`, ['split', 'role', 'n', 'flagged', 'fraction flagged'],
      p.splits.map((s) => [s.split, s.role, count('n', s.n), count('flagged', s.flagged), cell('fraction', s.fraction)])),
    confusionTable(p));
  if (actions.use) {
    const use = h('button', { type: 'button', id: 'use-threshold' }, 'Use as deployment threshold');
    use.addEventListener('click', () => actions.use!(p.threshold));
    out.push(h('p', {}, use, ` writes { model: ${p.model}, score: ${p.score}, threshold: ${fmt(p.threshold, 4)} } to oodlens.json; the badges, gallery and gates then use it.`));
  } else {
    out.push(h('p', { class: 'empty' }, 'Run from an oodlens.json (Run Workspace Config) to save this as the deployment threshold.'));
  }
  return out;
}

function cell(metric: string, v: number): HTMLTableCellElement {
  return h('td', { 'data-metric': metric }, fmt(v));
}

function count(metric: string, n: number): HTMLTableCellElement {
  return h('td', { 'data-metric': metric }, String(n));
}

function confusionTable(p: OperatingPoint): HTMLTableElement {
  const t = table('op-confusion', `Against the ID split (${p.confusion[0]?.idSplit ?? '—'}), OOD positive: confusion counts, TPR, FPR and precision`,
    ['OOD split', 'TP (OOD flagged)', 'FP (ID flagged)', 'TN (ID kept)', 'FN (OOD kept)', 'TPR', 'FPR', 'precision'],
    p.confusion.map((c) => [c.oodSplit, count('tp', c.tp), count('fp', c.fp), count('tn', c.tn), count('fn', c.fn), cell('tpr', c.tpr), cell('fpr', c.fpr), cell('precision', c.precision)]));
  t.querySelectorAll('tbody tr').forEach((tr, i) => tr.setAttribute('data-split', p.confusion[i].oodSplit));
  return t;
}
