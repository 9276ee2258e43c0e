import type { CalibratorRow, EnsembleSummary, CalibrationRow, CurveSet, HistogramSet, ModelInfo, OodRow, ProjectionSet, Report, SampleRow, SplitInfo, SplitRole, ThresholdRow } from '../report/types';
import { REPORT_SCHEMA_VERSION } from '../report/types';
import type { ModelPlan } from '../model/inspect';
import type { RunOptions } from '../options';
import { DEFAULTS } from '../options';
import type { SplitOutputs } from '../run/collect';
import type { SplitPlan } from '../run/plan';
import { labelNote, labelTable, mapLabels, resolveClasses } from '../run/classes';
import { computeLogitScores, predictions, LOGIT_SCORES, type LogitScore } from '../scores/logit-scores';
import { computeEnsembleScores, klRuleFlags } from '../scores/ensemble-scores';
import { bootstrapCI, curvesOfSorted, oodMetricsOfSorted, sortScores, OOD_METRIC_NAMES, type SortedScores } from '../metrics/ood-metrics';
import { flaggedFraction, scaledEntropyOfSorted, thresholdOfSorted } from '../metrics/threshold';
import { calibrationReport } from './calibration-report';
import { histogram } from './histograms';
import { pcaProjection } from './projection';
import type { FeatureScoring } from './feature-scoring';
import { CONVENTIONS } from './conventions';
import { sampleRows } from '../report/sample-rows';
import { UserError } from '../util/errors';
import { METHOD_NAMES, METHODS } from '../ood/registry';
import { conformalRows, selectiveRows } from './trust-report';
import { configuredThreshold } from '../operating-point';

export interface RunData {
  models: { plan: ModelPlan; provider: string; outputKind: 'logits' | 'probabilities'; featuresPooled?: boolean; cpuCheck?: ModelInfo['cpuCheck']; normalizationCheck?: ModelInfo['normalizationCheck'] }[];
  /** Scored splits except the fit split, in run order (ID first). */
  splits: SplitOutputs[];
  /** Planned splits the run never reached (cancelled). */
  unreached: SplitPlan[];
  features?: FeatureScoring;
}

/** Per scored model (a member or the ensemble): everything the report rows are made of, per split. */
export interface Scored {
  name: string;
  classes: string[];
  k: number;
  perSplit: Map<string, { logits: Float32Array; scores: Record<string, Float64Array>; prediction: Int32Array; confidence: Float64Array; labels: Int32Array | null }>;
}

const VERSION = '0.1.0';

export function buildReport(data: RunData, opts: RunOptions, ctx: { started: number; partial: boolean; log(level: 'info' | 'warn' | 'error', m: string): void }): Report {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    ctx.log('warn', m);
  };
  const idOut = data.splits.find((s) => s.plan.role === 'id');
  const oodOuts = data.splits.filter((s) => s.plan.role === 'ood');
  const calibOut = data.splits.find((s) => s.plan.role === 'calib');
  const wanted = (opts.scores?.length ? opts.scores : [...LOGIT_SCORES]).filter((s): s is LogitScore => (LOGIT_SCORES as readonly string[]).includes(s));
  const unknownScores = (opts.scores ?? []).filter((s) => !(LOGIT_SCORES as readonly string[]).includes(s) && !METHOD_NAMES.includes(s));
  if (unknownScores.length) throw new UserError(`Unknown score(s): ${unknownScores.join(', ')} (known: ${[...LOGIT_SCORES, ...METHOD_NAMES].join(', ')})`);

  const scored: Scored[] = [];
  const modelInfos: ModelInfo[] = [];
  for (const m of data.models) {
    const k = idOut?.perModel.get(m.plan.name)?.numClasses || m.plan.numClasses || 0;
    const { classes, warning } = idOut ? resolveClasses(m.plan, idOut.plan, k) : { classes: m.plan.classes ?? [], warning: undefined };
    if (warning) warn(warning);
    if (k === 1) warn(`${m.plan.name} has a single output class: softmax scores are constant and calibration is not computed; use max_logit or energy`);
    const s: Scored = { name: m.plan.name, classes, k, perSplit: new Map() };
    for (const split of data.splits) {
      const out = split.perModel.get(m.plan.name);
      if (!out) continue;
      const n = split.paths.length;
      const scores = computeLogitScores(out.logits, n, k, wanted);
      Object.assign(scores, data.features?.scoresFor(m.plan.name, split.plan.name, n) ?? {});
      const { prediction, confidence } = predictions(out.logits, n, k);
      const labelled = split.plan.role === 'id' || split.plan.role === 'calib';
      const labels = labelled ? mapLabels(classes, split.plan, split.folderClass, m.plan.labelMap) : null;
      const note = labelled ? labelNote(m.plan.name, split.plan.name, split.plan.classes, classes, labelTable(classes, split.plan.classes, m.plan.labelMap, split.plan.classIndices)) : undefined;
      if (note) warn(note);
      s.perSplit.set(split.plan.name, { logits: out.logits, scores, prediction, confidence, labels });
      let bad = 0;
      for (let i = 0; i < n; i++) if (prediction[i] < 0) bad++;
      if (bad) warn(`${m.plan.name} on "${split.plan.name}": ${bad} of ${n} samples have NaN or infinite outputs; they are left out of every metric`);
      if (labels) {
        let outside = 0;
        for (let i = 0; i < n; i++) if (split.folderClass[i] >= 0 && labels[i] < 0) outside++;
        if (outside && !warning) warn(`"${split.plan.name}": ${outside} samples are in class folders that are not classes of ${m.plan.name}; they are left out of accuracy and calibration`);
      }
    }
    scored.push(s);
    modelInfos.push({
      name: m.plan.name,
      path: m.plan.path,
      executionProvider: m.provider,
      classes,
      input: { name: m.plan.inputName, shape: m.plan.inputShape, layout: m.plan.spec.layout, channels: m.plan.spec.channels, height: m.plan.spec.height, width: m.plan.spec.width },
      outputs: modelOutputs(m.plan, m.featuresPooled),
      ...(m.plan.preprocess ? { preprocess: m.plan.preprocess, inputType: m.plan.inputType, fixedBatch: m.plan.fixedBatch } : {}),
      ...(m.cpuCheck ? { cpuCheck: m.cpuCheck } : {}),
      ...(m.normalizationCheck ? { normalizationCheck: m.normalizationCheck } : {}),
      outputKind: m.outputKind,
      warnings: [...m.plan.warnings, ...(m.outputKind === 'probabilities' ? ['outputs are probabilities; ln p used as logits'] : [])],
    });
    for (const w of m.plan.warnings) if (!warnings.includes(w)) warnings.push(w);
  }

  const ensemble = buildEnsemble(ensembleMembers(scored, opts.ensemble), data, warn);
  const allScored = ensemble ? [...scored, ensemble.scored] : scored;

  const ood: OodRow[] = [];
  const curves: CurveSet[] = [];
  const keep = opts.keepFraction ?? DEFAULTS.keepFraction;
  const thresholds: ThresholdRow[] = [];
  const histograms: HistogramSet[] = [];
  const fitOn = calibOut ?? idOut;
  const matched = new Set<string>();
  for (const s of allScored) {
    const id = idOut && s.perSplit.get(idOut.plan.name);
    const fitted = fitOn && s.perSplit.get(fitOn.plan.name);
    const oodSplits: { name: string; v: NonNullable<typeof id>; ood: OodRow[]; curves: CurveSet[] }[] = [];
    for (const o of id ? oodOuts : []) {
      const v = s.perSplit.get(o.plan.name);
      if (v) oodSplits.push({ name: o.plan.name, v, ood: [], curves: [] });
    }
    const names = new Set([...(id ? Object.keys(id.scores) : []), ...(fitted ? Object.keys(fitted.scores) : [])]);
    for (const score of names) {
      // Metrics, curves and threshold of a score read one sorted copy per split, made once and dropped with the
      // score: sorting is most of their cost, and the copies are the analysis's largest temporary memory.
      const sorted = new Map<Float64Array, SortedScores>();
      const sortedOf = (v: Float64Array) => {
        let r = sorted.get(v);
        if (!r) sorted.set(v, (r = sortScores(v)));
        return r;
      };
      for (const o of id && score in id.scores ? oodSplits : []) {
        const a = sortedOf(id!.scores[score]);
        const b = sortedOf(o.v.scores[score]);
        const row: OodRow = { model: s.name, split: o.name, score, ...oodMetricsOfSorted(a, b) };
        if (opts.bootstrap) row.ci = bootstrapCI(id!.scores[score], o.v.scores[score], OOD_METRIC_NAMES, { resamples: opts.bootstrap, seed: opts.seed ?? DEFAULTS.seed });
        o.ood.push(row);
        o.curves.push({ model: s.name, split: o.name, score, ...curvesOfSorted(a.sorted, b.sorted) });
      }
      if (!fitted || !(score in fitted.scores)) continue;
      const fit = sortedOf(fitted.scores[score]).sorted;
      const configured = configuredThreshold(opts.thresholds, s.name, score);
      const t = configured ?? thresholdOfSorted(fit, keep);
      const flagged: Record<string, number> = {};
      const bySplit = new Map<string, Float64Array>();
      for (const [split, v] of s.perSplit) {
        flagged[split] = flaggedFraction(v.scores[score], t);
        bySplit.set(split, v.scores[score]);
      }
      // A threshold set in the config overrides the keepFraction rule; the row says so and what it keeps.
      const row: ThresholdRow = configured === undefined
        ? { model: s.name, score, fittedOn: fitOn!.plan.name, keepFraction: keep, threshold: t, flagged }
        : { model: s.name, score, fittedOn: fitOn!.plan.name, keepFraction: 1 - flagged[fitOn!.plan.name], threshold: t, flagged, source: 'config' };
      if (configured !== undefined) matched.add(`${s.name}\u0000${score}`);
      if (score === 'entropy') {
        const e = scaledEntropyOfSorted(fit, keep);
        const scaled = configured === undefined ? e.scaled : e.max > e.min ? (t - e.min) / (e.max - e.min) : 0;
        row.minMaxScaled = { threshold: scaled, min: e.min, max: e.max };
      }
      thresholds.push(row);
      histograms.push(histogram(s.name, score, bySplit, opts.histogramBins ?? DEFAULTS.histogramBins, Number.isFinite(t) ? t : null));
    }
    // Rows by split, then score, as the report has always listed them.
    for (const o of oodSplits) {
      ood.push(...o.ood);
      curves.push(...o.curves);
    }
  }

  for (const c of opts.thresholds ?? []) {
    if (!matched.has(`${c.model}\u0000${c.score}`)) warn(`thresholds: this run has no ${c.model} / ${c.score} to set the threshold of; that entry is ignored`);
  }

  const calibration: CalibrationRow[] = [];
  const calibrators: CalibratorRow[] = [];
  for (const s of allScored) {
    if (!idOut) continue;
    const res = calibrationReport(s, idOut.plan.name, calibOut?.plan.name, opts.eceBins ?? DEFAULTS.eceBins, data.features && ((m, sp, n) => data.features!.fullFeatures(m, sp, n)), warn, opts.conformalAlpha ?? DEFAULTS.conformalAlpha);
    if (res) {
      calibration.push(res.row);
      calibrators.push(...res.calibrators);
    }
  }

  const projections: ProjectionSet[] = [];
  if (data.features && idOut) {
    for (const m of data.models) {
      const samples = new Map<string, { features: Float64Array; index: number[]; d: number }>();
      for (const split of data.splits) {
        const smp = data.features.sample(m.plan.name, split.plan.name);
        if (smp) samples.set(split.plan.name, smp);
      }
      const p = pcaProjection(m.plan.name, idOut.plan.name, samples);
      if (p) projections.push(p);
    }
    for (const note of data.features.notes) warn(note);
  }

  // Outlier splits (fine-tuning) never reach RunData: every role here is a report's.
  const splits: SplitInfo[] = data.splits.map((o) => ({
    name: o.plan.name, role: o.plan.role as SplitRole, source: o.plan.source, count: o.paths.length, skipped: o.skipped, classes: o.plan.classes,
  }));
  for (const p of data.unreached) splits.push({ name: p.name, role: p.role as SplitRole, source: p.source, count: 0, skipped: p.skipped, classes: p.classes });
  for (const o of data.splits) if (o.skipped.length) warn(`"${o.plan.name}": ${o.skipped.length} file(s) skipped (see splits[].skipped for reasons)`);
  if (ctx.partial) warn('The run was cancelled: every number covers only the samples scored before that');

  const samples: SampleRow[] = [];
  for (const split of data.splits) {
    const first = allScored[0]?.perSplit.get(split.plan.name);
    const models = allScored.flatMap((s) => {
      const v = s.perSplit.get(split.plan.name);
      return v ? [{ name: s.name, prediction: v.prediction, scores: v.scores, logits: v.logits, k: s.k }] : [];
    });
    for (const row of sampleRows({ split: split.plan.name, paths: split.paths, labels: first?.labels ?? null, models })) samples.push(row);
  }

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'ood-lens', version: VERSION },
    createdAt: new Date().toISOString(),
    durationMs: Date.now() - ctx.started,
    partial: ctx.partial,
    conventions: CONVENTIONS,
    settings: {
      scores: wanted,
      scoreParameters: {
        energy: { T: 1 }, gen: { gamma: 0.1, M: 'min(100, C)' }, odin_t: { T: 1000, inputPerturbation: false },
        ...Object.fromEntries(METHODS.map((m) => [m.name, { ...m.defaults, ...(opts.params?.[m.name] ?? {}) }])),
      },
      batchSize: opts.batchSize ?? DEFAULTS.batchSize,
      executionProviders: opts.executionProviders ?? DEFAULTS.executionProviders,
      eceBins: opts.eceBins ?? DEFAULTS.eceBins,
      histogramBins: opts.histogramBins ?? DEFAULTS.histogramBins,
      keepFraction: keep,
      ...(opts.thresholds?.length ? { thresholds: opts.thresholds } : {}),
      bootstrap: opts.bootstrap ?? 0,
      seed: opts.seed ?? DEFAULTS.seed,
    },
    models: modelInfos,
    splits,
    samples,
    ood,
    calibration,
    curves,
    histograms,
    thresholds,
    projections,
    warnings,
    ...(ensemble ? { ensemble: ensemble.summary } : {}),
    ...(calibrators.length ? { calibrators } : {}),
    selective: selectiveRows(allScored),
    conformal: conformalRows(allScored, calibOut?.plan.name, opts.conformalAlpha ?? DEFAULTS.conformalAlpha),
  };
}

function ensembleMembers(scored: Scored[], choice: RunOptions['ensemble']): Scored[] {
  if (choice === false) return [];
  if (Array.isArray(choice)) {
    const missing = choice.filter((n) => !scored.some((s) => s.name === n));
    if (missing.length) throw new UserError(`ensemble: no model named ${missing.map((m) => `"${m}"`).join(', ')} (models: ${scored.map((s) => s.name).join(', ')})`);
    return scored.filter((s) => choice.includes(s.name));
  }
  return scored;
}

/** With two or more members of the same classes, the ensemble's scores are added as the model "ensemble". */
function buildEnsemble(members: Scored[], data: RunData, warn: (m: string) => void) {
  if (members.length < 2) return null;
  const k = members[0].k;
  if (members.some((m) => m.k !== k || m.classes.join('\u0000') !== members[0].classes.join('\u0000'))) {
    warn('Models have different classes: compared side by side, no ensemble scores');
    return null;
  }
  const scored: Scored = { name: 'ensemble', classes: members[0].classes, k, perSplit: new Map() };
  const flags: EnsembleSummary['klRule'] = [];
  let idKl: Float64Array | null = null;
  for (const split of data.splits) {
    const per = members.map((m) => m.perSplit.get(split.plan.name));
    if (per.some((p) => !p)) continue;
    const n = split.paths.length;
    const e = computeEnsembleScores(per.map((p) => p!.logits), n, k);
    scored.perSplit.set(split.plan.name, { logits: e.meanLogProbs, scores: e.scores, prediction: e.prediction, confidence: e.confidence, labels: per[0]!.labels });
    if (split.plan.role === 'id') idKl = e.scores.kl_mean;
  }
  if (idKl) {
    for (const split of data.splits) {
      const v = scored.perSplit.get(split.plan.name);
      if (!v) continue;
      flags.push({ split: split.plan.name, statistic: 'kl_mean', factor: 10, ...klRuleFlags(idKl, v.scores.kl_mean, v.scores.disagreement) });
    }
  }
  const summary: EnsembleSummary = { members: members.map((m) => m.name), klRule: flags };
  return { scored, summary };
}

function modelOutputs(plan: ModelPlan, pooled: boolean | undefined): ModelInfo['outputs'] {
  const g = plan.graph;
  return {
    logits: plan.logitsOutput,
    ...(g.preSoftmaxOf ? { logitsOf: g.preSoftmaxOf } : {}),
    ...(plan.featuresOutput ? { features: plan.featuresOutput, featuresSource: g.features?.source, ...(pooled ? { featuresPooled: true } : {}) } : {}),
    lastLayer: g.finalLinear,
  };
}
