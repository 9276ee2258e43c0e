import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from '../run/plan';
import { planSize } from '../run/plan';
import { mapLabels } from '../run/classes';
import { KnnDetector, MahalanobisDetector, VimDetector } from '../scores/feature-scores';
import { readLastLayer } from '../onnx/last-layer';

/** Samples of features kept per split for the 2-D projection chart. */
const PROJECTION_SAMPLES = 400;
/** Full ID and calibration features are kept for the last-layer refit only up to this many floats (256 MB). */
const REFIT_MAX_FLOATS = 64 * 1024 * 1024;

interface Detectors {
  mahalanobis: MahalanobisDetector;
  knn: KnnDetector;
  vim: VimDetector | null;
  fitted: boolean;
}

interface Growing {
  values: Float64Array;
}

/**
 * Feature-based detectors, fitted in one streaming pass over the fit split and then applied batch by batch to the
 * other splits, so features are never held for a whole split (only a small sample for the projection chart).
 */
export class FeatureScoring {
  private readonly detectors = new Map<string, Detectors>();
  private readonly scores = new Map<string, Map<string, Record<string, Growing>>>();
  private readonly samples = new Map<string, Map<string, { features: number[]; index: number[]; d: number }>>();
  private readonly full = new Map<string, { data: Float32Array; n: number; d: number } | null>();
  private fullFloats = 0;
  readonly notes: string[] = [];
  /** Model name → class names, set before the fit split is collected (labels for the class-conditional fit). */
  classesOf: (model: string) => string[] = () => [];

  /**
   * @param enabled a fit split exists, so the detectors are fitted and applied
   * @param refit a calibration split exists, so full ID and calibration features are kept for the last-layer refit
   */
  constructor(readonly enabled: boolean, readonly refit: boolean) {}

  onBatch(model: { plan: ModelPlan }, split: SplitPlan, features: Float32Array, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): void {
    this.keepSample(model.plan.name, split, features, n, d, offset);
    if (this.refit && (split.role === 'id' || split.role === 'calib')) this.keepFull(model.plan.name, split, features, n, d, offset);
    if (!this.enabled) return;
    const name = model.plan.name;
    if (split.role === 'fit') {
      let det = this.detectors.get(name);
      if (!det) {
        const classes = this.classesOf(name);
        const layer = model.plan.inputName ? readLastLayer(model.plan.path, model.plan.logitsOutput) : null;
        if (!layer) this.notes.push(`${name}: ViM skipped (the last layer's weights could not be read from the graph)`);
        else if (layer.d !== d) this.notes.push(`${name}: ViM skipped (last layer takes ${layer.d} inputs, features have ${d})`);
        det = {
          mahalanobis: new MahalanobisDetector(d, Math.max(1, classes.length)),
          knn: new KnnDetector(d),
          vim: layer && layer.d === d ? new VimDetector(layer.W, layer.b) : null,
          fitted: false,
        };
        this.detectors.set(name, det);
      }
      const labels = mapLabels(this.classesOf(name), split, folderClass, model.plan.labelMap);
      det.mahalanobis.add(features, labels, n);
      det.knn.add(features, n);
      det.vim?.add(features, logits, n);
      return;
    }
    const det = this.detectors.get(name);
    if (!det?.fitted) return;
    const out: Record<string, Float64Array> = {
      mahalanobis: det.mahalanobis.score(features, n),
      knn: det.knn.score(features, n),
    };
    if (det.vim) out.vim = det.vim.score(features, logits, n);
    const bySplit = this.scores.get(name) ?? new Map<string, Record<string, Growing>>();
    this.scores.set(name, bySplit);
    const rec = bySplit.get(split.name) ?? {};
    bySplit.set(split.name, rec);
    const total = planSize(split) || offset + n;
    for (const [score, values] of Object.entries(out)) {
      const g = (rec[score] ??= { values: new Float64Array(total).fill(NaN) });
      if (g.values.length < offset + n) {
        const grown = new Float64Array(Math.max(offset + n, g.values.length * 2)).fill(NaN);
        grown.set(g.values);
        g.values = grown;
      }
      g.values.set(values, offset);
    }
  }

  finishFit(models: { plan: ModelPlan }[]): void {
    for (const m of models) {
      const det = this.detectors.get(m.plan.name);
      if (!det) continue;
      det.mahalanobis.finish();
      det.knn.finish();
      det.vim?.finish();
      det.fitted = true;
    }
  }

  /** Feature scores of one model on one split, trimmed to the `n` samples that were scored. */
  scoresFor(model: string, split: string, n: number): Record<string, Float64Array> {
    const rec = this.scores.get(model)?.get(split);
    if (!rec) return {};
    return Object.fromEntries(Object.entries(rec).map(([k, g]) => [k, g.values.slice(0, n)]));
  }

  sample(model: string, split: string): { features: Float64Array; index: number[]; d: number } | null {
    const s = this.samples.get(model)?.get(split);
    return s && s.index.length ? { features: Float64Array.from(s.features), index: s.index, d: s.d } : null;
  }

  /** Every ID or calibration feature row of one model, for the last-layer refit; null when over the memory cap. */
  fullFeatures(model: string, split: string, n: number): { data: Float32Array; d: number } | null {
    const f = this.full.get(`${model}\u0000${split}`);
    return f && f.n >= n ? { data: f.data.subarray(0, n * f.d), d: f.d } : null;
  }

  private keepFull(model: string, split: SplitPlan, features: Float32Array, n: number, d: number, offset: number): void {
    const key = `${model}\u0000${split.name}`;
    let f = this.full.get(key);
    if (f === null) return;
    if (!f) {
      const size = (planSize(split) || n) * d;
      if (this.fullFloats + size > REFIT_MAX_FLOATS) {
        this.full.set(key, null);
        this.notes.push(`${model}: last-layer refit skipped on "${split.name}" (its features would take more than 256 MB)`);
        return;
      }
      this.fullFloats += size;
      f = { data: new Float32Array(size), n: 0, d };
      this.full.set(key, f);
    }
    f.data.set(features.subarray(0, n * d), offset * d);
    f.n = Math.max(f.n, offset + n);
  }

  private keepSample(model: string, split: SplitPlan, features: Float32Array, n: number, d: number, offset: number): void {
    if (split.role === 'fit') return;
    const stride = Math.max(1, Math.ceil((planSize(split) || n) / PROJECTION_SAMPLES));
    const bySplit = this.samples.get(model) ?? new Map();
    this.samples.set(model, bySplit);
    const s = bySplit.get(split.name) ?? { features: [], index: [], d };
    bySplit.set(split.name, s);
    for (let i = 0; i < n; i++) {
      const idx = offset + i;
      if (idx % stride !== 0) continue;
      s.index.push(idx);
      for (let j = 0; j < d; j++) s.features.push(features[i * d + j]);
    }
  }
}
