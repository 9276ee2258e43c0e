// `ood-lens finetune`: one scoring run collects the features of every split (fit and outliers too), the last layer
// is refitted with the energy-bounded loss, the "after" numbers come from W′·h + b′ (no second inference), and the
// fine-tuned ONNX is written.
import * as path from 'node:path';
import type { Report } from '../report/types';
import type { RunHooks, RunOptions } from '../options';
import { DEFAULTS } from '../options';
import { runScore } from '../run';
import { readLastLayer } from '../onnx/last-layer';
import { mapLabels } from '../run/classes';
import { LOGIT_SCORES } from '../scores/logit-scores';
import { UserError } from '../util/errors';
import { FeatureCapture, type CapturedSplit } from './capture';
import { checkOutlierSource } from './sources';
import { fitEnergyLayer, type FinetuneSettings } from './fit';
import { exportFinetunedModel } from './onnx-export';
import { finetuneSection, layerGap } from './section';

export interface FinetuneOptions extends FinetuneSettings {
  model: string;
  /** Labelled ID images the layer is fitted on. */
  fit: string;
  /** Auxiliary outliers (a folder, manifest or noise:N[:SEED]): only for the fit, never a test split. */
  outliers: string;
  /** Test ID split; the fit split itself (in-sample) when absent. */
  id?: string;
  ood?: string[];
  calib?: string;
  out?: string;
  run?: Partial<RunOptions>;
}

/** The feature rows must be the final layer's input: W·h + b must give the logits to float32 rounding. */
function checkLayer(splits: CapturedSplit[], W: Float32Array, b: Float32Array, features: string | undefined): number {
  let gap = 0, scale = 1;
  for (const s of splits) {
    gap = Math.max(gap, layerGap(s, W, b));
    for (const z of s.logits) scale = Math.max(scale, Math.abs(z));
  }
  if (!(gap <= 1e-3 * scale)) {
    throw new UserError(`The features ("${features}") are not the final linear layer's input: W·h + b is off the logits by ${gap.toPrecision(3)}; name that input with --features-node`);
  }
  return gap;
}

export async function runFinetune(opts: FinetuneOptions, hooks: RunHooks = {}): Promise<{ report: Report; outPath?: string }> {
  if (!opts.model.toLowerCase().endsWith('.onnx')) throw new UserError(`finetune needs an .onnx model (got ${opts.model})`);
  const ood = opts.ood ?? opts.run?.ood ?? [];
  await checkOutlierSource(opts.outliers, [
    { flag: '--fit', source: opts.fit },
    ...(opts.id ? [{ flag: '--id', source: opts.id }] : []),
    ...ood.map((source) => ({ flag: '--ood', source })),
    ...(opts.calib ? [{ flag: '--calib', source: opts.calib }] : []),
  ]);
  const capture = new FeatureCapture();
  const report = await runScore({
    ...opts.run, models: [opts.model], id: opts.id ?? opts.fit, fit: opts.fit, outliers: opts.outliers, ood, calib: opts.calib,
    scores: opts.run?.scores ?? [...LOGIT_SCORES],
  }, { ...hooks, onFeatures: capture.onFeatures });
  if (report.partial) return { report };
  const model = capture.model;
  const info = report.models[0];
  const layer = model && readLastLayer(model.path, info.outputs.logits);
  if (!model || !layer) throw new UserError(`${path.basename(opts.model)}: the weights of the final linear layer could not be read from the graph (a Gemm, or MatMul + Add, of constant weights)`);
  const byRole = (role: string) => [...capture.splits.values()].filter((s) => s.plan.role === role).map((s) => capture.get(s.plan.name)!);
  const splits = [...report.splits.map((s) => capture.get(s.name)).filter((s): s is CapturedSplit => !!s), ...byRole('fit'), ...byRole('outliers')];
  const [fitSplit] = byRole('fit');
  const [outSplit] = byRole('outliers');
  if (!fitSplit || !outSplit) throw new UserError('No features were collected for the fit split or the outliers');
  const layerCheck = checkLayer(splits, layer.W, layer.b, info.outputs.features);

  const labels = mapLabels(info.classes, fitSplit.plan, fitSplit.folderClass, model.labelMap);
  const nLabelled = labels.reduce((a, y) => a + (y >= 0 && y < layer.k ? 1 : 0), 0);
  if (nLabelled === 0) throw new UserError(`The fit split ${opts.fit} has no image in a class folder named like the model's classes (${info.classes.join(', ')})`);
  hooks.onProgress?.({ phase: 'analysis', done: 0, total: 0, imagesPerSecond: 0 });
  const fit = fitEnergyLayer({ d: layer.d, k: layer.k, fit: fitSplit.features, nFit: fitSplit.n, labels, outliers: outSplit.features, nOut: outSplit.n }, layer.W, layer.b, opts);

  const outPath = opts.out ? path.resolve(opts.out) : undefined;
  if (outPath) {
    await exportFinetunedModel(model.path, outPath, info.outputs.logits, { W: fit.W, b: fit.b, k: layer.k, d: layer.d }, {
      method: 'energy-bounded last layer (Liu et al. 2020)', lambda: fit.lambda, T: fit.T, l2: fit.l2, mIn: fit.mIn, mOut: fit.mOut,
      fit: path.resolve(opts.fit), outliers: opts.outliers,
    });
  }
  if (!opts.id) report.warnings.push('No separate ID folder (--id): the ID split is the fit split, so its "after" numbers are in-sample');
  report.finetune = finetuneSection({
    model, classes: info.classes, splits, W0: layer.W, b0: layer.b, fit, nLabelled, out: outPath ?? null, layerCheck,
    keepFraction: opts.run?.keepFraction ?? DEFAULTS.keepFraction, eceBins: opts.run?.eceBins ?? DEFAULTS.eceBins, histogramBins: opts.run?.histogramBins ?? DEFAULTS.histogramBins,
  });
  return { report, outPath };
}
