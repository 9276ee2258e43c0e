// The calibrator comparison's rows beyond the logistic maps: temperature scaling, Dirichlet (ODIR), ensemble
// temperature scaling and the two top-label maps, each fitted on the calibration split and measured on ID, with its
// parameters (to apply or export it again) and LAC sets on its probabilities for every α of the run.
import type { CalibrationSummary, CalibratorLac, CalibratorParameters, CalibratorRow, ReliabilityBin } from '../report/types';
import { conformal } from '../metrics/conformal';
import { topLabel } from '../metrics/smece';
import { calibratedLogits, topLabelMap } from './apply';
import { fitDirichletOdir, ODIR_LAMBDA, ODIR_MU } from './dirichlet';
import { fitEnsembleTemperature } from './ensemble-temperature';
import { fitHistogramBinning, HISTOGRAM_BINS } from './histogram-binning';
import { fitIsotonic } from './isotonic';
import type { LinearCalibrator } from './scaling';
import type { TemperatureFit } from './temperature';
import { topLabelMetrics } from './top-label';

/** k × k parameter blocks are kept in the report up to this many classes (256² numbers ≈ 1.3 MB of JSON), and
 * Dirichlet calibration is fitted only up to it. */
export const MAX_STORED_CLASSES = 256;

type Summary = CalibrationSummary & { bins: ReliabilityBin[] };
interface Split { logits: Float32Array; labels: Int32Array }

export interface ComparisonContext {
  model: string;
  fittedOn: string;
  evaluatedOn: string;
  k: number;
  bins: number;
  alphas: readonly number[];
  /** Every row of the calibration and ID splits (unlabelled ones are skipped where it matters). */
  calib: Split;
  id: Split;
  before: CalibrationSummary;
  /** calibration-report's metrics of logits [n, k] on the ID split. */
  measure(logits: Float32Array): Summary;
  warn(message: string): void;
}

/** LAC (conformal.ts) on calibrated logits of both splits: q̂ from calibration, sets measured on ID. */
export function lacOf(ctx: ComparisonContext, calibLogits: Float32Array, idLogits: Float32Array): CalibratorLac[] {
  return ctx.alphas.map((alpha) => {
    const r = conformal('lac', { logits: calibLogits, labels: ctx.calib.labels }, { logits: idLogits, labels: ctx.id.labels }, ctx.k, { alpha });
    return {
      alpha, qhat: r.qhat, n_calib: r.n_calib, coverage: r.coverage, mean_set_size: r.mean_set_size,
      empty_fraction: r.empty_fraction, singleton_fraction: r.singleton_fraction, covgap: r.covgap,
    };
  });
}

const rows2d = (x: ArrayLike<number>, k: number): number[][] => Array.from({ length: k }, (_, r) => Array.from({ length: k }, (_, j) => x[r * k + j]));

/** What vector and matrix scaling fitted, as report parameters (none above MAX_STORED_CLASSES for the matrix). */
export function linearParameters(map: LinearCalibrator): CalibratorParameters | undefined {
  if (map.kind === 'vector') return { kind: 'vector', a: Array.from(map.weights), c: Array.from(map.bias) };
  if (map.kind === 'matrix' && map.k <= MAX_STORED_CLASSES) return { kind: 'matrix', A: rows2d(map.weights, map.k), c: Array.from(map.bias) };
  return undefined;
}

function row(ctx: ComparisonContext, method: CalibratorRow['method'], fields: Omit<CalibratorRow, 'model' | 'method' | 'fittedOn' | 'evaluatedOn' | 'before'>): CalibratorRow {
  return { model: ctx.model, method, fittedOn: ctx.fittedOn, evaluatedOn: ctx.evaluatedOn, ...fields, before: ctx.before };
}

/** A full-distribution map's row from its parameters: metrics and LAC on exactly what its export computes. */
function fullRow(ctx: ComparisonContext, method: CalibratorRow['method'], params: CalibratorParameters, fields: Pick<CalibratorRow, 'optimizer' | 'iterations' | 'converged' | 'hyperparameters'>): CalibratorRow {
  const { idCal, lac } = lacOfParameters(ctx, params);
  return row(ctx, method, { ...fields, after: ctx.measure(idCal), parameters: params, lac });
}

function lacOfParameters(ctx: ComparisonContext, params: CalibratorParameters): { idCal: Float32Array; lac: CalibratorLac[] } {
  const idCal = calibratedLogits(params, ctx.id.logits, ctx.id.labels.length, ctx.k);
  return { idCal, lac: lacOf(ctx, calibratedLogits(params, ctx.calib.logits, ctx.calib.labels.length, ctx.k), idCal) };
}

/**
 * Temperature scaling's row; `after` is the calibration row's `scaled` metrics (float32(z / T), as the report has
 * always measured them), LAC uses the exported float32(z / float32(T)).
 */
export function temperatureRow(ctx: ComparisonContext, t: TemperatureFit, after: Summary): CalibratorRow {
  const params: CalibratorParameters = { kind: 'temperature', temperature: t.temperature };
  return row(ctx, 'temperature_scaling', {
    optimizer: 'Newton on β = 1/T inside a sign bracket of the derivative', iterations: t.iterations, converged: t.note === undefined,
    after, parameters: params, lac: lacOfParameters(ctx, params).lac,
  });
}

/** Dirichlet (ODIR), ensemble temperature scaling, histogram binning and isotonic regression. */
export function newCalibratorRows(ctx: ComparisonContext, fit: { logits: Float32Array; labels: Int32Array; n: number }, temperature: number): CalibratorRow[] {
  const { k } = ctx;
  const rows: CalibratorRow[] = [];
  // A k × k fit costs n·k² per step: above MAX_STORED_CLASSES it would take many minutes and could not be exported.
  if (k <= MAX_STORED_CLASSES) {
    const dir = fitDirichletOdir(fit.logits, fit.labels, fit.n, k);
    if (!dir.converged) ctx.warn(`${ctx.model}: Dirichlet calibration stopped after ${dir.iterations} iterations without converging (k = ${k}); its row is an approximate fit`);
    rows.push(fullRow(ctx, 'dirichlet_odir', { kind: 'dirichlet', W: rows2d(dir.W, k), b: Array.from(dir.b) }, {
      optimizer: 'L-BFGS (memory 10) on a projected, Jacobi-scaled search space, max |gradient| ≤ 1e-9', iterations: dir.iterations, converged: dir.converged,
      hyperparameters: { lambda: ODIR_LAMBDA, mu: ODIR_MU },
    }));
  } else {
    ctx.warn(`${ctx.model}: Dirichlet calibration is not fitted above ${MAX_STORED_CLASSES} classes (k = ${k})`);
  }
  if (temperature > 0 && Number.isFinite(temperature)) {
    const ets = fitEnsembleTemperature(fit.logits, fit.labels, fit.n, k, temperature);
    rows.push(fullRow(ctx, 'ensemble_temperature', { kind: 'ensemble_temperature', temperature, weights: ets.weights, classes: k }, {
      optimizer: 'T from temperature scaling; weights: exact minimum over the simplex (Newton on each face)', iterations: ets.iterations, converged: true,
    }));
  }
  const { conf, correct } = topLabel(fit.logits, fit.labels, fit.n, k);
  const hist = fitHistogramBinning(conf, correct);
  const iso = fitIsotonic(conf, correct);
  const topLabelParams: [CalibratorRow['method'], CalibratorParameters & { kind: 'histogram' | 'isotonic' }, Pick<CalibratorRow, 'optimizer' | 'hyperparameters'>][] = [
    ['histogram_binning', { kind: 'histogram', ...hist }, { optimizer: 'closed form: each equal-mass bin maps to its accuracy', hyperparameters: { bins: HISTOGRAM_BINS, bins_used: hist.edges.length } }],
    ['isotonic', { kind: 'isotonic', ...iso }, { optimizer: 'pool-adjacent-violators (sklearn IsotonicRegression, clipped)' }],
  ];
  for (const [method, params, fields] of topLabelParams) {
    const after = topLabelMetrics(ctx.id.logits, ctx.id.labels, ctx.id.labels.length, k, topLabelMap(params), ctx.bins);
    rows.push(row(ctx, method, { ...fields, iterations: 0, converged: true, topLabel: true, after, parameters: params }));
  }
  return rows;
}
