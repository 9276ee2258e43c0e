// Renders a report payload: static parts once per payload, the charts again when a selection or the theme changes.
import type { Chart } from 'chart.js';
import type { CalibrationRow, OodRow } from '../src/engine/report/types';
import type { ChartId, FromWebviewMessage, GalleryItem, GalleryKind, PickAt, ViewPayload, WebviewState } from '../src/shared/protocol';
import type { OperatingPoint } from '../src/engine/operating-point';
import { ENSEMBLE_MODEL, headlineModel, headlineScore, modelScores, reportModels, splitsWithRole } from '../src/shared/headline';
import {
  applyTheme, chartFigure, type ChartSpec, type CurveEntry, histogramChart, type MountedFigure, prChart, projectionChart,
  reliabilityChart, rocChart, scaledBins,
} from './charts';
import { append, clear, fmt, h, table } from './dom';
import { resolveTheme, type Theme } from './theme';
import { modelFacts } from './model-facts';
import { conformalCharts, conformalTable, riskCoverageChart, selectiveTable, TRUST_CONVENTIONS } from './trust-view';
import { CALIBRATION_CONVENTIONS, smoothReliabilityChart } from './smooth-reliability';
import { calibratorsSection } from './calibrators-view';
import { finetuneCharts, finetuneSection } from './finetune-view';
import { attackSection } from './attack-view';
import { headlineStrip, trendChart } from './history-view';
import { makePickable, markHistogram, markRoc, operatingPointSection, type Picked } from './operating-point';

export interface Host {
  /** Absent in the stand-alone HTML report. */
  post?(message: FromWebviewMessage): void;
  saveState(state: WebviewState): void;
}

export type Selection = Required<Pick<WebviewState, 'model' | 'score' | 'split'>>;

const CONVENTIONS = 'Scores: higher = more OOD · AUROC/AUPR-Out: OOD positive · AUPR-In: ID positive · FPR95: fraction of OOD accepted at the threshold keeping 95% of ID';
const CONVENTION_DETAILS = [
  'Every score is oriented so that a higher value means "more out-of-distribution".',
  'AUROC and AUPR-Out treat OOD samples as the positive class; AUPR-In treats ID samples as positive. AUPR is average precision.',
  'FPR95: pick the threshold that keeps 95% of ID samples (TPR 95% on ID); FPR95 is the fraction of OOD samples still accepted as ID at that threshold. Lower is better.',
  'The deployment threshold keeps the configured fraction of the calibration split (or ID when there is none) and is drawn on the histogram.',
];
const METRICS = ['auroc', 'aupr_in', 'aupr_out', 'fpr95', 'fpr95_threshold'] as const;
const CAL_METRICS = ['accuracy', 'ece', 'smece', 'ece_debiased', 'ece_toplabel', 'mce', 'nll', 'brier'] as const;
const GALLERY_TITLES: Record<GalleryKind, string> = {
  'most-ood-id': 'ID samples the detector finds most OOD',
  'least-ood-ood': 'OOD samples the detector finds least OOD',
  'confident-wrong': 'Confidently wrong predictions',
};

export class ReportView {
  private payload?: ViewPayload;
  private selection?: Selection;
  private charts = new Map<ChartId, Chart>();
  /** The threshold picked on the histogram or ROC curve, and the number of the latest pick request. */
  private picked?: Picked;
  private pickRequest = 0;

  constructor(private readonly root: HTMLElement, private readonly host: Host) {}

  show(payload: ViewPayload, saved: WebviewState | undefined): void {
    // A pick belongs to the report it was computed on (the same report comes back after Use as deployment threshold).
    if (this.payload?.report.createdAt !== payload.report.createdAt) this.picked = undefined;
    this.payload = payload;
    const r = payload.report;
    const models = reportModels(r);
    const oodSplits = splitsWithRole(r, 'ood');
    const model = keep(saved?.model, models, headlineModel(r));
    this.selection = {
      model,
      score: keep(saved?.score, modelScores(r, model), headlineScore(r, model)),
      split: keep(saved?.split, oodSplits, oodSplits[0]),
    };
    this.destroyCharts();
    clear(this.root);
    append(this.root, this.header(), this.partialBanner(), this.gates(), this.controls(models, oodSplits), h('div', { id: 'headline-strip' }),
      h('section', { id: 'ood-section', 'aria-labelledby': 'ood-heading' }, h('h2', { id: 'ood-heading' }, 'OOD detection'),
        // Every model × split × score is a row: the table scrolls on its own so the charts stay in reach.
        h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-labelledby': 'ood-heading' }, this.oodTable()),
        h('div', { id: 'ensemble' }), h('div', { id: 'ood-charts', class: 'charts' }),
        h('section', { id: 'operating-point', 'aria-labelledby': 'operating-point-heading' }), this.thresholdTable()),
      h('section', { id: 'history-section', 'aria-labelledby': 'history-heading' }),
      h('section', { id: 'calibration-section', 'aria-labelledby': 'cal-heading' }, h('h2', { id: 'cal-heading' }, 'Calibration'), this.calibrationTable(),
        h('p', { id: 'temperature-line' }), h('div', { id: 'calibration-charts', class: 'charts' }),
        h('p', { class: 'conventions-line', id: 'calibration-conventions' }, CALIBRATION_CONVENTIONS), calibratorsSection(r.calibrators ?? [])),
      h('section', { id: 'trust-section', 'aria-labelledby': 'trust-heading' }, h('h2', { id: 'trust-heading' }, 'Selective prediction and conformal sets'),
        h('p', { class: 'conventions-line' }, TRUST_CONVENTIONS), h('div', { id: 'trust-tables' }), h('div', { id: 'trust-charts', class: 'charts' })),
      attackSection(r.attack), finetuneSection(r.finetune),
      h('section', { id: 'projection-section' }),
      this.gallery(), this.warnings());
    this.saveState();
    this.drawCharts();
  }

  get hasReport(): boolean {
    return this.payload !== undefined;
  }

  /** Re-resolves the theme's colours and redraws every chart. */
  redraw(): void {
    if (this.payload) this.drawCharts();
  }

  chartImage(id: ChartId): string | null {
    return this.charts.get(id)?.toBase64Image('image/png') ?? null;
  }

  private saveState(): void {
    if (this.payload && this.selection) this.host.saveState({ reportFile: this.payload.reportFile, ...this.selection });
  }

  /** Destroys the charts (a notebook output being removed). */
  dispose(): void {
    this.destroyCharts();
  }

  /** Looked up under this view's root: a notebook holds several reports, each in its own shadow root. */
  private byId(id: string): HTMLElement | null {
    return this.root.querySelector<HTMLElement>(`#${id}`);
  }

  private destroyCharts(): void {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
  }

  private header(): HTMLElement {
    const r = this.payload!.report;
    const providers = [...new Set(r.models.map((m) => m.executionProvider))].join(', ');
    const skipped = r.splits.flatMap((s) => s.skipped.map((f) => ({ split: s.name, ...f })));
    const conventionText = Object.entries(r.conventions).map(([k, v]) => `${k}: ${v}`);
    return h('header', { id: 'report-header' },
      h('h1', {}, 'OOD Lens report', h('span', { class: 'origin' }, ` · ${this.payload!.origin}`)),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Models'), h('dd', { id: 'models' }, r.models.map((m) => `${m.name}${m.outputKind === 'probabilities' ? ' (probabilities → log)' : ''}`).join(', ')),
        h('dt', {}, 'Execution provider'), h('dd', { id: 'execution-provider' }, providers || '—'),
        h('dt', {}, 'Splits'), h('dd', { id: 'splits' }, r.splits.map((s) => `${s.name} (${s.role}, ${s.count})`).join(' · ')),
        h('dt', {}, 'Run time'), h('dd', { id: 'run-time' }, `${(r.durationMs / 1000).toFixed(1)} s · ${r.createdAt}`)),
      modelFacts(r.models),
      skipped.length > 0 && h('details', { id: 'skipped' },
        h('summary', {}, `${skipped.length} skipped file${skipped.length === 1 ? '' : 's'}`),
        h('ul', {}, ...skipped.map((f) => h('li', {}, h('code', {}, f.path), ` (${f.split}): ${f.reason}`)))),
      h('details', { id: 'conventions', class: 'conventions' },
        h('summary', { title: [...CONVENTION_DETAILS, ...conventionText].join('\n') }, CONVENTIONS),
        h('ul', {}, ...CONVENTION_DETAILS.map((d) => h('li', {}, d)), ...conventionText.map((d) => h('li', {}, d)))),
      h('p', { id: 'run-status', role: 'status', hidden: true }));
  }

  private partialBanner(): HTMLElement | null {
    const r = this.payload!.report;
    if (!r.partial) return null;
    return h('div', { id: 'partial-banner', class: 'banner', role: 'alert' },
      `Partial report: the run was cancelled after ${r.sampleCount} samples. Every number covers only what was scored before that.`);
  }

  private gates(): HTMLElement | null {
    const gates = this.payload!.gates;
    if (gates.length === 0) return null;
    const failed = gates.filter((g) => !g.passed).length;
    return h('section', { id: 'gates', 'aria-labelledby': 'gates-heading' },
      h('h2', { id: 'gates-heading' }, `Gates: ${gates.length - failed}/${gates.length} passed`),
      h('ul', {}, ...gates.map((g) => h('li', { class: g.passed ? 'pass' : 'fail', 'data-gate': g.pointer }, g.passed ? '✓ ' : '✗ ', g.message))));
  }

  private controls(models: string[], splits: string[]): HTMLElement {
    const r = this.payload!.report;
    const s = this.selection!;
    const select = (id: string, options: string[], value: string) =>
      h('select', { id }, ...options.map((o) => h('option', { value: o, selected: o === value }, o)));
    const modelSelect = select('model-select', models, s.model);
    const scoreSelect = select('score-select', modelScores(r, s.model), s.score);
    const splitSelect = select('split-select', splits, s.split);
    const changed = () => {
      this.saveState();
      this.drawCharts();
    };
    // Models have different scores (the ensemble has its own): the score list follows the model.
    modelSelect.addEventListener('change', () => {
      const model = modelSelect.value;
      const scores = modelScores(r, model);
      const score = keep(this.selection!.score, scores, headlineScore(r, model));
      clear(scoreSelect);
      append(scoreSelect, ...scores.map((o) => h('option', { value: o, selected: o === score }, o)));
      scoreSelect.value = score;
      this.selection = { ...this.selection!, model, score };
      changed();
    });
    scoreSelect.addEventListener('change', () => {
      this.selection = { ...this.selection!, score: scoreSelect.value };
      changed();
    });
    splitSelect.addEventListener('change', () => {
      this.selection = { ...this.selection!, split: splitSelect.value };
      changed();
    });
    return h('div', { id: 'controls', class: 'controls' },
      h('label', {}, 'Model ', modelSelect), h('label', {}, 'Score ', scoreSelect), h('label', {}, 'OOD split ', splitSelect));
  }

  private oodTable(): HTMLTableElement {
    const rows = this.payload!.report.ood;
    const t = h('table', { id: 'ood-table' },
      h('caption', {}, 'OOD detection per model, OOD split and score'),
      h('thead', {}, h('tr', {}, ...['model', 'split', 'score', 'n ID', 'n OOD', 'AUROC', 'AUPR-In', 'AUPR-Out', 'FPR95', 'FPR95 threshold'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((r) => h('tr', { 'data-model': r.model, 'data-split': r.split, 'data-score': r.score },
        h('td', {}, r.model), h('td', {}, r.split), h('td', {}, r.score), h('td', {}, r.n_id), h('td', {}, r.n_ood),
        ...METRICS.map((m) => h('td', { 'data-metric': m }, fmt(r[m])))))));
    return t;
  }

  private thresholdTable(): HTMLElement | null {
    const r = this.payload!.report;
    if (r.thresholds.length === 0) return null;
    const splits = r.splits.map((s) => s.name);
    return h('details', { id: 'thresholds' }, h('summary', {}, 'Deployment thresholds'),
      table('threshold-table', 'Thresholds keeping a fraction of the fitting split, and the fraction of each split they flag as OOD',
        ['model', 'score', 'fitted on', 'keep', 'threshold', 'set by', ...splits.map((s) => `flagged ${s}`)],
        r.thresholds.map((t) => [t.model, t.score, t.fittedOn, fmt(t.keepFraction), fmt(t.threshold), t.source === 'config' ? 'oodlens.json' : 'keepFraction', ...splits.map((s) => fmt(t.flagged[s]))])));
  }

  private calibrationTable(): HTMLElement {
    const rows = this.payload!.report.calibration;
    if (rows.length === 0) return h('p', {}, 'No calibration rows: the ID split has no class labels the model knows.');
    const cells = (values: Record<string, unknown>) => CAL_METRICS.map((m) => h('td', { 'data-metric': m }, fmt(values[m])));
    const body: HTMLTableRowElement[] = [];
    for (const r of rows) {
      body.push(h('tr', { 'data-model': r.model, 'data-split': r.split, 'data-stage': 'before' },
        h('td', {}, r.model), h('td', {}, r.split), h('td', {}, 'before'), ...cells(r), h('td', {}, '—')));
      if (r.scaled) {
        body.push(h('tr', { 'data-model': r.model, 'data-split': r.split, 'data-stage': 'after' },
          h('td', {}, r.model), h('td', {}, r.split), h('td', {}, 'after'), ...cells(r.scaled), h('td', { 'data-metric': 'temperature' }, fmt(r.temperature))));
      }
    }
    return h('table', { id: 'calibration-table' },
      h('caption', {}, 'Calibration before and after temperature scaling'),
      h('thead', {}, h('tr', {}, ...['model', 'split', 'stage', 'accuracy', 'ECE', 'smECE', 'ECE debiased', 'ECE top-label', 'MCE', 'NLL', 'Brier', 'temperature'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...body));
  }

  private gallery(): HTMLElement | null {
    const g = this.payload!.gallery;
    if (!g || g.items.length === 0) return null;
    const kinds = Object.keys(GALLERY_TITLES) as GalleryKind[];
    return h('section', { id: 'gallery', 'aria-labelledby': 'gallery-heading' },
      h('h2', { id: 'gallery-heading' }, `Samples to look at (${g.model}, ${g.score})`),
      ...kinds.map((kind) => {
        const items = g.items.filter((i) => i.kind === kind);
        return items.length === 0 ? null : h('div', { class: 'gallery-group', 'data-kind': kind },
          h('h3', {}, GALLERY_TITLES[kind]), h('ul', { class: 'gallery' }, ...items.map((i) => this.galleryItem(i))));
      }));
  }

  private galleryItem(item: GalleryItem): HTMLElement {
    const name = item.path.split(/[\\/]/).pop() ?? item.path;
    const flag = item.flagged === undefined ? '' : item.flagged ? ' · flagged OOD' : ' · kept as ID';
    const caption = `${name} · ${item.split} · score ${fmt(item.score)}${flag}${item.label !== null ? ` · label ${item.label}` : ''}${item.prediction !== null ? ` · predicted ${item.prediction}` : ''}`;
    const img = item.src ? h('img', { src: item.src, alt: caption, loading: 'lazy' }) : null;
    const post = this.host.post;
    const body = post
      ? h('button', { type: 'button', class: 'sample', title: `Reveal ${item.path} in the Explorer` }, img, h('span', {}, caption))
      : h('div', { class: 'sample', title: item.path }, img, h('span', {}, caption));
    if (post) body.addEventListener('click', () => post({ type: 'revealSample', path: item.path }));
    return h('li', { 'data-path': item.path }, body);
  }

  private warnings(): HTMLElement | null {
    const r = this.payload!.report;
    const all = [...r.warnings, ...r.models.flatMap((m) => m.warnings.map((w) => `${m.name}: ${w}`))];
    return all.length === 0 ? null : h('section', { id: 'warnings' }, h('h2', {}, 'Warnings'), h('ul', {}, ...all.map((w) => h('li', {}, w))));
  }

  private ensembleTable(): HTMLElement | null {
    const r = this.payload!.report;
    const { score } = this.selection!;
    if (!reportModels(r).includes(ENSEMBLE_MODEL)) return null;
    const members = r.ensembleMembers.length ? r.ensembleMembers : r.models.map((m) => m.name);
    const splits = splitsWithRole(r, 'ood');
    const find = (model: string, split: string): OodRow | undefined => r.ood.find((o) => o.model === model && o.split === split && o.score === score);
    return table('ensemble-table', `Ensemble against its members (${score})`, ['model', ...splits.flatMap((s) => [`AUROC ${s}`, `FPR95 ${s}`])],
      [...members, ENSEMBLE_MODEL].map((m) => [m, ...splits.flatMap((s) => [fmt(find(m, s)?.auroc), fmt(find(m, s)?.fpr95)])]));
  }

  private drawCharts(): void {
    const r = this.payload!.report;
    const { model, score, split } = this.selection!;
    const theme = resolveTheme();
    applyTheme(theme);
    this.destroyCharts();
    const splitNames = r.splits.map((s) => s.name);
    const exporter = this.host.post ? (id: ChartId, chart: Chart) => this.host.post!({ type: 'exportChart', chart: id, dataUrl: chart.toBase64Image('image/png') }) : standaloneDownload;
    const figures: MountedFigure[] = [];
    const place = (container: HTMLElement, specs: (ChartSpec | null)[], empty: string) => {
      clear(container);
      const present = specs.filter((s): s is ChartSpec => s !== null);
      if (present.length === 0) container.appendChild(h('p', { class: 'empty' }, empty));
      for (const spec of present) {
        const f = chartFigure(spec, exporter);
        container.appendChild(f.element);
        figures.push(f);
      }
    };

    const ensemble = this.byId('ensemble')!;
    clear(ensemble);
    append(ensemble, this.ensembleTable());

    const hist = r.histograms.find((x) => x.model === model && x.score === score);
    const entries: CurveEntry[] = r.curves.filter((c) => c.score === score && c.split === split).map((curve) => {
      const row = r.ood.find((o) => o.model === curve.model && o.split === split && o.score === score);
      return { curve, auroc: row?.auroc, aupr: row?.aupr_out };
    });
    place(this.byId('ood-charts')!, [
      hist ? this.pickable(histogramChart(hist, splitNames, theme), theme) : null,
      entries.length ? this.pickable(rocChart(entries, theme), theme) : null,
      entries.length ? prChart(entries, theme) : null,
    ], `No histogram or curves for ${model} / ${score}.`);
    this.fillOperatingPoint();
    this.fillHeadline();
    const history = this.byId('history-section')!;
    clear(history);
    const trend = trendChart(this.payload!.history, model, score, splitsWithRole(r, 'id')[0], theme);
    if (trend) {
      const box = h('div', { class: 'charts' });
      append(history, h('h2', { id: 'history-heading' }, 'Kept runs'), box);
      place(box, [trend], '');
    }

    const cal = this.calibrationFor(model);
    const calContainer = this.byId('calibration-charts')!;
    const after = cal ? scaledBins(cal) : undefined;
    place(calContainer, [
      cal ? reliabilityChart('before', cal, cal.bins, cal.ece, theme) : null,
      cal && after ? reliabilityChart('after', cal, after, cal.scaled?.ece, theme) : null,
      cal ? smoothReliabilityChart(cal, theme) : null,
    ], `No reliability bins for ${model}.`);
    const temperature = this.byId('temperature-line')!;
    clear(temperature);
    if (cal?.temperature !== null && cal?.temperature !== undefined) {
      append(temperature, `Fitted temperature for ${cal.model}: `, h('strong', { id: 'temperature' }, fmt(cal.temperature)));
    }

    const trustRows = (r.selective ?? []).filter((x) => x.model === model);
    const trustTables = this.byId('trust-tables')!;
    clear(trustTables);
    append(trustTables, trustRows.length ? selectiveTable(trustRows) : h('p', { class: 'empty' }, `No labelled split for ${model}.`),
      conformalTable((r.conformal ?? []).filter((x) => x.model === model)));
    const conformalRows = (r.conformal ?? []).filter((x) => x.model === model);
    const classes = r.models.find((m) => m.name === model)?.classes ?? r.models[0]?.classes ?? [];
    place(this.byId('trust-charts')!, [riskCoverageChart(trustRows, theme), ...conformalCharts(conformalRows, classes, theme)], `No risk–coverage curve for ${model}.`);

    const finetune = this.byId('finetune-charts');
    if (finetune) place(finetune, finetuneCharts(r.finetune, splitNames, theme), 'No energy histograms.');

    const projSection = this.byId('projection-section')!;
    // The ensemble has no features of its own: it shows its first member's projection (the title names it).
    const proj = r.projections.find((p) => p.model === model) ?? r.projections[0];
    clear(projSection);
    if (proj) {
      projSection.appendChild(h('h2', {}, 'Feature projection'));
      const container = h('div', { class: 'charts' });
      projSection.appendChild(container);
      place(container, [projectionChart(proj, splitNames, theme)], '');
    }

    for (const f of figures) this.charts.set(f.element.dataset.chart as ChartId, f.mount());
    document.body.dataset.ready = 'true';
  }

  private fillHeadline(): void {
    const { model, score } = this.selection!;
    const box = this.byId('headline-strip')!;
    clear(box);
    box.appendChild(headlineStrip(this.payload!.report, this.payload!.gates, this.payload!.history, model, score));
  }

  private fillOperatingPoint(): void {
    const { model, score } = this.selection!;
    const box = this.byId('operating-point')!;
    clear(box);
    const post = this.host.post;
    const actions = post && {
      pick: (at: PickAt) => this.pick(at),
      ...(this.payload!.configFile ? { use: (threshold: number) => post({ type: 'useThreshold', model, score, threshold }) } : {}),
    };
    append(box, ...operatingPointSection(this.currentPick(), model, score, actions));
  }

  private currentPick(): Picked | undefined {
    const p = this.picked;
    return p && p.model === this.selection!.model && p.score === this.selection!.score ? p : undefined;
  }

  private pick(at: PickAt): void {
    const { model, score } = this.selection!;
    this.host.post?.({ type: 'operatingPointRequest', requestId: ++this.pickRequest, model, score, at });
  }

  /** The host's answer to the latest pick; answers to older picks are dropped. */
  showOperatingPoint(requestId: number, point: OperatingPoint | null, error?: string): void {
    if (requestId !== this.pickRequest || !this.selection || !this.payload) return;
    this.picked = { model: point?.model ?? this.selection.model, score: point?.score ?? this.selection.score, point, error };
    this.drawCharts();
  }

  /** Inside VS Code the histogram and the ROC curve take clicks, and show the picked point. */
  private pickable(spec: ChartSpec, theme: Theme): ChartSpec {
    if (!this.host.post) return spec;
    const out = makePickable(spec, (at) => this.pick(at));
    const p = this.currentPick()?.point;
    if (p && spec.id === 'histogram') markHistogram(out, p, theme);
    else if (p) markRoc(out, p, this.selection!.split, theme);
    return out;
  }

  /** Reliability diagrams use the ID split's row (the model as evaluated), else the first row of the model. */
  private calibrationFor(model: string): CalibrationRow | undefined {
    const r = this.payload!.report;
    const id = splitsWithRole(r, 'id');
    return r.calibration.find((c) => c.model === model && id.includes(c.split)) ?? r.calibration.find((c) => c.model === model);
  }

  setRunning(label: string | undefined): void {
    const status = this.byId('run-status');
    if (!status) return;
    status.hidden = label === undefined;
    status.textContent = label ?? '';
  }
}

/** The saved value when it is still an option, else the fallback, else the first option. */
function keep(value: string | undefined, options: string[], fallback: string | undefined): string {
  return value !== undefined && options.includes(value) ? value : fallback ?? options[0] ?? '';
}

function standaloneDownload(id: ChartId, chart: Chart): void {
  const a = h('a', { href: chart.toBase64Image('image/png'), download: `oodlens-${id}.png` });
  a.click();
}
