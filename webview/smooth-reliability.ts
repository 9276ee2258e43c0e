// The smooth reliability curve (relplot's kernel smoother at the smECE bandwidth) with its bootstrap band, before and
// after temperature scaling on one chart, its data as a table, and the calibration conventions in one line.
import type { ChartDataset } from 'chart.js';
import type { SmoothReliability } from '../src/engine/metrics/smooth-reliability';
import type { CalibrationRow } from '../src/engine/report/types';
import { diagonal, unitScatter, type ChartSpec } from './charts';
import { fmt, table } from './dom';
import { type Theme, withAlpha } from './theme';

interface XY { x: number; y: number }

export const CALIBRATION_CONVENTIONS = 'Bins: 15 equal-width (lo, hi], confidence 1.0 in the last bin, empty bins not drawn; '
  + 'thin bars: consistency band, 5–95% of a perfectly calibrated model\'s bin accuracy (1,000 resamples y ~ Bernoulli(confidence), Bröcker & Smith). '
  + 'smECE and the smooth curve as relplot 1.0.3 (reflected Gaussian kernel, σ by its fixed-point search), band: 95% bootstrap (100 resamples, σ fixed). '
  + 'Debiased ECE: Kumar et al. l2, 15 equal-mass bins; top-label ECE: equal-width bins per predicted class.';

/** `scaled` is untyped in the report: accept a smooth curve only when its arrays line up. */
export function smoothOf(value: unknown): SmoothReliability | undefined {
  const s = value as SmoothReliability | undefined;
  if (!s || !Array.isArray(s.x) || !Array.isArray(s.accuracy) || s.x.length === 0 || s.accuracy.length !== s.x.length) return undefined;
  return s;
}

/** Share of the peak confidence density below which the curve is not drawn: there it is 0/(0 + 1e-4), not data. */
const MIN_DENSITY = 0.01;

/** Mesh points with data; the rest become gaps (y NaN; the report keeps every point). */
function line(s: SmoothReliability, ys: number[]): XY[] {
  const peak = Math.max(0, ...(s.density ?? []));
  return s.x.map((x, i) => ({ x, y: s.density && s.density[i] < MIN_DENSITY * peak ? NaN : ys[i] }));
}

function stageSets(label: string, s: SmoothReliability, smece: unknown, color: string): ChartDataset<'scatter', XY[]>[] {
  const sets: ChartDataset<'scatter', XY[]>[] = [];
  if (s.lower.length === s.x.length && s.upper.length === s.x.length) {
    sets.push({ label: `${label} band lower`, data: line(s, s.lower), showLine: true, pointRadius: 0, borderWidth: 0, borderColor: 'transparent' });
    sets.push({ label: `${label}: ${Math.round(s.level * 100)}% bootstrap band`, data: line(s, s.upper), showLine: true, pointRadius: 0, borderWidth: 0,
      borderColor: 'transparent', backgroundColor: withAlpha(color, 0.2), fill: '-1' });
  }
  sets.push({ label: `${label}: smECE ${fmt(smece)} (σ ${fmt(s.sigma, 4)})`, data: line(s, s.accuracy), showLine: true, pointRadius: 0, borderWidth: 2, borderColor: color, backgroundColor: color });
  return sets;
}

export function smoothReliabilityChart(row: CalibrationRow, theme: Theme): ChartSpec | null {
  const before = smoothOf(row.smooth);
  if (!before) return null;
  const after = smoothOf(row.scaled?.smooth);
  const datasets = [
    ...stageSets('before', before, row.smece, theme.palette[0]),
    ...(after ? stageSets('after temperature', after, row.scaled?.smece, theme.palette[1]) : []),
    diagonal(theme, { x: 0, y: 0 }, { x: 1, y: 1 }, 'perfect calibration', 0.5),
  ];
  const config = unitScatter(theme, datasets, 'confidence (max softmax)', 'smoothed accuracy', { hide: (label) => label.endsWith('band lower') });
  const title = `Smooth reliability (smECE): ${row.model} on ${row.split}`;
  const stages = [['before', before] as const, ...(after ? [['after', after] as const] : [])];
  const head = ['confidence', ...stages.flatMap(([n, s]) => [`${n} accuracy`, ...(s.lower.length ? [`${n} lower`, `${n} upper`] : [])])];
  const rows = before.x.map((x, i) => [fmt(x), ...stages.flatMap(([, s]) => [fmt(s.accuracy[i]), ...(s.lower.length ? [fmt(s.lower[i]), fmt(s.upper[i])] : [])])]);
  return {
    id: 'smooth-reliability',
    title,
    summary: `${title}. smECE ${fmt(row.smece)} before${after ? `, ${fmt(row.scaled?.smece)} after temperature scaling` : ''}; kernel-smoothed accuracy against confidence with its bootstrap band where the confidence density is at least ${MIN_DENSITY * 100}% of its peak, diagonal for perfect calibration.`,
    config,
    data: table(undefined, `${title} (mesh points)`, head, rows),
  };
}
