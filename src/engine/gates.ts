// Quality gates of oodlens.json, evaluated against a report. Pure: the CLI turns a failure into a non-zero
// exit code and the extension into diagnostics on the failing key.
//
// Semantics
// - `model`: the model whose rows are gated. Default: `ensemble` when the report has it (that is what would
//   be deployed), else every model in the report. `"*"` gates every model explicitly.
// - `score`: the OOD score the OOD gates read. Default, per model: `energy` when that model has it, else its
//   first score (the ensemble has its own scores, e.g. msp, mutual_info, kl_mean).
// - OOD gates (`auroc_min`, `aupr_in_min`, `aupr_out_min`, `fpr95_max`) take either one bound, applied to every
//   OOD split, or an object `{ "<ood split>": bound }`.
// - Calibration gates (`ece_max`, `accuracy_min`) take one bound, applied to the ID split(s), or an object
//   keyed by split name. They read the model as shipped (`calibration_stage: "before"`, default) or after
//   temperature scaling (`"after"`, from the row's `scaled` metrics).
// - Trust gates read the ID split(s) like calibration gates: `aurc_max` the selective row (fd-shifts' AURC),
//   `coverage_min` and `set_size_max` the conformal row of `conformal_method` (default lac) at `conformal_alpha`
//   (default: the report's first α).
// - Threshold gates read the deployment threshold's row (`thresholds`, set by hand in the config's `thresholds` or
//   by keepFraction): `id_flagged_max` the fraction of each ID split flagged OOD, `ood_flagged_min` the fraction of
//   each OOD split flagged (the TPR at that threshold).
// - A gate that finds no row to read fails: a renamed split or a score that was not computed must not pass
//   silently. Unknown gate keys fail for the same reason.
import type { Report } from './report/types';
import { ENSEMBLE_MODEL, headlineScore, reportModels, splitsWithRole } from '../shared/headline';

/** One bound for every split the gate applies to, or bounds by split name. */
export type SplitBound = number | { [split: string]: number };

export interface Gates {
  model?: string;
  score?: string;
  calibration_stage?: 'before' | 'after';
  auroc_min?: SplitBound;
  aupr_in_min?: SplitBound;
  aupr_out_min?: SplitBound;
  fpr95_max?: SplitBound;
  ece_max?: SplitBound;
  accuracy_min?: SplitBound;
  aurc_max?: SplitBound;
  coverage_min?: SplitBound;
  set_size_max?: SplitBound;
  conformal_method?: 'lac' | 'aps' | 'raps' | 'lac_classwise';
  conformal_alpha?: number;
  id_flagged_max?: SplitBound;
  ood_flagged_min?: SplitBound;
}

export interface GateResult {
  /** JSON pointer of the bound in oodlens.json, e.g. `/gates/auroc_min/ood_near`. */
  pointer: string;
  gate: string;
  model: string;
  split: string;
  score?: string;
  bound: number;
  /** null when the report has no value to compare. */
  actual: number | null;
  passed: boolean;
  message: string;
}

type Metric = 'auroc' | 'aupr_in' | 'aupr_out' | 'fpr95' | 'ece' | 'accuracy' | 'aurc' | 'coverage' | 'mean_set_size' | 'flagged';
interface GateSpec { metric: Metric; label: string; kind: 'min' | 'max'; family: 'ood' | 'calibration' | 'selective' | 'conformal' | 'threshold'; role?: 'id' | 'ood' }

export const GATE_SPECS: Record<string, GateSpec> = {
  auroc_min: { metric: 'auroc', label: 'AUROC', kind: 'min', family: 'ood' },
  aupr_in_min: { metric: 'aupr_in', label: 'AUPR-In', kind: 'min', family: 'ood' },
  aupr_out_min: { metric: 'aupr_out', label: 'AUPR-Out', kind: 'min', family: 'ood' },
  fpr95_max: { metric: 'fpr95', label: 'FPR95', kind: 'max', family: 'ood' },
  ece_max: { metric: 'ece', label: 'ECE', kind: 'max', family: 'calibration' },
  accuracy_min: { metric: 'accuracy', label: 'accuracy', kind: 'min', family: 'calibration' },
  aurc_max: { metric: 'aurc', label: 'AURC', kind: 'max', family: 'selective' },
  coverage_min: { metric: 'coverage', label: 'conformal coverage', kind: 'min', family: 'conformal' },
  set_size_max: { metric: 'mean_set_size', label: 'mean set size', kind: 'max', family: 'conformal' },
  id_flagged_max: { metric: 'flagged', label: 'ID flagged', kind: 'max', family: 'threshold', role: 'id' },
  ood_flagged_min: { metric: 'flagged', label: 'OOD flagged', kind: 'min', family: 'threshold', role: 'ood' },
};
const SETTINGS_KEYS = new Set(['model', 'score', 'calibration_stage', 'conformal_method', 'conformal_alpha']);

/** The value a non-OOD gate reads for one model and split; null when the report has no such row. */
function rowValue(report: Report, gates: Gates, spec: GateSpec, model: string, split: string): number | null {
  if (spec.family === 'selective') return asNumber(report.selective?.find((r) => r.model === model && r.split === split)?.[spec.metric as 'aurc']);
  if (spec.family === 'conformal') {
    const method = gates.conformal_method ?? 'lac';
    const alpha = gates.conformal_alpha ?? report.conformal?.[0]?.alpha;
    const row = report.conformal?.find((r) => r.model === model && r.split === split && r.method === method && r.alpha === alpha);
    return asNumber(row?.[spec.metric as 'coverage' | 'mean_set_size']);
  }
  const row = report.calibration.find((r) => r.model === model && r.split === split);
  const source = gates.calibration_stage === 'after' ? row?.scaled ?? undefined : row;
  return source ? asNumber((source as Record<string, unknown>)[spec.metric]) : null;
}

export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function gatedModels(report: Report, gates: Gates): string[] {
  const names = reportModels(report);
  if (gates.model === '*') return names;
  if (gates.model !== undefined) return [gates.model];
  return names.includes(ENSEMBLE_MODEL) ? [ENSEMBLE_MODEL] : names;
}

function asNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function evaluateGates(report: Report, gates: Gates): GateResult[] {
  const results: GateResult[] = [];
  const models = gatedModels(report, gates);
  const stage = gates.calibration_stage ?? 'before';
  const partial = report.partial ? ' (partial run)' : '';

  for (const [gate, value] of Object.entries(gates)) {
    if (SETTINGS_KEYS.has(gate) || value === undefined) continue;
    const raw = value as SplitBound;
    const spec = GATE_SPECS[gate];
    const base = `/gates/${pointerToken(gate)}`;
    if (!spec) {
      results.push({ pointer: base, gate, model: '', split: '', bound: NaN, actual: null, passed: false,
        message: `Unknown gate "${gate}" (known: ${Object.keys(GATE_SPECS).join(', ')}).` });
      continue;
    }
    const bounds: { split: string; bound: number; pointer: string }[] = [];
    if (typeof raw !== 'number' && (typeof raw !== 'object' || raw === null || Object.values(raw).some((b) => typeof b !== 'number'))) {
      results.push({ pointer: base, gate, model: '', split: '', bound: NaN, actual: null, passed: false,
        message: `${spec.label} gate: expected a number or an object of numbers by split name.` });
      continue;
    }
    if (typeof raw === 'number') {
      const role = spec.role ?? (spec.family === 'ood' ? 'ood' : 'id');
      const splits = splitsWithRole(report, role);
      for (const split of splits) bounds.push({ split, bound: raw, pointer: base });
      if (splits.length === 0) {
        results.push({ pointer: base, gate, model: models.join(', '), split: '', bound: raw, actual: null, passed: false,
          message: `${spec.label} gate: the report has no ${role === 'ood' ? 'OOD' : 'ID'} split${partial}.` });
      }
    } else {
      for (const [split, bound] of Object.entries(raw)) bounds.push({ split, bound, pointer: `${base}/${pointerToken(split)}` });
    }

    for (const model of models) {
      const score = gates.score ?? headlineScore(report, model);
      for (const { split, bound, pointer } of bounds) {
        let actual: number | null = null;
        const thresholdRow = spec.family === 'threshold' ? report.thresholds.find((r) => r.model === model && r.score === score) : undefined;
        if (spec.family === 'ood') {
          const row = report.ood.find((r) => r.model === model && r.split === split && r.score === score);
          actual = row ? asNumber(row[spec.metric as 'auroc']) : null;
        } else if (spec.family === 'threshold') {
          actual = asNumber(thresholdRow?.flagged[split]);
        } else {
          actual = rowValue(report, gates, spec, model, split);
        }
        const detail = spec.family === 'ood' ? ` (${score})`
          : thresholdRow ? ` (${score} > ${thresholdRow.threshold.toPrecision(4)}${thresholdRow.source === 'config' ? ', set in the config' : ''})` : spec.family === 'conformal' ? ` (${gates.conformal_method ?? 'lac'})` : spec.family === 'calibration' && stage === 'after' ? ' (after scaling)' : '';
        const where = `${model} on ${split}${detail}`;
        const op = spec.kind === 'min' ? '≥' : '≤';
        let passed: boolean;
        let message: string;
        if (actual === null) {
          passed = false;
          message = `${spec.label} gate: no value for ${where} in the report${partial}.`;
        } else {
          passed = spec.kind === 'min' ? actual >= bound : actual <= bound;
          message = `${spec.label} ${actual.toFixed(3)} for ${where} ${passed ? 'meets' : 'fails'} ${op} ${bound}${partial}.`;
        }
        results.push({ pointer, gate, model, split, score: spec.family === 'ood' || spec.family === 'threshold' ? score : undefined, bound, actual, passed, message });
      }
    }
  }
  return results;
}
