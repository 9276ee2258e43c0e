import * as path from 'node:path';
import type { Report } from './report/types';
import type { RunHooks, RunOptions } from './options';
import { runScore } from './run';
import { exportCalibratedModel } from './onnx/calibrated-export';
import { UserError } from './util/errors';

export interface CalibrateOptions {
  model: string;
  calib: string;
  /** Where the before/after metrics are measured; the calibration folder itself when absent (in-sample). */
  id?: string;
  /** Write the calibrated ONNX here. */
  out?: string;
  run?: Partial<RunOptions>;
}

/**
 * Fits temperature scaling on the calibration folder, reports calibration before/after, and optionally writes an
 * ONNX whose logits output is divided by T.
 */
export async function runCalibrate(opts: CalibrateOptions, hooks: RunHooks = {}): Promise<{ report: Report; temperature: number; outPath?: string }> {
  if (!opts.model.toLowerCase().endsWith('.onnx')) throw new UserError(`Calibrate needs an .onnx model (got ${opts.model})`);
  const report = await runScore({ ...opts.run, models: [opts.model], id: opts.id ?? opts.calib, calib: opts.calib, ood: opts.run?.ood ?? [] }, hooks);
  if (report.partial) return { report, temperature: NaN };
  const row = report.calibration.find((r) => r.model === report.models[0]?.name && r.temperature !== null);
  if (!row || row.temperature === null) {
    throw new UserError(`No temperature could be fitted: the calibration folder ${opts.calib} needs labelled images in class folders named like the model's classes (${report.models[0]?.classes.join(', ')})`);
  }
  if (!opts.id) report.warnings.push('No separate ID folder: "after" metrics are measured on the calibration folder the temperature was fitted on');
  let outPath: string | undefined;
  if (opts.out) {
    outPath = path.resolve(opts.out);
    await exportCalibratedModel(path.resolve(opts.model), outPath, {
      temperature: row.temperature,
      logitsOutput: report.models[0].outputs.logits,
      calibrationSet: path.resolve(opts.calib),
    });
  }
  return { report, temperature: row.temperature, outPath };
}
