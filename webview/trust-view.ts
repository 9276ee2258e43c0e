// The questions after AUROC in the panel: the risk–coverage curve (with the oracle that rejects every error first)
// and the conformal sets' coverage and size, each with its data as a table and its conventions in one line.
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { ConformalRow, SelectiveRow } from '../src/engine/report/types';
import { background, unitScatter, type ChartSpec } from './charts';
import { fmt, h, table } from './dom';
import { type Theme, withAlpha } from './theme';

interface XY { x: number; y: number }

/** The best any confidence could do: every error rejected before any correct sample (risk 0 down to 1 − r). */
function oracle(errorRate: number): XY[] {
  const pts: XY[] = [];
  for (let t = 0; t <= 100; t++) {
    const c = t / 100;
    pts.push({ x: c, y: c <= 1 - errorRate ? 0 : (c - (1 - errorRate)) / c });
  }
  return pts;
}

export function riskCoverageChart(rows: SelectiveRow[], theme: Theme): ChartSpec | null {
  const shown = rows.filter((r) => r.curve?.coverage.length);
  if (shown.length === 0) return null;
  const datasets: ChartDataset<'scatter', XY[]>[] = shown.map((r, i) => ({
    label: `${r.split} (AURC ${fmt(r.aurc)})`,
    data: r.curve.coverage.map((x, j) => ({ x, y: r.curve.risk[j] })),
    showLine: true, borderColor: theme.palette[i % theme.palette.length], backgroundColor: theme.palette[i % theme.palette.length], pointRadius: 0, borderWidth: 2,
  }));
  datasets.push({ label: `oracle (${shown[0].split})`, data: oracle(shown[0].error_rate), showLine: true, borderColor: withAlpha(theme.foreground, 0.5), borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
  const config = unitScatter(theme, datasets, 'coverage (fraction accepted)', 'selective risk (error rate of the accepted)', { yMax: null });
  const title = `Risk–coverage: ${shown[0].model}, confidence = max softmax`;
  return {
    id: 'risk-coverage',
    title,
    summary: `${title}. ${shown.map((r) => `${r.split}: AURC ${fmt(r.aurc)}, risk at 95% coverage ${fmt(r.risk_at_95_coverage)}`).join('; ')}. The dashed line is the oracle.`,
    config,
    data: table(undefined, `${title} (points)`, ['split', 'coverage', 'risk'],
      shown.flatMap((r) => r.curve.coverage.map((c, j) => [r.split, fmt(c), fmt(r.curve.risk[j])]))),
  };
}

/** A bar chart of one conformal row: set sizes (how many rows get s classes) or coverage per class against 1 − α. */
function conformalBars(id: 'set-sizes' | 'class-coverage', row: ConformalRow, classes: string[], theme: Theme): ChartSpec {
  const sizes = id === 'set-sizes';
  const labels = sizes ? row.set_size_counts.map((_, s) => String(s)) : row.per_class_coverage.map((_, c) => classes[c] ?? `class ${c}`);
  const values = sizes ? row.set_size_counts : row.per_class_coverage;
  const datasets: ChartDataset<'bar' | 'line', (number | null)[]>[] = [
    { type: 'bar', label: sizes ? 'rows' : 'coverage', data: [...values], backgroundColor: withAlpha(theme.palette[0], 0.7) },
  ];
  if (!sizes) datasets.push({ type: 'line', label: `1 − α = ${fmt(1 - row.alpha, 2)}`, data: labels.map(() => 1 - row.alpha), borderColor: theme.error, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
  const config = {
    type: 'bar',
    data: { labels, datasets },
    options: {
      scales: {
        x: { type: 'category', title: { display: true, text: sizes ? 'set size (classes)' : 'class' } },
        y: { type: 'linear', beginAtZero: true, ...(sizes ? {} : { max: 1 }), title: { display: true, text: sizes ? 'rows' : 'coverage' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
    plugins: [background(theme)],
  };
  const title = sizes ? `Set sizes: ${row.method}, α = ${row.alpha}, ${row.model} on ${row.split}` : `Coverage per class: ${row.method}, α = ${row.alpha}, ${row.model} on ${row.split}`;
  return {
    id,
    title,
    summary: `${title}. ${sizes ? `Mean size ${fmt(row.mean_set_size, 2)}, ${fmt(row.empty_fraction)} empty` : `Overall coverage ${fmt(row.coverage)}, CovGap ${fmt(row.covgap)}`}.`,
    config: config as unknown as ChartConfiguration,
    data: table(undefined, `${title} (values)`, [sizes ? 'set size' : 'class', sizes ? 'rows' : 'coverage'], labels.map((l, i) => [l, sizes ? String(values[i]) : fmt(values[i])])),
  };
}

/** The set-size histogram and the per-class coverage of the model's first LAC row (the simplest, TorchCP's default). */
export function conformalCharts(rows: ConformalRow[], classes: string[], theme: Theme): (ChartSpec | null)[] {
  const row = rows.find((r) => r.method === 'lac') ?? rows[0];
  if (!row) return [];
  return [conformalBars('set-sizes', row, classes, theme), conformalBars('class-coverage', row, classes, theme)];
}

export function selectiveTable(rows: SelectiveRow[]): HTMLTableElement {
  return table('selective-table', 'Selective prediction (fd-shifts AURC; ties accepted together)', ['split', 'n', 'error rate', 'AURC', 'E-AURC', 'AUGRC', 'risk at 95% coverage'],
    rows.map((r) => [r.split, r.n, fmt(r.error_rate), fmt(r.aurc), fmt(r.eaurc), fmt(r.augrc), fmt(r.risk_at_95_coverage)]));
}

export function conformalTable(rows: ConformalRow[]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, 'No conformal sets: they need a calibration split (--calib) with labels.');
  return table('conformal-table', 'Conformal prediction sets, calibrated on the calibration split', ['split', 'method', 'α', 'q̂', 'coverage', 'mean size', 'empty', 'singletons', 'CovGap'],
    rows.map((r) => [r.split, r.method, fmt(r.alpha, 2), r.qhat === null ? (r.method === 'lac_classwise' ? 'per class' : '+∞') : fmt(r.qhat, 4), fmt(r.coverage), fmt(r.mean_set_size, 2), fmt(r.empty_fraction), fmt(r.singleton_fraction), fmt(r.covgap)]));
}

export const TRUST_CONVENTIONS = 'Confidence = max softmax; AURC as fd-shifts (trapezoid over distinct confidences). Conformal: q̂ = ⌈(n+1)(1−α)⌉-th smallest calibration score (TorchCP), LAC 1 − p_y, APS/RAPS non-randomized (RAPS λ 0.1, k_reg 1), a class is in the set when its score ≤ q̂.';
