// What changed since the previous run of the same config or models: the headline numbers of the selected model and
// score with their change (arrow, sign and better/worse in words, the colour only repeats it), and a trend of the
// kept runs with its data table. Numbers of earlier runs come from the history index, not from their reports.
import type { ChartConfiguration, ChartDataset, TooltipItem } from 'chart.js';
import type { GateResult } from '../src/engine/gates';
import { type Delta, formatDelta, headlineDeltas, runMetrics } from '../src/engine/history/metrics';
import type { HistoryContext, HistoryEntry } from '../src/engine/history/types';
import type { ViewReport } from '../src/shared/protocol';
import { background, type ChartSpec } from './charts';
import { fmt, h, table } from './dom';
import type { Theme } from './theme';

const ARROWS = { up: '▲', down: '▼', same: '=' } as const;

/** "▲ +0.030", coloured by its class; title and label say whether that is better or worse. */
export function deltaBadge(d: Delta | null, context = 'since the previous run', was = 'it was'): HTMLElement | null {
  if (!d) return null;
  const arrow = d.change === 'same' ? ARROWS.same : d.delta > 0 ? ARROWS.up : ARROWS.down;
  const words = d.change === 'same' ? 'no visible change' : d.change;
  const text = `${formatDelta(d)} ${context} (${words}; ${was} ${d.metric === 'gates' ? d.previous : fmt(d.previous)})`;
  return h('span', { class: `delta ${d.change}`, 'data-change': d.change, title: text, 'aria-label': text }, `${arrow} ${formatDelta(d)}`);
}

const hashOf = (e: HistoryEntry) => e.models.map((m) => `${m.path.split(/[\\/]/).pop()}${m.sha256 ? ` sha256 ${m.sha256.slice(0, 12)}` : ''}`).join(', ');
const when = (iso: string) => new Date(iso).toLocaleString();

/** The headline strip: AUROC per OOD split, ECE, accuracy and gates, each with its change since the previous run. */
export function headlineStrip(report: ViewReport, gates: GateResult[], history: HistoryContext | undefined, model: string, score: string): HTMLElement {
  const idSplit = report.splits.find((s) => s.role === 'id')?.name;
  const d = headlineDeltas(runMetrics(report, gates), history?.previous?.metrics, model, score, idSplit);
  const item = (metric: string, split: string | undefined, label: string, value: string, delta: Delta | null) =>
    h('li', { 'data-metric': metric, 'data-split': split }, `${label} `, h('strong', { class: 'value' }, value), ' ', deltaBadge(delta));
  const previous = history?.previous;
  return h('section', { id: 'headline', 'aria-labelledby': 'headline-heading' },
    h('h2', { id: 'headline-heading', class: 'visually-hidden' }, 'Headline numbers'),
    h('ul', { class: 'headline' },
      ...d.auroc.map((a) => item('auroc', a.split, `AUROC ${a.split}`, fmt(a.value), a.delta)),
      d.ece && item('ece', d.ece.split, `ECE ${d.ece.split}`, fmt(d.ece.value), d.ece.delta),
      d.accuracy && item('accuracy', d.accuracy.split, `accuracy ${d.accuracy.split}`, fmt(d.accuracy.value), d.accuracy.delta),
      d.gates && item('gates', undefined, 'gates passed', `${d.gates.passed}/${d.gates.total}`, d.gates.delta)),
    h('p', { class: 'since', id: 'history-since' }, previous
      ? `${model} · ${score}. Changes since the previous run of ${previous.origin} (${when(previous.createdAt)}; ${hashOf(previous)}).`
      : history?.current ? `${model} · ${score}. The first kept run of ${history.current.origin}: changes appear from the next run.` : `${model} · ${score}.`));
}

interface XY { x: number; y: number | null }

/** Headline numbers of the kept runs over time: AUROC per OOD split, ECE and accuracy on ID. */
export function trendChart(history: HistoryContext | undefined, model: string, score: string, idSplit: string | undefined, theme: Theme): ChartSpec | null {
  const entries = history?.entries ?? [];
  if (entries.length === 0) return null;
  const splits = [...new Set(entries.flatMap((e) => e.metrics.ood.filter((r) => r.model === model && r.score === score).map((r) => r.split)))];
  const calOf = (e: HistoryEntry) => e.metrics.calibration.find((c) => c.model === model && c.split === idSplit) ?? e.metrics.calibration.find((c) => c.model === model);
  const series: { label: string; values: (number | null)[] }[] = [
    ...splits.map((split) => ({ label: `AUROC ${split}`, values: entries.map((e) => e.metrics.ood.find((r) => r.model === model && r.score === score && r.split === split)?.auroc ?? null) })),
    { label: 'ECE', values: entries.map((e) => calOf(e)?.ece ?? null) },
    { label: 'accuracy', values: entries.map((e) => calOf(e)?.accuracy ?? null) },
  ].filter((s) => s.values.some((v) => v !== null));
  const times = entries.map((e) => Date.parse(e.createdAt));
  const datasets: ChartDataset<'line', XY[]>[] = series.map((s, i) => {
    const color = theme.palette[i % theme.palette.length];
    return { label: s.label, data: s.values.map((y, j) => ({ x: times[j], y })), borderColor: color, backgroundColor: color, pointRadius: 4, borderWidth: 2, spanGaps: true };
  });
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'run time' }, ticks: { callback: (v) => new Date(Number(v)).toLocaleString(), maxTicksLimit: 6 } },
        y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'value' } },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => (items[0] ? when(entries[items[0].dataIndex].createdAt) : ''),
            footer: (items: TooltipItem<'line'>[]) => (items[0] ? entries[items[0].dataIndex].models.map((m) => `${m.path} · sha256 ${m.sha256?.slice(0, 12) ?? 'unknown'}`) : []),
          },
        },
      },
    },
    plugins: [background(theme)],
  };
  return {
    id: 'trend',
    title: `Trend over ${entries.length} kept run${entries.length === 1 ? '' : 's'}: ${model} · ${score}`,
    summary: `Line chart of ${series.map((s) => s.label).join(', ')} for ${model} (${score}) over ${entries.length} runs from ${when(entries[0].createdAt)} to ${when(entries[entries.length - 1].createdAt)}. Each run's model files and hashes are in the data table.`,
    config: config as unknown as ChartConfiguration,
    data: table('trend-table', 'Kept runs: model files with their sha256, and headline numbers', ['run time', 'model files', ...series.map((s) => s.label)],
      entries.map((e, j) => [when(e.createdAt), hashOf(e) || '—', ...series.map((s) => fmt(s.values[j]))])),
  };
}
