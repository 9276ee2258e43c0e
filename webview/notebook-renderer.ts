// The notebook renderer: a cell output of type application/vnd.oodlens.report+json (the JSON report itself, as
// `ood-lens score --json` or python/oodlens_notebook.py writes it) drawn inline by the panel's own view. Each output
// gets a shadow root, so the report's CSS and element ids stay inside it: several reports and other renderers'
// outputs share one notebook webview without clashing. Names are inserted as text (dom.ts), nothing is fetched.
import type { Report } from '../src/engine/report/types';
import { REPORT_SCHEMA_VERSION } from '../src/engine/report/types';
import { selectGallery } from '../src/shared/gallery';
import { toViewReport, type ViewPayload } from '../src/shared/protocol';
import { h } from './dom';
import { onThemeChange } from './theme';
import { ReportView } from './view';

/** media/report.css, inlined by esbuild.mjs. */
declare const OODLENS_REPORT_CSS: string;

/** Outside the panel's body: the host element's text style, and no "Save PNG…" (the renderer cannot write files). */
const NOTEBOOK_CSS = `
.oodlens-notebook { color: var(--vscode-editor-foreground); font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px); padding: 0 4px 12px; }
.oodlens-notebook .chart-actions { display: none; }
.oodlens-notebook .table-scroll thead th { background: var(--vscode-notebook-outputContainerBackgroundColor, var(--vscode-editor-background)); }
.oodlens-error { color: var(--vscode-errorForeground, #e51400); }`;

/** The part of VS Code's renderer API used here (vscode-notebook-renderer's OutputItem). */
interface OutputItem {
  readonly id: string;
  readonly mime: string;
  json(): unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const REQUIRED = ['models', 'splits', 'ood', 'calibration'] as const;
const OPTIONAL = ['samples', 'curves', 'histograms', 'thresholds', 'projections', 'warnings'] as const;

/**
 * The report with the parts the schema leaves optional filled in (a notebook's report may come from the helper,
 * without samples, model facts or curves), or why it cannot be shown.
 */
function notebookReport(value: unknown): { report: Report } | { error: string } {
  if (!isObj(value)) return { error: 'the output is not a JSON object' };
  if (value.schemaVersion !== REPORT_SCHEMA_VERSION) return { error: `report schemaVersion ${String(value.schemaVersion)}; this version of OOD Lens reads ${REPORT_SCHEMA_VERSION}` };
  const missing = REQUIRED.filter((k) => !Array.isArray(value[k]));
  if (missing.length) return { error: `the report has no ${missing.join(', ')}` };
  const bad = [...REQUIRED, ...OPTIONAL].filter((k) => value[k] !== undefined && (!Array.isArray(value[k]) || !(value[k] as unknown[]).every((x) => k === 'warnings' ? typeof x === 'string' : isObj(x))));
  if (bad.length) return { error: `malformed ${bad.join(', ')}` };
  const arrays = Object.fromEntries(OPTIONAL.map((k) => [k, value[k] ?? []]));
  const models = (value.models as Record<string, unknown>[]).map((m) => ({
    ...m, classes: Array.isArray(m.classes) ? m.classes : [], outputs: isObj(m.outputs) ? m.outputs : { logits: 'logits' },
    outputKind: m.outputKind ?? 'logits', warnings: Array.isArray(m.warnings) ? m.warnings : [],
  }));
  const splits = (value.splits as Record<string, unknown>[]).map((s) => ({ ...s, skipped: Array.isArray(s.skipped) ? s.skipped : [], classes: Array.isArray(s.classes) ? s.classes : [] }));
  const report = {
    tool: { name: 'ood-lens', version: '' }, createdAt: '', durationMs: 0, partial: false, conventions: {}, settings: {},
    ...value, ...arrays, models, splits,
  } as unknown as Report;
  return { report };
}

function payloadOf(report: Report): ViewPayload {
  return { report: toViewReport(report, false), gallery: report.samples.length ? selectGallery(report) : null, gates: [], origin: 'notebook output' };
}

/** Runs `draw` once the element is in the document: Chart.js sizes a canvas only when it is attached. */
function whenConnected(element: HTMLElement, draw: () => void, alive: () => boolean): void {
  if (!alive()) return;
  if (element.isConnected) draw();
  else requestAnimationFrame(() => whenConnected(element, draw, alive));
}

export const activate = () => {
  const views = new Map<string, ReportView>();
  onThemeChange(() => views.forEach((v) => v.redraw()));
  const dispose = (id: string) => {
    views.get(id)?.dispose();
    views.delete(id);
  };
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement): void {
      dispose(item.id);
      const shadow = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
      const root = h('div', { class: 'oodlens-notebook' });
      shadow.replaceChildren(h('style', {}, OODLENS_REPORT_CSS, NOTEBOOK_CSS), root);
      let parsed: ReturnType<typeof notebookReport>;
      try {
        parsed = notebookReport(item.json());
      } catch (e) {
        parsed = { error: `the output is not JSON (${(e as Error).message})` };
      }
      if ('error' in parsed) {
        root.appendChild(h('p', { class: 'oodlens-error', role: 'alert' }, `OOD Lens cannot show this output: ${parsed.error}.`));
        return;
      }
      const view = new ReportView(root, { saveState: () => undefined });
      views.set(item.id, view);
      const { report } = parsed;
      whenConnected(element, () => {
        try {
          view.show(payloadOf(report), undefined);
          root.dataset.ready = 'true';
        } catch (e) {
          root.replaceChildren(h('p', { class: 'oodlens-error', role: 'alert' }, `OOD Lens could not draw this report: ${(e as Error).message}`));
        }
      }, () => views.get(item.id) === view);
    },
    disposeOutputItem(id?: string): void {
      if (id === undefined) [...views.keys()].forEach(dispose);
      else dispose(id);
    },
  };
};
