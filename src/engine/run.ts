import * as path from 'node:path';
import type { Report } from './report/types';
import { DEFAULTS, type Progress, type RunHooks, type RunOptions } from './options';
import { planSplits, planSize, type SplitPlan } from './run/plan';
import { collectSplit, type LoadedModel, type SplitOutputs } from './run/collect';
import { loadPrecomputed } from './run/precomputed';
import { inspectModel } from './model/inspect';
import { ModelWorker } from './inference/model-worker';
import { FeatureScoring } from './analysis/feature-scoring';
import { buildReport, type RunData } from './analysis/build-report';
import { UserError, CancelledError } from './util/errors';

export type { RunOptions, RunHooks, Progress } from './options';

/**
 * Scores every split with every model and builds the report. Cancellation (hooks.signal) stops within a batch and
 * resolves with what was scored so far, marked `partial`.
 */
export async function runScore(opts: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  const started = Date.now();
  const signal = hooks.signal;
  const log = hooks.log ?? (() => undefined);
  const progress = (p: Omit<Progress, 'imagesPerSecond'> & { imagesPerSecond?: number }) =>
    hooks.onProgress?.({ imagesPerSecond: 0, ...p });
  const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`Batch size must be a positive integer (got ${opts.batchSize})`);

  progress({ phase: 'listing', done: 0, total: 0 });
  let plans: SplitPlan[];
  try {
    plans = await planSplits(opts, signal);
  } catch (e) {
    if (e instanceof CancelledError) return cancelledBeforeScoring(opts, started);
    throw e;
  }
  for (const p of plans) {
    if (planSize(p) === 0 && !p.precomputed && p.skipped.length === 0) {
      throw new UserError(`Split "${p.name}" (${p.source}) has no images (looked for .png, .jpg, .jpeg, .webp, .bmp, .gif, .tif, .tiff)`);
    }
  }

  const precomputed = plans.filter((p) => p.precomputed);
  if (precomputed.length) {
    if (opts.models.length) throw new UserError('Precomputed splits (folders with logits.npy) cannot be mixed with --model; give one or the other');
    if (precomputed.length !== plans.filter((p) => !p.noise).length) throw new UserError('Every split must be precomputed (logits.npy) when one is');
    const data = await loadPrecomputed(plans, opts.precomputedName ?? 'precomputed', opts.seed ?? DEFAULTS.seed);
    return buildReport(data, opts, { started, partial: false, log });
  }
  if (opts.models.length === 0) throw new UserError('No model given (--model M.onnx), and the ID folder holds no logits.npy');

  progress({ phase: 'loading', done: 0, total: 0 });
  const modelPlans = await Promise.all(opts.models.map((m) => inspectModel(path.resolve(m), opts.preprocess ?? {})));
  const names = new Set<string>();
  for (const m of modelPlans) {
    if (names.has(m.name)) throw new UserError(`Two models are named "${m.name}"; rename one file`);
    names.add(m.name);
  }
  const providers = opts.executionProviders ?? [...DEFAULTS.executionProviders];
  const models: LoadedModel[] = [];
  try {
    // Models share the cores: each session gets a share of them so parallel workers don't oversubscribe.
    const threads = Math.max(1, Math.floor(require('node:os').availableParallelism() / modelPlans.length));
    await Promise.all(modelPlans.map(async (plan) => {
      const worker = new ModelWorker();
      models.push({ plan, worker, provider: 'cpu' });
      const outputs = [plan.logitsOutput, ...(plan.featuresOutput ? [plan.featuresOutput] : [])];
      let loaded;
      try {
        loaded = await worker.load(plan.path, providers, outputs, modelPlans.length > 1 ? threads : undefined);
      } catch (e) {
        throw new UserError(`Cannot load model ${path.basename(plan.path)}: ${(e as Error).message}`);
      }
      models.find((m) => m.plan === plan)!.provider = loaded.provider;
      for (const f of loaded.fallbacks) {
        const msg = `${plan.name}: execution provider ${f}; fell back to ${loaded.provider}`;
        plan.warnings.push(msg);
        log('warn', msg);
      }
    }));

    const features = new FeatureScoring(plans.some((p) => p.role === 'fit'), opts.seed ?? DEFAULTS.seed);
    const total = plans.reduce((a, p) => a + planSize(p), 0);
    const ctx = {
      models,
      batchSize,
      decodeConcurrency: opts.decodeConcurrency ?? DEFAULTS.decodeConcurrency,
      signal,
      onProgress: hooks.onProgress,
      log,
      progress: { done: 0, total, started: Date.now() },
      onFeatures: features.onBatch.bind(features),
    };
    const outputs: SplitOutputs[] = [];
    let partial = false;
    for (const plan of plans) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      if (plan.role === 'fit' && !models.some((m) => m.plan.featuresOutput)) {
        log('warn', `--fit ${plan.source}: no model has a "features" output; feature-based scores skipped`);
        continue;
      }
      const out = await collectSplit(plan, ctx);
      if (out.paths.length === 0 && out.skipped.length > 0 && !signal?.aborted) {
        throw new UserError(`Split "${plan.name}" (${plan.source}): none of its ${out.skipped.length} files could be read (first: ${out.skipped[0].path}: ${out.skipped[0].reason})`);
      }
      if (plan.role === 'fit') features.finishFit(models);
      else outputs.push(out);
      if (out.notReached > 0 || signal?.aborted) {
        partial = true;
        break;
      }
    }
    progress({ phase: 'analysis', done: ctx.progress.done, total: ctx.progress.total });
    const data: RunData = {
      models: models.map((m) => ({
        plan: m.plan,
        provider: m.provider,
        outputKind: m.outputKind ?? 'logits',
      })),
      splits: outputs,
      unreached: plans.filter((p) => !outputs.some((o) => o.plan === p) && p.role !== 'fit'),
      features,
    };
    const report = buildReport(data, opts, { started, partial, log });
    progress({ phase: 'done', done: ctx.progress.done, total: ctx.progress.total });
    return report;
  } finally {
    for (const m of models) m.worker.close();
  }
}

function cancelledBeforeScoring(opts: RunOptions, started: number): Report {
  return buildReport({ models: [], splits: [], unreached: [], features: undefined }, opts, { started, partial: true, log: () => undefined });
}
