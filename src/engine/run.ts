import type { Report } from './report/types';
import { DEFAULTS, defaultDecodeThreads, type Progress, type RunHooks, type RunOptions } from './options';
import { planSplits, planSize, type SplitPlan } from './run/plan';
import { collectSplit, type LoadedModel, type SplitOutputs } from './run/collect';
import { loadPrecomputed } from './run/precomputed';
import { loadModels } from './run/load-models';
import { resolveClasses } from './run/classes';
import { FeatureScoring } from './analysis/feature-scoring';
import { checkParams, fitNeeded, methodChoice } from './ood/choice';
import { buildReport, type RunData } from './analysis/build-report';
import { UserError, CancelledError } from './util/errors';
import { DecodePool } from './image/decode-pool';
import { trackThreads } from './inference/live-threads';
import { resolveProviders } from './inference/providers';
import { needsNormalizationCheck, normalizationCheck, normalizationWarning } from './run/normalization-check';

export type { RunOptions, RunHooks, Progress } from './options';

/**
 * Scores every split with every model and builds the report. Cancellation (hooks.signal) stops within a batch and
 * resolves with what was scored so far, marked `partial`.
 */
export async function runScore(opts: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  const started = Date.now();
  const log = hooks.log ?? (() => undefined);
  const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`Batch size must be a positive integer (got ${opts.batchSize})`);
  const decodeThreads = opts.decodeThreads ?? defaultDecodeThreads();
  if (!Number.isInteger(decodeThreads) || decodeThreads < 1) throw new UserError(`Decode threads must be a positive integer (got ${opts.decodeThreads})`);

  if (opts.params) checkParams(opts.params);
  const badAlpha = (opts.conformalAlpha ?? []).find((a) => !(a > 0 && a < 1));
  if (badAlpha !== undefined) throw new UserError(`The conformal α must lie in (0, 1) (got ${badAlpha})`);
  if (opts.shaping && !['react', 'ash', 'scale'].includes(opts.shaping)) throw new UserError(`shaping must be react, ash or scale (got "${opts.shaping}")`);
  if (hooks.signal?.aborted) return cancelledBeforeScoring(opts, started);

  const providers = resolveProviders(opts.executionProviders ?? DEFAULTS.executionProviders);
  // Models load in their workers while the folders are listed. Until the load settles it may still start threads.
  const loading = opts.models.length ? loadModels(opts.models, providers, opts.preprocess ?? {}, opts.preprocessDefaults ?? {}, { batchSize, decodeThreads }, log) : null;
  if (loading) trackThreads(loading.catch(() => undefined));
  // Decoding threads start while the folders are listed, too.
  const pool = opts.models.length ? new DecodePool(decodeThreads) : null;
  try {
    return await scoreWith(opts, hooks, { started, batchSize, log, loading, pool });
  } finally {
    pool?.close();
  }
}

async function scoreWith(
  opts: RunOptions,
  hooks: RunHooks,
  run: { started: number; batchSize: number; log: NonNullable<RunHooks['log']>; loading: Promise<LoadedModel[]> | null; pool: DecodePool | null },
): Promise<Report> {
  const { started, batchSize, log, loading, pool } = run;
  const signal = hooks.signal;
  const progress = (p: Omit<Progress, 'imagesPerSecond'> & { imagesPerSecond?: number }) =>
    hooks.onProgress?.({ imagesPerSecond: 0, ...p });
  progress({ phase: 'listing', done: 0, total: 0 });
  let plans: SplitPlan[];
  try {
    plans = await planSplits(opts, signal);
    for (const p of plans) {
      if (planSize(p) === 0 && !p.precomputed && p.skipped.length === 0) {
        throw new UserError(`Split "${p.name}" (${p.source}) has no images (looked for .png, .jpg, .jpeg, .webp, .bmp, .gif, .tif, .tiff)`);
      }
    }
  } catch (e) {
    loading?.then((ms) => ms.forEach((m) => m.worker.close()), () => undefined);
    if (e instanceof CancelledError) return cancelledBeforeScoring(opts, started);
    throw e;
  }

  const precomputed = plans.filter((p) => p.precomputed);
  if (precomputed.length) {
    if (loading) {
      loading.then((ms) => ms.forEach((m) => m.worker.close()), () => undefined);
      throw new UserError('Precomputed splits (folders with logits.npy) cannot be mixed with --model; give one or the other');
    }
    if (precomputed.length !== plans.filter((p) => !p.noise).length) throw new UserError('Every split must be precomputed (logits.npy) when one is');
    const data = await loadPrecomputed(plans, opts.precomputedName ?? 'precomputed', opts);
    try {
      return buildReport(data, opts, { started, partial: false, log });
    } finally {
      data.features?.close();
    }
  }
  if (!loading || !pool) throw new UserError('No model given (--model M.onnx), and the ID folder holds no logits.npy');

  progress({ phase: 'loading', done: 0, total: 0 });
  const models = await loading;
  let features: FeatureScoring | undefined;
  try {
    features = new FeatureScoring(plans.some((p) => p.role === 'fit'), plans.some((p) => p.role === 'calib'), methodChoice(opts));
    const idPlan = plans.find((p) => p.role === 'id')!;
    const classes = new Map(models.map((m) => [m.plan.name, resolveClasses(m.plan, idPlan, m.plan.numClasses ?? m.plan.classes?.length ?? idPlan.classes.length).classes]));
    features.classesOf = (name) => classes.get(name) ?? [];
    const scoring = features;
    for (const m of models) {
      if (!needsNormalizationCheck(m.plan) || signal?.aborted) continue;
      m.normalizationCheck = (await normalizationCheck(m, idPlan, classes.get(m.plan.name) ?? [], signal)) ?? undefined;
      const warning = m.normalizationCheck && normalizationWarning(m.plan.name, m.normalizationCheck);
      if (warning) m.plan.warnings.push(warning);
    }
    const total = plans.reduce((a, p) => a + planSize(p), 0);
    const ctx = {
      models,
      batchSize,
      decodePool: pool,
      decodeConcurrency: opts.decodeConcurrency ?? DEFAULTS.decodeConcurrency,
      signal,
      onProgress: hooks.onProgress,
      log,
      progress: { done: 0, total, started: Date.now() },
      onFeatures: scoring.onBatch.bind(scoring),
    };
    const outputs: SplitOutputs[] = [];
    let partial = false;
    for (const plan of plans) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      if (plan.role === 'fit' && !fitNeeded(opts, models.some((m) => m.plan.featuresOutput))) {
        log('warn', `--fit ${plan.source}: no method asked for uses it (without a feature tensor only logit methods can; name one with --features-node)`);
        continue;
      }
      const out = await collectSplit(plan, ctx);
      if (out.paths.length === 0 && out.skipped.length > 0 && !signal?.aborted) {
        throw new UserError(`Split "${plan.name}" (${plan.source}): none of its ${out.skipped.length} files could be read (first: ${out.skipped[0].path}: ${out.skipped[0].reason})`);
      }
      if (plan.role === 'fit') await features.finishFit(models);
      else outputs.push(out);
      if (out.notReached > 0 || signal?.aborted) {
        partial = true;
        break;
      }
    }
    progress({ phase: 'analysis', done: ctx.progress.done, total: ctx.progress.total });
    await features.settled();
    const data: RunData = {
      models: models.map((m) => ({
        plan: m.plan,
        provider: m.provider,
        outputKind: m.outputKind ?? 'logits',
        featuresPooled: m.featuresPooled,
        cpuCheck: m.cpuCheck,
        normalizationCheck: m.normalizationCheck,
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
    features?.close();
  }
}

function cancelledBeforeScoring(opts: RunOptions, started: number): Report {
  return buildReport({ models: [], splits: [], unreached: [], features: undefined }, opts, { started, partial: true, log: () => undefined });
}
