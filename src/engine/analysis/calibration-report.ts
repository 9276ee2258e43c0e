import type { CalibrationRow, CalibratorRow } from '../report/types';
import { calibrationMetrics, type CalibrationMetrics } from '../metrics/calibration-metrics';
import { consistencyBands } from '../metrics/consistency';
import { smoothReliability } from '../metrics/smooth-reliability';
import { fitTemperature } from '../calibration/temperature';
import { fitLogisticRegression, fitMatrixScaling, fitVectorScaling, DEFAULT_L2, type LinearCalibrator } from '../calibration/scaling';
import { lacOf, linearParameters, MAX_STORED_CLASSES, newCalibratorRows, temperatureRow, type ComparisonContext } from '../calibration/comparison';
import type { Scored } from './build-report';

/** Labelled rows only (label in [0, classes) and finite values), packed for fitting; rows are `k` wide. */
function labelledRows(logits: Float32Array, labels: Int32Array, k: number, classes = k): { logits: Float32Array; labels: Int32Array; n: number } {
  let n = 0;
  const keep = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= classes) continue;
    let finite = true;
    for (let j = 0; j < k; j++) if (!Number.isFinite(logits[i * k + j])) finite = false;
    if (finite) {
      keep[i] = 1;
      n++;
    }
  }
  const outL = new Float32Array(n * k);
  const outY = new Int32Array(n);
  let r = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!keep[i]) continue;
    outL.set(logits.subarray(i * k, (i + 1) * k), r * k);
    outY[r++] = labels[i];
  }
  return { logits: outL, labels: outY, n };
}

function scale(logits: Float32Array, t: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] / t;
  return out;
}

function metricsOf(m: CalibrationMetrics) {
  return {
    n: m.n, accuracy: m.accuracy, ece: m.ece, ece_em: m.ece_em, mce: m.mce, classwise_ece: m.classwise_ece, nll: m.nll, brier: m.brier,
    smece: m.smece, smece_bandwidth: m.smece_bandwidth, ece_debiased: m.ece_debiased, ece_toplabel: m.ece_toplabel,
  };
}

/** The binned diagram with Bröcker–Smith consistency bands, and the smooth curve with its bootstrap band. */
function diagram(m: CalibrationMetrics): Pick<CalibrationRow, 'bins' | 'smooth'> {
  const bands = consistencyBands(m.confidences, m.binOf, m.bins.length);
  const bins = m.bins.map((b, i) => ({ ...b, consistency_lo: bands[i]?.lo ?? null, consistency_hi: bands[i]?.hi ?? null }));
  return { bins, smooth: smoothReliability(m.confidences, m.correct, m.smece_bandwidth) };
}

/**
 * Calibration of one model on the ID split; temperature scaling fitted on the calibration split (when given and
 * labelled) and evaluated on ID, so the "after" numbers are never measured on the data T was fitted on.
 */
/** Full feature rows of a split, when the model has features and they were kept. */
export type FeatureSource = (model: string, split: string, n: number) => { data: Float32Array; d: number } | null;

export function calibrationReport(s: Scored, idName: string, calibName: string | undefined, bins: number, features: FeatureSource | undefined, warn: (m: string) => void, alphas: readonly number[] = []): { row: CalibrationRow; calibrators: CalibratorRow[] } | null {
  const id = s.perSplit.get(idName);
  if (!id?.labels || s.k < 2) return null;
  const n = id.labels.length;
  const before = calibrationMetrics(id.logits, id.labels, n, s.k, { bins });
  if (before.n === 0) return null;
  for (const m of before.messages) warn(`${s.name} on "${idName}": ${m}`);
  const row: CalibrationRow = { model: s.name, split: idName, ...metricsOf(before), temperature: null, scaled: null, ...diagram(before) };
  const calib = calibName ? s.perSplit.get(calibName) : undefined;
  if (!calib?.labels) return { row, calibrators: [] };
  const fit = labelledRows(calib.logits, calib.labels, s.k);
  if (fit.n === 0) {
    warn(`"${calibName}" has no labelled samples of ${s.name}'s classes: no temperature fitted`);
    return { row, calibrators: [] };
  }
  const t = fitTemperature(fit.logits, fit.labels, fit.n, s.k);
  const after = calibrationMetrics(scale(id.logits, t.temperature), id.labels, n, s.k, { bins });
  row.temperature = t.temperature;
  row.scaled = { method: 'temperature', fittedOn: calibName, ...metricsOf(after), ...diagram(after), nllCalibBefore: t.nllBefore, nllCalibAfter: t.nllAfter };
  // Richer maps change predictions, so accuracy before/after is reported with them; fitted on calib, evaluated on ID.
  const measure = (logits: Float32Array) => {
    const m = calibrationMetrics(logits, id.labels!, n, s.k, { bins });
    return { ...metricsOf(m), bins: m.bins };
  };
  const ctx: ComparisonContext = {
    model: s.name, fittedOn: calibName!, evaluatedOn: idName, k: s.k, bins, alphas, measure, warn, before: metricsOf(before),
    calib: { logits: calib.logits, labels: calib.labels }, id: { logits: id.logits, labels: id.labels },
  };
  const calibrators: CalibratorRow[] = [temperatureRow(ctx, t, { ...metricsOf(after), bins: after.bins })];
  const record = (method: CalibratorRow['method'], map: LinearCalibrator, scaledLogits: Float32Array, calibScaled: Float32Array) => {
    const parameters = linearParameters(map);
    calibrators.push({
      model: s.name, method, fittedOn: calibName!, evaluatedOn: idName, l2: DEFAULT_L2, optimizer: 'L-BFGS (memory 10), max |gradient| ≤ 1e-9',
      iterations: map.iterations, converged: map.converged, before: metricsOf(before), after: measure(scaledLogits),
      ...(parameters ? { parameters } : {}), lac: lacOf(ctx, calibScaled, scaledLogits),
    });
  };
  // Matrix scaling and the last-layer refit cost n·k² and n·d·k per L-BFGS step: at ImageNet's 1,000 classes that is
  // hours, so above MAX_STORED_CLASSES they are skipped with a note, as Dirichlet is.
  const large = s.k > MAX_STORED_CLASSES;
  if (large) warn(`${s.name}: matrix scaling and the last-layer refit are not fitted above ${MAX_STORED_CLASSES} classes (k = ${s.k})`);
  for (const [method, fitMap] of [['vector_scaling', fitVectorScaling], ...(large ? [] : [['matrix_scaling', fitMatrixScaling]] as const)] as const) {
    const map = fitMap(fit.logits, fit.labels, fit.n, s.k);
    record(method, map, map.apply(id.logits, n), map.apply(calib.logits, calib.labels.length));
  }
  calibrators.push(...newCalibratorRows(ctx, fit, t.temperature));
  // The last-layer refit: multinomial logistic regression on the penultimate features of the calibration split.
  const calibFeatures = features?.(s.name, calibName!, calib.labels.length);
  const idFeatures = features?.(s.name, idName, n);
  if (calibFeatures && idFeatures && !large) {
    const fitRows = labelledRows(calibFeatures.data, calib.labels, calibFeatures.d, s.k);
    const map = fitLogisticRegression(fitRows.logits, fitRows.labels, fitRows.n, calibFeatures.d, s.k);
    record('last_layer_refit', map, map.apply(idFeatures.data, n), map.apply(calibFeatures.data, calib.labels.length));
  }
  return { row, calibrators };
}
