import type { ModelPlan } from '../model/inspect';
import type { SplitPlan } from '../run/plan';
import { planSize } from '../run/plan';
import { mapLabels } from '../run/classes';
import { readLastLayer, type LastLayer } from '../onnx/last-layer';
import { ashShaping, reactShaping, scaleShaping, shapedLogits, type Shaping } from '../ood/shaping';
import { computeLogitScores, type LogitScore } from '../scores/logit-scores';
import type { Batch, MethodSpec, OodDetector } from '../ood/method';
import { METHODS } from '../ood/registry';
import { OrtDense, type Dense } from '../linalg/dense';

/** Samples of features kept per split for the 2-D projection chart. */
const PROJECTION_SAMPLES = 400;
/** Full ID and calibration features are kept for the last-layer refit only up to this many floats (256 MB). */
const REFIT_MAX_FLOATS = 64 * 1024 * 1024;

interface Growing {
  values: Float64Array;
}

export interface MethodChoice {
  /** Method names asked for; undefined = every method whose needs the model and the run meet. */
  wanted?: readonly string[];
  /** Per method, parameters over its defaults. */
  params?: Record<string, Record<string, number>>;
  /** --shaping: the logit scores are also computed on W·shape(h) + b, named `<score>+<shaping>`. */
  shaping?: { name: ShapingName; scores: readonly LogitScore[] };
}

export type ShapingName = 'react' | 'ash' | 'scale';

/** A shaping with its method's percentile (so `--param react.percentile=95` applies to `--shaping react` too). */
function makeShaping(name: ShapingName, params: Record<string, number>): Shaping {
  const p = params.percentile;
  return name === 'react' ? reactShaping(p) : name === 'ash' ? ashShaping(p) : scaleShaping(p);
}

/**
 * The post-hoc OOD methods of the registry, per model: those that need a fit are fitted in one streaming pass over
 * the fit split, then every method scores the other splits batch by batch, so features are never held for a whole
 * split (only a small sample for the projection chart).
 */
export class FeatureScoring {
  private readonly detectors = new Map<string, { name: string; det: OodDetector; fits: boolean }[]>();
  private readonly shaped = new Map<string, { shaping: Shaping; layer: LastLayer } | null>();
  private readonly scores = new Map<string, Map<string, Record<string, Growing>>>();
  private readonly samples = new Map<string, Map<string, { features: number[]; index: number[]; d: number }>>();
  private readonly full = new Map<string, { data: Float32Array; n: number; d: number } | null>();
  private fullFloats = 0;
  /** Per model, the batches handed to its detectors so far: they run one after another, in arrival order. */
  private readonly queues = new Map<string, Promise<void>>();
  readonly notes: string[] = [];
  /** Model name → class names, set before the fit split is collected (labels for the class-conditional fit). */
  classesOf: (model: string) => string[] = () => [];
  /** Model name → its final layer when it does not come from an ONNX graph (precomputed outputs). */
  layerOf?: (model: string) => LastLayer | null;

  /**
   * @param enabled a fit split exists, so the methods that need one are fitted and applied
   * @param refit a calibration split exists, so full ID and calibration features are kept for the last-layer refit
   */
  constructor(readonly enabled: boolean, readonly refit: boolean, readonly choice: MethodChoice = {}, readonly dense: Dense = new OrtDense()) {}

  /** Ends the dense thread (after the calls already made). */
  close(): void {
    this.dense.close();
  }

  /** The model's detectors, made at its first batch: the wanted methods whose needs are met. */
  private detectorsOf(plan: ModelPlan, d: number, k: number) {
    let dets = this.detectors.get(plan.name);
    if (dets) return dets;
    const layer = d === 0 ? null : this.layerOf ? this.layerOf(plan.name) : plan.inputName ? readLastLayer(plan.path, plan.logitsOutput) : null;
    const usable = layer && layer.d === d && layer.k === k ? layer : null;
    const missing = (m: MethodSpec): string | null =>
      m.needs.features && d === 0 ? 'no feature tensor'
        : m.needs.lastLayer && !usable ? (layer ? `the last layer takes ${layer.d} inputs, features have ${d}` : "the last layer's weights could not be read from the graph")
          : m.needs.fit && !this.enabled ? 'no fit split (--fit)' : null;
    const wanted = this.choice.wanted;
    dets = [];
    for (const m of METHODS) {
      if (wanted && !wanted.includes(m.name)) continue;
      const why = missing(m);
      // Unmet needs are said for methods asked for by name, and for ViM (the classic note) when none was named.
      if (why) {
        if (wanted || (m.name === 'vim' && this.enabled && d > 0)) this.notes.push(`${plan.name}: ${m.name} skipped (${why})`);
        continue;
      }
      dets.push({ name: m.name, det: m.create({ d, k, layer: usable, params: this.paramsOf(m), dense: this.dense }), fits: m.needs.fit });
    }
    this.detectors.set(plan.name, dets);
    this.shaped.set(plan.name, this.shapingOf(plan.name, usable));
    return dets;
  }

  private paramsOf(m: MethodSpec): Record<string, number> {
    return { ...m.defaults, ...(this.choice.params?.[m.name] ?? {}) };
  }

  private shapingOf(model: string, layer: LastLayer | null): { shaping: Shaping; layer: LastLayer } | null {
    const s = this.choice.shaping;
    if (!s) return null;
    const why = !layer ? "it needs the features and the final layer's weights" : s.name === 'react' && !this.enabled ? 'its clip value comes from the fit split (--fit)' : null;
    if (why || !layer) {
      this.notes.push(`${model}: --shaping ${s.name} skipped (${why})`);
      return null;
    }
    const spec = METHODS.find((m) => m.name === s.name)!;
    return { shaping: makeShaping(s.name, this.paramsOf(spec)), layer };
  }

  /**
   * Hands one batch to the model's detectors. The returned promise settles once they are done with it (the caller
   * may then reuse the buffers); batches of one model are processed in the order they arrive.
   */
  onBatch(model: { plan: ModelPlan }, split: SplitPlan, features: Float32Array | null, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): Promise<void> {
    if (features) {
      this.keepSample(model.plan.name, split, features, n, d, offset);
      if (this.refit && (split.role === 'id' || split.role === 'calib')) this.keepFull(model.plan.name, split, features, n, d, offset);
    }
    return this.enqueue(model.plan.name, () => this.process(model.plan, split, features, logits, n, d, folderClass, offset));
  }

  private enqueue(model: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(model) ?? Promise.resolve()).then(work);
    // A failed batch fails its caller; the queue goes on for the batches after it.
    this.queues.set(model, next.catch(() => undefined));
    return next;
  }

  private async process(plan: ModelPlan, split: SplitPlan, features: Float32Array | null, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): Promise<void> {
    const name = plan.name;
    const k = logits.length / n;
    const dets = this.detectorsOf(plan, features ? d : 0, k);
    if (split.role === 'fit') {
      const labels = mapLabels(this.classesOf(name), split, folderClass, plan.labelMap);
      const batch: Batch = { features, logits, labels, n };
      for (const x of dets) if (x.fits) await x.det.fit?.(batch);
      if (features) this.shaped.get(name)?.shaping.fit?.(features, n, d);
      return;
    }
    const batch: Batch = { features, logits, labels: new Int32Array(n).fill(-1), n };
    const out: Record<string, Float64Array> = {};
    for (const x of dets) out[x.name] = await x.det.score(batch);
    const shaped = this.shaped.get(name);
    if (shaped && this.choice.shaping) {
      const z = Float32Array.from(await shapedLogits(shaped.layer, shaped.shaping, batch, this.dense));
      const scores = computeLogitScores(z, n, shaped.layer.k, this.choice.shaping.scores);
      for (const [s, v] of Object.entries(scores)) out[`${s}+${this.choice.shaping.name}`] = v;
    }
    if (Object.keys(out).length > 0) this.store(name, split, out, n, offset);
  }

  private store(name: string, split: SplitPlan, out: Record<string, Float64Array>, n: number, offset: number): void {
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

  /** After the fit split's last batch: waits for its batches, then finishes each model's fit. */
  async finishFit(models: { plan: ModelPlan }[]): Promise<void> {
    for (const m of models) {
      await this.enqueue(m.plan.name, async () => {
        for (const x of this.detectors.get(m.plan.name) ?? []) if (x.fits) await x.det.finish?.();
        this.shaped.get(m.plan.name)?.shaping.finish?.();
      });
    }
  }

  /** Waits for every batch handed over so far (before reading scores). */
  async settled(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  /**
   * Method scores of one model on one split, trimmed to the `n` samples that were scored. Every split gets every
   * score the model has on any split (NaN where none arrived: a run cancelled before the split's first batch).
   */
  scoresFor(model: string, split: string, n: number): Record<string, Float64Array> {
    const bySplit = this.scores.get(model);
    const names = new Set([...(bySplit?.values() ?? [])].flatMap((rec) => Object.keys(rec)));
    const rec = bySplit?.get(split);
    return Object.fromEntries([...names].map((k) => [k, rec?.[k] ? rec[k].values.slice(0, n) : new Float64Array(n).fill(NaN)]));
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
