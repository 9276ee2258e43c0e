import type { Report } from './report/types';
import { DEFAULTS, defaultDecodeThreads, type Progress, type RunHooks, type RunOptions } from './options';
import { planSplits, planSize, type SplitPlan } from './run/plan';
import { collectSplit, type LoadedModel, type SplitOutputs } from './run/collect';
import { loadPrecomputed } from './run/precomputed';
import { startModels, type StartedModels } from './run/load-models';
import { resolveClasses } from './run/classes';
import { FeatureScoring } from './analysis/feature-scoring';
import { checkParams, fitNeeded, methodChoice } from './ood/choice';
import { buildReport, type RunData } from './analysis/build-report';
import { UserError, CancelledError } from './util/errors';
import { DecodePool } from './image/decode-pool';
import { TensorCache } from './cache/tensor-cache';
import type { PreprocessSpec } from './image/preprocess';
import { trackThreads } from './inference/live-threads';
import { resolveProviders } from './inference/providers';
import { needsNormalizationCheck, normalizationCheck, normalizationWarning } from './run/normalization-check';
import { runAttack } from './attack/generate';
import { ShardRun } from './run/shard';
import type { Shard } from './run/shard-slice';
import { attackRows } from './attack/report';

export type { RunOptions, RunHooks, Progress } from './options';

/**
 * Scores every split with every model and builds the report. Cancellation (hooks.signal) stops within a batch and
 * resolves with what was scored so far, marked `partial`.
 */
export async function runScore(opts: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  return (await scoreOrShard(opts, hooks, null)) as Report;
}

/**
 * `--shard I/N`: scores this shard's slice of every split and writes the shard file instead of a report (see
 * run/shard.ts); `ood-lens merge` builds the report from all of them.
 */
export async function runShard(opts: RunOptions, shard: Shard, file: string, hooks: RunHooks = {}): Promise<{ file: string; rows: number; partial: boolean }> {
  if (!opts.models.length) throw new UserError('--shard needs --model: precomputed splits are merged as they are');
  const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
  const res = await scoreOrShard(opts, hooks, new ShardRun(shard, file, batchSize));
  // A run cancelled before scoring returns its (empty) report: no shard file was written.
  return 'schemaVersion' in res ? { file, rows: 0, partial: true } : res;
}

async function scoreOrShard(opts: RunOptions, hooks: RunHooks, shard: ShardRun | null): Promise<Report | { file: string; rows: number; partial: boolean }> {
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
  const cache = opts.cache && opts.models.length ? new TensorCache(opts.cache, log) : undefined;
  // Models load in their workers while the folders are listed. Until the load settles it may still start threads.
  const cached = cache && ((spec: PreprocessSpec) => cache.holds(spec));
  const loading = opts.models.length ? startModels(opts.models, providers, opts.preprocess ?? {}, opts.preprocessDefaults ?? {}, { batchSize, decodeThreads, cached }, log) : null;
  if (loading) trackThreads(loading.then((s) => s.ready).catch(() => undefined));
  // Decoding threads start while the folders are listed, too.
  const pool = opts.models.length ? new DecodePool(decodeThreads) : null;
  try {
    return await scoreWith(opts, hooks, { started, batchSize, log, loading, pool, shard, cache });
  } finally {
    pool?.close();
  }
}

async function scoreWith(
  opts: RunOptions,
  hooks: RunHooks,
  run: { started: number; batchSize: number; log: NonNullable<RunHooks['log']>; loading: Promise<StartedModels> | null; pool: DecodePool | null; shard: ShardRun | null; cache?: TensorCache },
): Promise<Report | { file: string; rows: number; partial: boolean }> {
  const { started, batchSize, log, loading, pool, shard, cache } = run;
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
    if (loading) closeModels(loading);
    if (e instanceof CancelledError) return cancelledBeforeScoring(opts, started);
    throw e;
  }

  const precomputed = plans.filter((p) => p.precomputed);
  if (precomputed.length) {
    if (loading) {
      closeModels(loading);
      throw new UserError('Precomputed splits (folders with logits.npy) cannot be mixed with --model; give one or the other');
    }
    if (plans.some((p) => p.attack)) throw new UserError('attack:N splits need a model: the search runs it (precomputed logits cannot be attacked)');
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
  // Decoding starts once the models are inspected; the first batch waits for the sessions (CollectContext.ready).
  const { models, ready } = await loading;
  let features: FeatureScoring | undefined;
  try {
    if (plans.some((p) => p.attack) || models.some((m) => needsNormalizationCheck(m.plan))) await ready;
    // A shard only collects: the detectors run once, on the merged outputs.
    features = new FeatureScoring(plans.some((p) => p.role === 'fit'), plans.some((p) => p.role === 'calib'), shard ? { wanted: [] } : methodChoice(opts));
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
    for (const plan of plans) {
      if (plan.attack && !signal?.aborted) await runAttack(plan, models, { ...opts.attack, batchSize, signal, onProgress: hooks.onProgress });
    }
    const total = plans.reduce((a, p) => a + planSize(p), 0);
    const tap = hooks.onFeatures;
    const ctx = {
      models,
      ready,
      batchSize,
      decodePool: pool,
      decodeConcurrency: opts.decodeConcurrency ?? DEFAULTS.decodeConcurrency,
      cache,
      signal,
      onProgress: hooks.onProgress,
      log,
      progress: { done: 0, total, started: Date.now() },
      onFeatures: (m: LoadedModel, split: SplitPlan, f: Float32Array | null, z: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number) => {
        tap?.(m.plan, split, f, z, n, d, folderClass, offset);
        shard?.record(m.plan.name, split, f, n, d, offset);
        // Outliers are only for the tap: no detector sees them.
        return split.role === 'outliers' ? Promise.resolve() : scoring.onBatch(m, split, f, z, n, d, folderClass, offset);
      },
    };
    const outputs: SplitOutputs[] = [];
    let partial = false;
    for (const plan of plans) {
      if (signal?.aborted) {
        partial = true;
        break;
      }
      if (plan.role === 'fit' && !tap && !fitNeeded(opts, models.some((m) => m.plan.featuresOutput))) {
        log('warn', `--fit ${plan.source}: no method asked for uses it (without a feature tensor only logit methods can; name one with --features-node)`);
        continue;
      }
      const out = await collectSplit(shard ? shard.slice(plan) : plan, ctx);
      if (out.paths.length === 0 && out.skipped.length > 0 && !signal?.aborted) {
        throw new UserError(`Split "${plan.name}" (${plan.source}): none of its ${out.skipped.length} files could be read (first: ${out.skipped[0].path}: ${out.skipped[0].reason})`);
      }
      if (plan.role !== 'outliers') shard?.collected(out);
      if (plan.role === 'fit') await features.finishFit(models);
      else if (plan.role !== 'outliers') outputs.push(out);
      if (out.notReached > 0 || signal?.aborted) {
        partial = true;
        break;
      }
    }
    progress({ phase: 'analysis', done: ctx.progress.done, total: ctx.progress.total });
    await features.settled();
    if (shard) return { ...(await shard.write(models, plans, opts, partial)), partial };
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
      unreached: plans.filter((p) => !outputs.some((o) => o.plan === p) && p.role !== 'fit' && p.role !== 'outliers'),
      features,
    };
    const report = buildReport(data, opts, { started, partial, log });
    const attacks = attackRows(report, plans);
    if (attacks.length) report.attack = attacks;
    if (cache) report.cache = { dir: cache.options.dir, ...cache.stats };
    if (cache?.problem) report.warnings.push(cache.problem);
    progress({ phase: 'done', done: ctx.progress.done, total: ctx.progress.total });
    return report;
  } finally {
    for (const m of models) m.worker.close();
    features?.close();
    await cache?.close();
  }
}

/** Closes the workers once their loads settle (a failed load has closed them already). */
function closeModels(loading: Promise<StartedModels>): void {
  loading.then((s) => s.ready.then(() => s.models.forEach((m) => m.worker.close())), () => undefined).catch(() => undefined);
}

function cancelledBeforeScoring(opts: RunOptions, started: number): Report {
  return buildReport({ models: [], splits: [], unreached: [], features: undefined }, opts, { started, partial: true, log: () => undefined });
}
