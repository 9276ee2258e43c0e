// Chart configurations built from the report's precomputed histograms, curves, bins and projections.
// Each chart comes with a text alternative and its data as a table.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  Filler, PointElement, ScatterController, Tooltip,
} from 'chart.js';
import type { ChartConfiguration, ChartDataset, Plugin } from 'chart.js';
import type { CalibrationRow, HistogramSet, ReliabilityBin } from '../src/engine/report/types';
import type { ChartId, ViewCurve, ViewProjection } from '../src/shared/protocol';
import { fmt, h, table } from './dom';
import { type Theme, withAlpha } from './theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement,
  ScatterController, Filler, Legend, Tooltip);

export interface ChartSpec {
  id: ChartId;
  title: string;
  /** The chart's text alternative (aria-label). */
  summary: string;
  config: ChartConfiguration;
  data: HTMLTableElement;
}

interface XY { x: number; y: number }

export function applyTheme(theme: Theme): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = withAlpha(theme.grid, 0.6);
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

/** Canvases are transparent: paint the editor background so an exported PNG looks like the panel. */
export function background(theme: Theme): Plugin {
  return {
    id: 'oodBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}

/** A dashed vertical line at x = value; `row` moves its label down so two lines' labels do not overlap. */
export function verticalLine(value: number, color: string, label: string, id = 'oodThreshold', row = 0): Plugin {
  return {
    id,
    afterDatasetsDraw(chart) {
      const x = chart.scales.x.getPixelForValue(value);
      const { top, bottom } = chart.chartArea;
      const { ctx } = chart;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.fillText(label, x + 4, top + 10 + 14 * row);
      ctx.restore();
    },
  };
}

const points = (xs: ArrayLike<number>, ys: ArrayLike<number>): XY[] =>
  Array.from({ length: Math.min(xs.length, ys.length) }, (_, i) => ({ x: xs[i], y: ys[i] }));

function splitColor(theme: Theme, splits: string[], split: string): string {
  const i = splits.indexOf(split);
  return theme.palette[(i < 0 ? splits.length : i) % theme.palette.length];
}

export function histogramChart(hist: HistogramSet, splits: string[], theme: Theme): ChartSpec {
  const names = Object.keys(hist.counts);
  // Splits differ in size: each is drawn as its fraction of samples per bin so shapes compare.
  const datasets: ChartDataset<'line', XY[]>[] = names.map((split) => {
    const counts = hist.counts[split];
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    const data = counts.map((c, i) => ({ x: hist.edges[i], y: c / total }));
    if (counts.length) data.push({ x: hist.edges[counts.length], y: counts[counts.length - 1] / total });
    const color = splitColor(theme, splits, split);
    return { label: split, data, stepped: 'after', borderColor: color, backgroundColor: withAlpha(color, 0.25), fill: 'origin', pointRadius: 0, borderWidth: 2 };
  });
  const plugins = [background(theme)];
  if (hist.threshold !== null) plugins.push(verticalLine(hist.threshold, theme.threshold, `threshold ${fmt(hist.threshold)}`));
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: `${hist.score} (higher = more OOD)` } },
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'fraction of split' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
    plugins,
  };
  const data = table(undefined, `Histogram of ${hist.score} for ${hist.model} (counts per bin)`, ['bin', ...names],
    hist.edges.slice(0, -1).map((lo, i) => [`${fmt(lo)} – ${fmt(hist.edges[i + 1])}`, ...names.map((n) => hist.counts[n][i] ?? 0)]));
  const threshold = hist.threshold === null ? 'no deployment threshold' : `deployment threshold at ${fmt(hist.threshold)}`;
  return {
    id: 'histogram',
    title: `Score distribution: ${hist.score} · ${hist.model}`,
    summary: `Histogram of ${hist.score} for model ${hist.model} over splits ${names.join(', ')}; ${threshold}.`,
    config: config as unknown as ChartConfiguration,
    data,
  };
}

export interface CurveEntry { curve: ViewCurve; auroc: number | undefined; aupr: number | undefined }

/** A dashed reference line (chance, perfect calibration, an oracle) in the foreground colour. */
export function diagonal(theme: Theme, from: XY, to: XY, label: string, alpha = 0.4): ChartDataset<'scatter', XY[]> {
  return { label, data: [from, to], showLine: true, borderColor: withAlpha(theme.foreground, alpha), borderDash: [4, 4], pointRadius: 0, borderWidth: 1 };
}

/**
 * A scatter chart of curves over [0, 1] × [0, 1] (`yMax: null` leaves y unbounded above), legend at the bottom
 * without the entries `hide` names.
 */
export function unitScatter(theme: Theme, datasets: ChartDataset<'scatter', XY[]>[], x: string, y: string, opts: { yMax?: null; hide?: (label: string) => boolean } = {}): ChartConfiguration {
  const { hide } = opts;
  const config: ChartConfiguration<'scatter', XY[]> = {
    type: 'scatter',
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', min: 0, max: 1, title: { display: true, text: x } },
        y: { type: 'linear', min: 0, ...(opts.yMax === null ? {} : { max: 1 }), title: { display: true, text: y } },
      },
      plugins: { legend: { position: 'bottom', ...(hide ? { labels: { filter: (item) => !hide(item.text) } } : {}) } },
    },
    plugins: [background(theme)],
  };
  return config as unknown as ChartConfiguration;
}

function curveChart(id: 'roc' | 'pr', entries: CurveEntry[], theme: Theme): ChartSpec {
  const roc = id === 'roc';
  const datasets: ChartDataset<'scatter', XY[]>[] = [];
  entries.forEach(({ curve, auroc, aupr }, i) => {
    const color = theme.palette[i % theme.palette.length];
    const metric = roc ? `AUROC ${fmt(auroc)}` : `AUPR-Out ${fmt(aupr)}`;
    datasets.push({
      label: `${curve.model} (${metric})`,
      data: roc ? points(curve.roc.fpr, curve.roc.tpr) : points(curve.pr.recall, curve.pr.precision),
      showLine: true, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2,
    });
    if (roc) {
      datasets.push({
        label: `${curve.model} FPR95 point`, data: [{ x: curve.fpr95Point.fpr, y: curve.fpr95Point.tpr }],
        pointStyle: 'rectRot', pointRadius: 6, borderColor: color, backgroundColor: color,
      });
    }
  });
  if (roc) datasets.push(diagonal(theme, { x: 0, y: 0 }, { x: 1, y: 1 }, 'chance'));
  const first = entries[0]?.curve;
  const what = first ? `${first.score} on ${first.split}` : '';
  const config = unitScatter(theme, datasets, roc ? 'FPR (ID flagged as OOD)' : 'recall (OOD positive)', roc ? 'TPR (OOD flagged)' : 'precision (OOD positive)', { hide: (label) => label.endsWith('FPR95 point') });
  const head = roc ? ['model', 'FPR', 'TPR'] : ['model', 'recall', 'precision'];
  const rows = entries.flatMap(({ curve }) => {
    const [xs, ys] = roc ? [curve.roc.fpr, curve.roc.tpr] : [curve.pr.recall, curve.pr.precision];
    return points(xs, ys).map((p) => [curve.model, fmt(p.x), fmt(p.y)]);
  });
  const metrics = entries.map((e) => `${e.curve.model} ${roc ? `AUROC ${fmt(e.auroc)}, FPR95 point at FPR ${fmt(e.curve.fpr95Point.fpr)} TPR ${fmt(e.curve.fpr95Point.tpr)}` : `AUPR-Out ${fmt(e.aupr)}`}`);
  return {
    id,
    title: `${roc ? 'ROC' : 'Precision–recall'} (OOD positive): ${what}`,
    summary: `${roc ? 'ROC' : 'Precision-recall'} curves for ${what}: ${metrics.join('; ')}.`,
    config,
    data: table(undefined, `${roc ? 'ROC' : 'PR'} curve points (downsampled)`, head, rows),
  };
}

export const rocChart = (entries: CurveEntry[], theme: Theme) => curveChart('roc', entries, theme);
export const prChart = (entries: CurveEntry[], theme: Theme) => curveChart('pr', entries, theme);

/** `scaled.bins` is untyped in the report: keep only well-formed bins. */
export function scaledBins(row: CalibrationRow): ReliabilityBin[] | undefined {
  const bins = row.scaled?.bins;
  if (!Array.isArray(bins)) return undefined;
  return bins.filter((b): b is ReliabilityBin => typeof b === 'object' && b !== null && typeof b.lo === 'number' && typeof b.hi === 'number' && typeof b.count === 'number');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function reliabilityChart(stage: 'before' | 'after', row: CalibrationRow, bins: ReliabilityBin[], ece: unknown, theme: Theme): ChartSpec {
  const labels = bins.map((b) => `${b.lo.toFixed(2)}–${b.hi.toFixed(2)}`);
  const hasBands = bins.some((b) => isNum(b.consistency_lo));
  const accColor = theme.palette[0];
  const gapColor = theme.error;
  const config = {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'accuracy', data: bins.map((b) => b.accuracy), backgroundColor: withAlpha(accColor, 0.7), yAxisID: 'y', grouped: false, order: 2 },
        // Floating bars from accuracy to confidence: the calibration gap in each bin.
        { type: 'bar', label: 'gap', data: bins.map((b) => (b.accuracy === null || b.confidence === null ? null : [b.accuracy, b.confidence])),
          backgroundColor: withAlpha(gapColor, 0.35), borderColor: gapColor, borderWidth: 1, yAxisID: 'y', grouped: false, order: 1 },
        { type: 'line', label: 'perfect calibration', data: bins.map((b) => (b.lo + b.hi) / 2), borderColor: withAlpha(theme.foreground, 0.6),
          borderDash: [4, 4], pointRadius: 0, borderWidth: 1, yAxisID: 'y', order: 0 },
        { type: 'bar', label: 'samples', data: bins.map((b) => b.count), backgroundColor: withAlpha(theme.foreground, 0.35), yAxisID: 'count', order: 3 },
        // Bröcker–Smith consistency band: where a perfectly calibrated model's bar would end (5–95%), thin and hollow.
        ...(hasBands ? [{ type: 'bar', label: 'consistency band (5–95%)', data: bins.map((b) => (b.count && isNum(b.consistency_lo) && isNum(b.consistency_hi) ? [b.consistency_lo, b.consistency_hi] : null)),
          backgroundColor: withAlpha(theme.foreground, 0.15), borderColor: withAlpha(theme.foreground, 0.8), borderWidth: 1, barPercentage: 0.35, yAxisID: 'y', grouped: false, order: 0 }] : []),
      ],
    },
    options: {
      scales: {
        x: { type: 'category', title: { display: true, text: 'confidence' } },
        // Stacked axes are laid out bottom-up in definition order: the confidence histogram sits below.
        count: { type: 'linear', beginAtZero: true, stack: 'reliability', stackWeight: 1, offset: true, title: { display: true, text: 'count' } },
        y: { type: 'linear', min: 0, max: 1, stack: 'reliability', stackWeight: 3, title: { display: true, text: 'accuracy' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
    plugins: [background(theme)],
  };
  const title = `Reliability ${stage === 'before' ? 'before' : 'after'} temperature scaling: ${row.model} on ${row.split}`;
  return {
    id: stage === 'before' ? 'reliability-before' : 'reliability-after',
    title,
    summary: `${title}. ECE ${fmt(ece)}${stage === 'after' ? `, temperature ${fmt(row.temperature)}` : ''}; accuracy against confidence in ${bins.length} bins, gaps as bars, diagonal for perfect calibration${hasBands ? ', consistency bands as thin bars' : ''}, sample counts below.`,
    config: config as unknown as ChartConfiguration,
    data: table(undefined, `${title} (bins)`, ['bin', 'count', 'accuracy', 'confidence', ...(hasBands ? ['consistency 5%', 'consistency 95%'] : [])],
      bins.map((b, i) => [labels[i], b.count, fmt(b.accuracy), fmt(b.confidence), ...(hasBands ? [fmt(b.consistency_lo), fmt(b.consistency_hi)] : [])])),
  };
}

export function projectionChart(proj: ViewProjection, splits: string[], theme: Theme): ChartSpec {
  const datasets: ChartDataset<'scatter', XY[]>[] = proj.points.map((p) => {
    const color = splitColor(theme, splits, p.split);
    return { label: p.split, data: points(p.x, p.y), backgroundColor: withAlpha(color, 0.6), borderColor: color, pointRadius: 2 };
  });
  const [v1, v2] = proj.explainedVariance;
  const config: ChartConfiguration<'scatter', XY[]> = {
    type: 'scatter',
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: `PC1 (${fmt(v1 * 100, 1)}% variance)` } },
        y: { type: 'linear', title: { display: true, text: `PC2 (${fmt(v2 * 100, 1)}% variance)` } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
    plugins: [background(theme)],
  };
  const rows = proj.points.flatMap((p) => points(p.x, p.y).map((pt) => [p.split, fmt(pt.x), fmt(pt.y)]));
  return {
    id: 'projection',
    title: `Feature projection (PCA fitted on ID): ${proj.model}`,
    summary: `Scatter of features of ${proj.model} projected on two principal components fitted on the ID split, by split: ${proj.points.map((p) => `${p.split} (${p.x.length} points)`).join(', ')}.`,
    config: config as unknown as ChartConfiguration,
    data: table(undefined, `Projected points of ${proj.model}`, ['split', 'PC1', 'PC2'], rows),
  };
}

export interface MountedFigure { element: HTMLElement; mount(): Chart }

/** The figure is built detached; `mount` creates the chart once the canvas is in the document (Chart.js sizes it then). */
export function chartFigure(spec: ChartSpec, onExport?: (id: ChartId, chart: Chart) => void): MountedFigure {
  const canvas = h('canvas', { id: `chart-${spec.id}`, role: 'img', 'aria-label': spec.summary, tabindex: 0 });
  const actions = h('div', { class: 'chart-actions' });
  const element = h('figure', { class: 'chart', 'data-chart': spec.id },
    h('figcaption', {}, spec.title), h('div', { class: 'chart-box' }, canvas), actions,
    h('details', {}, h('summary', {}, 'Data table'), spec.data));
  return {
    element,
    mount() {
      const chart = new Chart(canvas, spec.config);
      if (onExport) {
        const button = h('button', { type: 'button', class: 'secondary' }, 'Save PNG…');
        button.addEventListener('click', () => onExport(spec.id, chart));
        actions.appendChild(button);
      }
      return chart;
    },
  };
}
