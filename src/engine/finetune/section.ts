// The report's `finetune` section: every collected split under the trained and the fine-tuned layer.
import type { FinetuneReport, FinetuneStage, HistogramSet } from '../report/types';
import type { ModelPlan } from '../model/inspect';
import { mapLabels } from '../run/classes';
import { calibrationMetrics } from '../metrics/calibration-metrics';
import { oodMetrics } from '../metrics/ood-metrics';
import { deploymentThreshold } from '../metrics/threshold';
import { computeLogitScores } from '../scores/logit-scores';
import { histogram } from '../analysis/histograms';
import type { CapturedSplit } from './capture';
import type { FinetuneFit } from './fit';

/** logits = W·h + b for every row. */
export function applyLayer(X: Float32Array, n: number, d: number, W: Float32Array, b: Float32Array, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let v = b[c];
      for (let j = 0; j < d; j++) v += W[c * d + j] * X[i * d + j];
      out[i * k + c] = v;
    }
  }
  return out;
}

/** Largest |W·h + b − logits| over the rows of a split. */
export function layerGap(s: CapturedSplit, W: Float32Array, b: Float32Array): number {
  const z = applyLayer(s.features, s.n, s.d, W, b, s.k);
  let gap = 0;
  for (let i = 0; i < z.length; i++) gap = Math.max(gap, Math.abs(z[i] - s.logits[i]));
  return gap;
}

const orNull = (v: number) => (Number.isFinite(v) ? v : null);

interface Stage {
  energy: Float64Array;
  stage: FinetuneStage;
}

function stageOf(logits: Float32Array, s: CapturedSplit, labels: Int32Array | null, T: number, eceBins: number): Stage {
  const energy = computeLogitScores(logits, s.n, s.k, ['energy'], { energyT: T }).energy;
  let sum = 0, cnt = 0;
  for (const e of energy) if (Number.isFinite(e)) (sum += e), cnt++;
  const cal = labels ? calibrationMetrics(logits, labels, s.n, s.k, { bins: eceBins }) : null;
  return { energy, stage: { accuracy: cal ? orNull(cal.accuracy) : null, ece: cal ? orNull(cal.ece) : null, meanEnergy: cnt ? sum / cnt : NaN, auroc: null, fpr95: null } };
}

export interface SectionInput {
  model: ModelPlan;
  classes: string[];
  /** Collected splits in report order, then the fit and outlier splits. */
  splits: CapturedSplit[];
  W0: Float32Array;
  b0: Float32Array;
  fit: FinetuneFit;
  nLabelled: number;
  out: string | null;
  layerCheck: number;
  keepFraction: number;
  eceBins: number;
  histogramBins: number;
}

export function finetuneSection(x: SectionInput): FinetuneReport {
  const { fit } = x;
  const rows = x.splits.map((s) => {
    const labelled = s.plan.role === 'id' || s.plan.role === 'calib' || s.plan.role === 'fit';
    const labels = labelled ? mapLabels(x.classes, s.plan, s.folderClass, x.model.labelMap) : null;
    const after = applyLayer(s.features, s.n, s.d, fit.W, fit.b, s.k);
    return { s, before: stageOf(s.logits, s, labels, fit.T, x.eceBins), after: stageOf(after, s, labels, fit.T, x.eceBins) };
  });
  const id = rows.find((r) => r.s.plan.role === 'id');
  for (const r of rows) {
    if (r.s.plan.role !== 'ood' || !id) continue;
    for (const stage of ['before', 'after'] as const) {
      const m = oodMetrics(id[stage].energy, r[stage].energy);
      Object.assign(r[stage].stage, { auroc: orNull(m.auroc), fpr95: orNull(m.fpr95) });
    }
  }
  // Histograms and thresholds as the report draws them: its splits, the threshold fitted on calib, else ID.
  const shown = rows.filter((r) => r.s.plan.role === 'id' || r.s.plan.role === 'ood' || r.s.plan.role === 'calib');
  const fitOn = shown.find((r) => r.s.plan.role === 'calib') ?? id;
  const hist = (stage: 'before' | 'after'): HistogramSet => {
    const t = fitOn ? deploymentThreshold(fitOn[stage].energy, x.keepFraction) : NaN;
    return histogram(x.model.name, 'energy', new Map(shown.map((r) => [r.s.plan.name, r[stage].energy])), x.histogramBins, Number.isFinite(t) ? t : null);
  };
  let dw = 0, w = 0;
  for (let i = 0; i < x.W0.length; i++) {
    dw += (fit.W[i] - x.W0[i]) ** 2;
    w += x.W0[i] ** 2;
  }
  const fitRow = rows.find((r) => r.s.plan.role === 'fit');
  const outRow = rows.find((r) => r.s.plan.role === 'outliers');
  return {
    model: x.model.name,
    out: x.out,
    fittedOn: fitRow?.s.plan.name ?? '',
    outliers: { source: outRow?.s.plan.source ?? '', count: outRow?.s.n ?? 0 },
    nFit: fitRow?.s.n ?? 0,
    nLabelled: x.nLabelled,
    lambda: fit.lambda,
    T: fit.T,
    l2: fit.l2,
    mIn: fit.mIn,
    mOut: fit.mOut,
    marginSource: fit.marginSource,
    optimizer: 'L-BFGS (memory 10), from the trained W, b',
    iterations: fit.iterations,
    converged: fit.converged,
    loss: fit.loss,
    weightChange: w > 0 ? Math.sqrt(dw / w) : NaN,
    layerCheck: x.layerCheck,
    splits: rows.map((r) => ({ split: r.s.plan.name, role: r.s.plan.role, n: r.s.n, before: r.before.stage, after: r.after.stage })),
    histograms: { before: hist('before'), after: hist('after') },
  };
}
