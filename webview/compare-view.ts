// OOD Lens: Compare Reports: two sides (two runs, two files or two models of one report) for one score at a time:
// the OOD table as A, B and B − A, overlaid histograms (A solid, B dashed) and ROC curves, and the samples whose OOD
// flag changed between them (each side flags at its own deployment threshold; src/engine/compare/diff.ts).
import type { Chart, ChartConfiguration, ChartDataset } from 'chart.js';
import { delta } from '../src/engine/history/metrics';
import type { FlagChange, OodMetric } from '../src/engine/compare/diff';
import type { ChartId, ComparePayload, CompareSideView, FromWebviewMessage } from '../src/shared/protocol';
import { applyTheme, background, chartFigure, diagonal, unitScatter, type ChartSpec } from './charts';
import { append, clear, fmt, h, table } from './dom';
import { deltaBadge } from './history-view';
import { resolveTheme, type Theme, withAlpha } from './theme';

const METRICS: { key: OodMetric; label: string; direction: 'auroc' | 'fpr95' }[] = [
  { key: 'auroc', label: 'AUROC', direction: 'auroc' },
  { key: 'fpr95', label: 'FPR95', direction: 'fpr95' },
  { key: 'aupr_in', label: 'AUPR-In', direction: 'auroc' },
  { key: 'aupr_out', label: 'AUPR-Out', direction: 'auroc' },
];

interface XY { x: number; y: number }

export class CompareView {
  private payload?: ComparePayload;
  private score = '';
  private split = '';
  private charts: Chart[] = [];

  constructor(private readonly root: HTMLElement, private readonly post: (m: FromWebviewMessage) => void) {}

  show(payload: ComparePayload): void {
    this.payload = payload;
    const { a, b, diff } = payload;
    this.score = diff.scores[0] ?? '';
    const oodSplits = [...new Set([a, b].flatMap((s) => s.splits.filter((x) => x.role === 'ood').map((x) => x.name)))];
    this.split = oodSplits[0] ?? '';
    const select = (id: string, options: string[], value: string, onChange: (v: string) => void) => {
      const el = h('select', { id }, ...options.map((o) => h('option', { value: o, selected: o === value }, o)));
      el.addEventListener('change', () => onChange(el.value));
      return el;
    };
    clear(this.root);
    append(this.root,
      h('header', { id: 'compare-header' }, h('h1', {}, 'Compare reports'),
        h('dl', { class: 'facts' }, ...[a, b].flatMap((s, i) => [h('dt', {}, s.label), h('dd', { id: `compare-side-${i === 0 ? 'a' : 'b'}`, title: `report created ${new Date(s.createdAt).toLocaleString()}` }, sideText(s))])),
        h('p', { class: 'conventions-line' }, 'B − A: positive means B is higher. Colours and words say better or worse (AUROC, AUPR higher is better; FPR95 lower is better). A sample is flagged OOD when its score is above its side\'s deployment threshold.')),
      h('div', { class: 'controls' },
        h('label', {}, 'Score ', select('compare-score', diff.scores, this.score, (v) => { this.score = v; this.draw(); })),
        h('label', {}, 'OOD split ', select('compare-split', oodSplits, this.split, (v) => { this.split = v; this.draw(); }))),
      h('section', { id: 'compare-table-section' }), h('div', { id: 'compare-charts', class: 'charts' }), h('section', { id: 'compare-gallery' }));
    this.draw();
  }

  redraw(): void {
    if (this.payload) this.draw();
  }

  private draw(): void {
    const { a, b, diff } = this.payload!;
    const theme = resolveTheme();
    applyTheme(theme);
    this.charts.forEach((c) => c.destroy());
    this.charts = [];
    const tableSection = document.getElementById('compare-table-section')!;
    clear(tableSection);
    const rows = diff.ood.filter((r) => r.score === this.score);
    append(tableSection, h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'OOD detection, A, B and B − A' }, h('table', { id: 'compare-table' },
      h('caption', {}, `OOD detection (${this.score}): A, B and B − A`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'OOD split'), ...METRICS.flatMap((m) => ['A', 'B', 'B − A'].map((x) => h('th', { scope: 'col' }, `${m.label} ${x}`))))),
      h('tbody', {}, ...rows.map((r) => h('tr', { 'data-split': r.split, 'data-score': r.score }, h('td', {}, r.split), ...METRICS.flatMap((m) => {
        const t = r.metrics[m.key];
        const d = delta(m.direction, t.b, t.a);
        return [h('td', { 'data-metric': `${m.key}_a` }, fmt(t.a)), h('td', { 'data-metric': `${m.key}_b` }, fmt(t.b)),
          h('td', { 'data-metric': `${m.key}_delta` }, d ? deltaBadge(d, 'B − A', 'A is') : '—')];
        })))))));
    const charts = document.getElementById('compare-charts')!;
    clear(charts);
    const exporter = (id: ChartId, chart: Chart) => this.post({ type: 'exportChart', chart: id, dataUrl: chart.toBase64Image('image/png') });
    const figures = [histogramOverlay(a, b, this.score, this.split, theme), rocOverlay(a, b, this.score, this.split, theme)]
      .filter((s): s is ChartSpec => s !== null).map((s) => chartFigure(s, exporter));
    if (figures.length === 0) charts.appendChild(h('p', { class: 'empty' }, `No histograms or curves of ${this.score} on either side.`));
    figures.forEach((f) => charts.appendChild(f.element));
    this.charts = figures.map((f) => f.mount());
    this.drawGallery();
    document.body.dataset.ready = 'true';
    document.body.dataset.compareReady = 'true';
  }

  private drawGallery(): void {
    const section = document.getElementById('compare-gallery')!;
    clear(section);
    const f = this.payload!.diff.flags.find((x) => x.score === this.score);
    section.appendChild(h('h2', { id: 'compare-gallery-heading' }, 'Samples whose OOD flag changed'));
    if (!f) {
      section.appendChild(h('p', { class: 'empty' }, `No flag comparison for ${this.score}: a side has no deployment threshold or no per-sample scores, or no sample is on both sides.`));
      return;
    }
    section.appendChild(h('p', { id: 'compare-flag-counts' },
      `${f.newlyFlagged} newly flagged by B, ${f.noLongerFlagged} no longer flagged, of ${f.matched} samples on both sides (A flags ${this.score} > ${fmt(f.thresholdA, 4)}, B flags > ${fmt(f.thresholdB, 4)})${f.items.length < f.newlyFlagged + f.noLongerFlagged ? `; the ${f.items.length} largest moves are shown` : ''}.`));
    for (const [now, title] of [[true, 'Newly flagged OOD by B'], [false, 'No longer flagged by B']] as const) {
      const items = f.items.filter((i) => i.nowFlagged === now);
      if (items.length) section.appendChild(h('div', { class: 'gallery-group', 'data-kind': now ? 'newly-flagged' : 'no-longer-flagged' }, h('h3', {}, title), h('ul', { class: 'gallery' }, ...items.map((i) => this.item(i)))));
    }
  }

  private item(c: FlagChange): HTMLElement {
    const name = c.path.split(/[\\/]/).pop() ?? c.path;
    const caption = `${name} · ${c.split} · ${this.score} ${fmt(c.scoreA)} → ${fmt(c.scoreB)}`;
    const src = this.payload!.thumbnails[c.path];
    const body = h('button', { type: 'button', class: 'sample', title: `Reveal ${c.path} in the Explorer` }, src ? h('img', { src, alt: caption, loading: 'lazy' }) : null, h('span', {}, caption));
    body.addEventListener('click', () => this.post({ type: 'revealSample', path: c.path }));
    return h('li', { 'data-path': c.path }, body);
  }
}

function sideText(s: CompareSideView): string {
  const files = s.files.map((f) => `${f.path.split(/[\\/]/).pop()}${f.sha256 ? ` (sha256 ${f.sha256.slice(0, 12)})` : ''}`).join(', ');
  return `model ${s.model}${files ? ` · ${files}` : ''}`;
}

/** Each side's ID and selected OOD split as fractions per bin (each on its own bin edges): A solid, B dashed. */
function histogramOverlay(a: CompareSideView, b: CompareSideView, score: string, split: string, theme: Theme): ChartSpec | null {
  const datasets: ChartDataset<'line', XY[]>[] = [];
  const rows: (string | number)[][] = [];
  [a, b].forEach((side, i) => {
    const hist = side.histograms.find((x) => x.score === score);
    if (!hist) return;
    const id = side.splits.find((s) => s.role === 'id')?.name;
    [id, split].filter((n): n is string => !!n && !!hist.counts[n]).forEach((name, j) => {
      const counts = hist.counts[name];
      const total = counts.reduce((x, y) => x + y, 0) || 1;
      const data = counts.map((c, k) => ({ x: hist.edges[k], y: c / total }));
      if (counts.length) data.push({ x: hist.edges[counts.length], y: counts[counts.length - 1] / total });
      const color = theme.palette[j % theme.palette.length];
      datasets.push({ label: `${i === 0 ? 'A' : 'B'} ${name}`, data, stepped: 'after', borderColor: color, backgroundColor: withAlpha(color, 0.15), fill: i === 0 ? 'origin' : false, borderDash: i === 0 ? [] : [6, 4], pointRadius: 0, borderWidth: 2 });
      counts.forEach((c, k) => rows.push([i === 0 ? 'A' : 'B', name, `${fmt(hist.edges[k])} – ${fmt(hist.edges[k + 1])}`, c]));
    });
  });
  if (datasets.length === 0) return null;
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: `${score} (higher = more OOD)` } }, y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'fraction of split' } } },
      plugins: { legend: { position: 'bottom' } },
    },
    plugins: [background(theme)],
  };
  return {
    id: 'compare-histogram',
    title: `Score distributions: ${score}, A solid, B dashed`,
    summary: `Histograms of ${score} for ${datasets.map((d) => d.label).join(', ')}: A filled and solid, B dashed.`,
    config: config as unknown as ChartConfiguration,
    data: table(undefined, `Histogram counts of ${score} per side and split`, ['side', 'split', 'bin', 'count'], rows),
  };
}

function rocOverlay(a: CompareSideView, b: CompareSideView, score: string, split: string, theme: Theme): ChartSpec | null {
  const datasets: ChartDataset<'scatter', XY[]>[] = [];
  const rows: string[][] = [];
  [a, b].forEach((side, i) => {
    const c = side.curves.find((x) => x.score === score && x.split === split);
    if (!c) return;
    const tag = i === 0 ? 'A' : 'B';
    const color = theme.palette[i % theme.palette.length];
    const pts = Array.from({ length: Math.min(c.roc.fpr.length, c.roc.tpr.length) }, (_, k) => ({ x: c.roc.fpr[k], y: c.roc.tpr[k] }));
    datasets.push({ label: `${tag} ${side.model}`, data: pts, showLine: true, borderColor: color, backgroundColor: color, borderDash: i === 0 ? [] : [6, 4], pointRadius: 0, borderWidth: 2 });
    pts.forEach((p) => rows.push([tag, fmt(p.x), fmt(p.y)]));
  });
  if (datasets.length === 0) return null;
  datasets.push(diagonal(theme, { x: 0, y: 0 }, { x: 1, y: 1 }, 'chance'));
  return {
    id: 'compare-roc',
    title: `ROC (OOD positive): ${score} on ${split}, A solid, B dashed`,
    summary: `ROC curves of ${score} on ${split} for ${datasets.slice(0, -1).map((d) => d.label).join(' and ')}.`,
    config: unitScatter(theme, datasets, 'FPR (ID flagged as OOD)', 'TPR (OOD flagged)'),
    data: table(undefined, 'ROC curve points (downsampled)', ['side', 'FPR', 'TPR'], rows),
  };
}
