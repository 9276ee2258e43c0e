import * as path from 'node:path';
import type { CalibratorMethod, CalibratorRow, Report } from './report/types';
import type { RunHooks, RunOptions } from './options';
import { DEFAULTS } from './options';
import { runScore } from './run';
import { exportCalibratedModel } from './onnx/calibrated-export';
import { UserError } from './util/errors';

/** Calibrators `--calibrator` can fold into the exported ONNX (the last-layer refit is report-only). */
export const EXPORTABLE_CALIBRATORS: readonly CalibratorMethod[] = [
  'temperature_scaling', 'vector_scaling', 'matrix_scaling', 'dirichlet_odir', 'ensemble_temperature', 'histogram_binning', 'isotonic',
];
const TOP_LABEL: readonly CalibratorMethod[] = ['histogram_binning', 'isotonic'];

export interface CalibrateOptions {
  model: string;
  calib: string;
  /** Where the before/after metrics are measured; the calibration folder itself when absent (in-sample). */
  id?: string;
  /** Write the calibrated ONNX here. */
  out?: string;
  /** The calibrator written to `out` (default temperature_scaling). */
  calibrator?: string;
  /** Also add the LAC `prediction_set` output, at the run's one α (default 0.1). */
  predictionSet?: boolean;
  run?: Partial<RunOptions>;
}

export interface CalibrateResult {
  report: Report;
  temperature: number;
  outPath?: string;
  calibrator: CalibratorMethod;
  /** The α and q̂ folded into the model, when asked for. */
  predictionSet?: { alpha: number; qhat: number };
}

function checkChoice(opts: CalibrateOptions): { method: CalibratorMethod; alpha: number | undefined } {
  const method = (opts.calibrator ?? 'temperature_scaling') as CalibratorMethod;
  if (method === 'last_layer_refit') throw new UserError('The last-layer refit is report-only: its weights are not kept in the report, so it cannot be exported');
  if (!EXPORTABLE_CALIBRATORS.includes(method)) throw new UserError(`Unknown calibrator "${opts.calibrator}" (exportable: ${EXPORTABLE_CALIBRATORS.join(', ')})`);
  if (!opts.predictionSet) return { method, alpha: undefined };
  if (!opts.out) throw new UserError('--prediction-set adds an output to the exported model: give --out');
  if (TOP_LABEL.includes(method)) throw new UserError(`${method} calibrates only the top label; LAC prediction sets need every class's probability (use temperature_scaling, dirichlet_odir, ...)`);
  const alphas = opts.run?.conformalAlpha ?? DEFAULTS.conformalAlpha;
  if (alphas.length !== 1) throw new UserError(`--prediction-set folds one α into the model; give a single --alpha (got ${alphas.join(', ')})`);
  return { method, alpha: alphas[0] };
}

/** q̂ of LAC on the exported calibrator's probabilities, computed on the calibration split (comparison.ts). */
function lacThreshold(row: CalibratorRow, alpha: number): number {
  const lac = row.lac?.find((l) => l.alpha === alpha);
  if (!lac) throw new UserError(`No LAC threshold at α = ${alpha} for ${row.method}`);
  if (lac.qhat === null || !Number.isFinite(lac.qhat)) {
    throw new UserError(`The calibration split (${lac.n_calib} labelled samples) is too small for α = ${alpha}: q̂ = +∞ puts every class in every set; use a larger split or a larger α`);
  }
  return lac.qhat;
}

/**
 * Fits the calibrators on the calibration folder, reports calibration before/after, and optionally writes an ONNX
 * with the chosen calibrator folded in (logits / T by default) and, when asked, LAC prediction sets.
 */
export async function runCalibrate(opts: CalibrateOptions, hooks: RunHooks = {}): Promise<CalibrateResult> {
  if (!opts.model.toLowerCase().endsWith('.onnx')) throw new UserError(`Calibrate needs an .onnx model (got ${opts.model})`);
  const { method, alpha } = checkChoice(opts);
  const report = await runScore({ ...opts.run, models: [opts.model], id: opts.id ?? opts.calib, calib: opts.calib, ood: opts.run?.ood ?? [] }, hooks);
  if (report.partial) return { report, temperature: NaN, calibrator: method };
  const model = report.models[0];
  const row = report.calibration.find((r) => r.model === model?.name && r.temperature !== null);
  if (!row || row.temperature === null) {
    throw new UserError(`No temperature could be fitted: the calibration folder ${opts.calib} needs labelled images in class folders named like the model's classes (${model?.classes.join(', ')})`);
  }
  if (!opts.id) report.warnings.push('No separate ID folder: "after" metrics are measured on the calibration folder the calibrators were fitted on');
  const result: CalibrateResult = { report, temperature: row.temperature, calibrator: method };
  if (!opts.out) return result;
  const fitted = report.calibrators?.find((r) => r.model === model.name && r.method === method);
  if (!fitted?.parameters) {
    throw new UserError(`${method} has no parameters to export${fitted ? ` (k × k maps are kept only up to 256 classes; this model has ${model.classes.length})` : ''}`);
  }
  if (alpha !== undefined) result.predictionSet = { alpha, qhat: lacThreshold(fitted, alpha) };
  result.outPath = path.resolve(opts.out);
  await exportCalibratedModel(path.resolve(opts.model), result.outPath, {
    calibrator: fitted.parameters,
    logitsOutput: model.outputs.logits,
    calibrationSet: path.resolve(opts.calib),
    predictionSet: result.predictionSet,
  });
  report.settings.export = { out: result.outPath, calibrator: method, predictionSet: result.predictionSet ?? null };
  return result;
}
