// Messages between the extension host and the report webview, shared by both sides.
// The panel holds no report of its own: after a reload it sends `ready` and the host (re)sends `show`.
import type { CurveSet, HistogramSet, ProjectionSet, Report } from '../engine/report/types';
import type { GateResult } from '../engine/gates';
import type { HistoryContext } from '../engine/history/types';
import type { OperatingPoint } from '../engine/operating-point';
import type { ReportDiff } from '../engine/compare/diff';

/** Typed arrays over postMessage (structured clone, no JSON); plain arrays inside the HTML report's JSON. */
export type NumArray = ArrayLike<number>;

export interface ViewCurve extends Omit<CurveSet, 'roc' | 'pr'> {
  roc: { fpr: NumArray; tpr: NumArray };
  pr: { recall: NumArray; precision: NumArray };
}
export interface ViewProjection extends Omit<ProjectionSet, 'points'> {
  points: { split: string; x: NumArray; y: NumArray }[];
}

type ReportCore = Pick<Report, 'schemaVersion' | 'tool' | 'createdAt' | 'durationMs' | 'partial' | 'conventions' | 'settings'
  | 'models' | 'splits' | 'ood' | 'calibration' | 'histograms' | 'thresholds' | 'warnings' | 'selective' | 'conformal' | 'calibrators'
  | 'attack' | 'finetune'>;

/** The report without per-sample rows (the host keeps those for decorations, export and gallery). */
export interface ViewReport extends ReportCore {
  sampleCount: number;
  /** Members of the "ensemble" model, when the report has one. */
  ensembleMembers: string[];
  curves: ViewCurve[];
  projections: ViewProjection[];
}

export type GalleryKind = 'most-ood-id' | 'least-ood-ood' | 'confident-wrong';
export interface GalleryItem {
  kind: GalleryKind;
  path: string;
  split: string;
  score: number;
  label: string | null;
  prediction: string | null;
  /** Above the deployment threshold of the gallery's model and score (set in oodlens.json, else keepFraction's). */
  flagged?: boolean;
  /** Webview URI of the image; absent in the HTML report (no file access). */
  src?: string;
}
export interface Gallery { model: string; score: string; items: GalleryItem[] }

export interface ViewPayload {
  report: ViewReport;
  gallery: Gallery | null;
  gates: GateResult[];
  /** What produced it, shown in the header ("oodlens.json", "demo", a folder name). */
  origin: string;
  /** Report file the panel restores from after a reload. */
  reportFile?: string;
  /** Earlier runs of the same config or models (change since the previous run, trend). */
  history?: HistoryContext;
  /** The oodlens.json "Use as deployment threshold" writes to; absent: the panel does not offer it. */
  configFile?: string;
}

/** One side of OOD Lens: Compare Reports: its model's histograms and curves. */
export interface CompareSideView {
  label: string;
  model: string;
  createdAt: string;
  splits: { name: string; role: string }[];
  /** Model files with their sha256 when the side is a kept run. */
  files: { name: string; path: string; sha256?: string | null }[];
  histograms: HistogramSet[];
  curves: ViewCurve[];
}

export interface ComparePayload {
  a: CompareSideView;
  b: CompareSideView;
  diff: ReportDiff;
  /** Webview URIs of the changed samples' images, by sample path (absent for noise and in the HTML report). */
  thumbnails: Record<string, string>;
}

/** Where a click on a chart put the threshold: a score value (histogram), or an ID false-positive rate (ROC). */
export type PickAt = { threshold: number } | { fpr: number };

export const CHART_IDS = ['histogram', 'roc', 'pr', 'reliability-before', 'reliability-after', 'smooth-reliability', 'projection', 'risk-coverage', 'set-sizes', 'class-coverage', 'finetune-before', 'finetune-after', 'trend', 'compare-histogram', 'compare-roc'] as const;
export type ChartId = (typeof CHART_IDS)[number];

export interface Progress { phase: string; split?: string; model?: string; done: number; total: number; imagesPerSecond: number }

export type ToWebviewMessage =
  | { type: 'show'; payload: ViewPayload }
  | { type: 'running'; label: string; progress?: Progress }
  | { type: 'idle' }
  | { type: 'chartImageRequest'; requestId: number; chart: ChartId }
  | { type: 'compare'; payload: ComparePayload }
  | { type: 'operatingPoint'; requestId: number; point: OperatingPoint | null; error?: string };

export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'revealSample'; path: string }
  | { type: 'exportChart'; chart: ChartId; dataUrl: string }
  | { type: 'chartImageResponse'; requestId: number; dataUrl: string | null }
  | { type: 'operatingPointRequest'; requestId: number; model: string; score: string; at: PickAt }
  | { type: 'useThreshold'; model: string; score: string; threshold: number };

/** What the webview persists with `vscode.setState` (JSON-serialisable; the report itself is re-sent). */
export interface WebviewState {
  reportFile?: string;
  model?: string;
  score?: string;
  split?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isChart = (v: unknown): v is ChartId => isStr(v) && (CHART_IDS as readonly string[]).includes(v);
const PNG_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;
const isName = (v: unknown): v is string => isStr(v) && v.length > 0 && v.length <= 256;
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parsePickAt(v: unknown): PickAt | undefined {
  if (!isObj(v)) return undefined;
  if (isFinite(v.threshold)) return { threshold: v.threshold };
  return isFinite(v.fpr) && v.fpr >= 0 && v.fpr <= 1 ? { fpr: v.fpr } : undefined;
}

/** The host trusts nothing from the webview: anything else than a well-formed message is dropped. */
export function parseFromWebview(m: unknown): FromWebviewMessage | undefined {
  if (!isObj(m) || !isStr(m.type)) return undefined;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'revealSample':
      return isStr(m.path) && m.path.length > 0 ? { type: 'revealSample', path: m.path } : undefined;
    case 'exportChart':
      return isChart(m.chart) && isStr(m.dataUrl) && PNG_DATA_URL.test(m.dataUrl)
        ? { type: 'exportChart', chart: m.chart, dataUrl: m.dataUrl } : undefined;
    case 'chartImageResponse':
      if (typeof m.requestId !== 'number') return undefined;
      if (m.dataUrl === null) return { type: 'chartImageResponse', requestId: m.requestId, dataUrl: null };
      return isStr(m.dataUrl) && PNG_DATA_URL.test(m.dataUrl)
        ? { type: 'chartImageResponse', requestId: m.requestId, dataUrl: m.dataUrl } : undefined;
    case 'operatingPointRequest': {
      const at = parsePickAt(m.at);
      return isFinite(m.requestId) && isName(m.model) && isName(m.score) && at
        ? { type: 'operatingPointRequest', requestId: m.requestId, model: m.model, score: m.score, at } : undefined;
    }
    case 'useThreshold':
      return isName(m.model) && isName(m.score) && isFinite(m.threshold) ? { type: 'useThreshold', model: m.model, score: m.score, threshold: m.threshold } : undefined;
    default:
      return undefined;
  }
}

/** Drops the per-sample rows; `typed` packs curve and projection points for postMessage. */
export function toViewReport(report: Report, typed: boolean): ViewReport {
  const f64 = (a: number[]): NumArray => (typed ? Float64Array.from(a) : a);
  const f32 = (a: number[]): NumArray => (typed ? Float32Array.from(a) : a);
  const r = report;
  return {
    schemaVersion: r.schemaVersion, tool: r.tool, createdAt: r.createdAt, durationMs: r.durationMs, partial: r.partial,
    conventions: r.conventions, settings: r.settings, models: r.models, splits: r.splits, ood: r.ood,
    calibration: r.calibration, histograms: r.histograms, thresholds: r.thresholds, warnings: r.warnings,
    selective: r.selective ?? [], conformal: r.conformal ?? [], calibrators: r.calibrators ?? [],
    ...(r.attack ? { attack: r.attack } : {}), ...(r.finetune ? { finetune: r.finetune } : {}),
    sampleCount: r.samples.length,
    ensembleMembers: ensembleMembers(r),
    curves: r.curves.map((c) => ({
      ...c,
      roc: { fpr: f64(c.roc.fpr), tpr: f64(c.roc.tpr) },
      pr: { recall: f64(c.pr.recall), precision: f64(c.pr.precision) },
    })),
    projections: r.projections.map((p) => ({
      ...p,
      points: p.points.map((pt) => ({ split: pt.split, x: f32(pt.x), y: f32(pt.y) })),
    })),
  };
}


function ensembleMembers(report: Report): string[] {
  const e = report.ensemble as { members?: unknown } | undefined;
  return Array.isArray(e?.members) ? e.members.filter((m): m is string => typeof m === 'string') : [];
}
