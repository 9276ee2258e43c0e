import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { cacheOption, parseCli, USAGE, type CliArgs } from './args';
import { finetuneSummary, summary } from './summary';
import { runFinetune } from '../engine/finetune/run-finetune';
import { runScore, runShard } from '../engine/run';
import { mergeShards } from '../engine/run/merge';
import { writeSamplesParquet } from '../engine/report/samples-parquet';
import { runCalibrate } from '../engine/calibrate';
import type { Progress, RunOptions } from '../engine/options';
import { parseConfig } from '../engine/config';
import { evaluateGates, type Gates, type GateResult } from '../engine/gates';
import { writeFileAtomic, writeJsonReport, samplesCsv } from '../engine/report/write';
import { loadHtmlAssets, renderHtmlReport } from '../engine/report/html';
import { galleryThumbnails } from '../engine/report/thumbnails';
import type { Report } from '../engine/report/types';
import { UserError } from '../engine/util/errors';
import { inferenceThreadsStopped } from '../engine/inference/live-threads';

const VERSION = '0.1.0';

/** Report files to write; `samples` is the per-sample table as Parquet (`samplesLogits`: with the logits). */
type Outputs = { json?: string; html?: string; csv?: string; samples?: string; samplesLogits?: boolean };
const packageRoot = path.resolve(__dirname, '..');

function progressBar(quiet: boolean) {
  if (quiet || !process.stderr.isTTY) {
    // Not a terminal (CI logs): a line at every 10% of the scoring instead of a redrawn bar.
    let nextTenth = 1;
    return {
      update(p: Progress) {
        if (quiet || p.phase !== 'scoring' || p.total === 0) return;
        if (nextTenth > 10 || p.done < (nextTenth * p.total) / 10) return;
        process.stderr.write(`ood-lens: scored ${p.done}/${p.total} images (${p.imagesPerSecond.toFixed(0)} img/s)\n`);
        nextTenth = Math.floor((10 * p.done) / p.total) + 1;
      },
      stop() {},
    };
  }
  const bar = new SingleBar({ format: '{phase} |{bar}| {value}/{total} images · {rate} img/s · {split}', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
  let started = false;
  return {
    update(p: Progress) {
      if (p.phase !== 'scoring') return;
      const payload = { phase: p.phase, rate: p.imagesPerSecond.toFixed(0), split: p.split ?? '' };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      }
      bar.setTotal(p.total);
      bar.update(p.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

async function optionsFrom(args: CliArgs): Promise<{ options: RunOptions; gates?: Gates; output: Outputs }> {
  let options: Partial<RunOptions> = {};
  let gates: Gates | undefined;
  let output: Outputs = {};
  if (args.config) {
    const text = await fs.readFile(args.config, 'utf8').catch(() => {
      throw new UserError(`Config file not found: ${args.config}`);
    });
    const parsed = parseConfig(text, args.config);
    if (parsed.issues.length) {
      const first = parsed.issues[0];
      throw new UserError(`${args.config}${first.path ? ` ${first.path}` : ''}: ${first.message}${parsed.issues.length > 1 ? ` (and ${parsed.issues.length - 1} more)` : ''}`);
    }
    options = parsed.options!;
    gates = parsed.gates;
    output = parsed.output ?? {};
  }
  const merged: RunOptions = {
    ...options,
    models: args.models.length ? args.models : options.models ?? [],
    id: args.id ?? options.id ?? '',
    ood: args.ood.length ? args.ood : options.ood,
    holdout: args.holdout ?? options.holdout,
    calib: args.calib ?? options.calib,
    fit: args.fit ?? options.fit,
    batchSize: args.batchSize ?? options.batchSize,
    executionProviders: args.executionProviders ?? options.executionProviders,
    scores: args.scores ?? options.scores,
    params: args.params ?? options.params,
    shaping: args.shaping ?? options.shaping,
    conformalAlpha: args.conformalAlpha ?? options.conformalAlpha,
    keepFraction: args.keepFraction ?? options.keepFraction,
    bootstrap: args.bootstrap ?? options.bootstrap,
    eceBins: args.eceBins ?? options.eceBins,
    ensemble: args.ensemble ?? options.ensemble,
    preprocess: { ...(options.preprocess ?? {}), ...args.preprocess },
    cache: cacheOption(args, options.cache),
    seed: args.seed ?? options.seed,
    attack: args.attack ?? options.attack,
  };
  if (!merged.id) throw new UserError('No ID folder: give --id DIR (or "id" in --config)');
  return { options: merged, gates, output: outputsOf(args, output) };
}

function outputsOf(args: CliArgs, config: Outputs = {}): Outputs {
  return { json: args.json ?? config.json, html: args.html ?? config.html, csv: args.csv ?? config.csv, samples: args.samples ?? config.samples, samplesLogits: args.samplesLogits };
}

async function writeOutputs(report: Report, out: Outputs, gates: GateResult[], origin: string): Promise<void> {
  if (out.samples) {
    await writeSamplesParquet(report, out.samples, { logits: out.samplesLogits });
    // The JSON then points to the table instead of inlining one row per sample.
    if (out.json) report = { ...report, samples: [], samplesFile: path.relative(path.dirname(path.resolve(out.json)), path.resolve(out.samples)).split(path.sep).join('/') };
  }
  if (out.json) await writeJsonReport(report, out.json);
  if (out.csv) await writeFileAtomic(out.csv, samplesCsv(report));
  // Relative sample paths are relative to where the run started.
  if (out.html) await writeFileAtomic(out.html, renderHtmlReport(report, loadHtmlAssets(packageRoot), { gates, origin, thumbnails: await galleryThumbnails(report, process.cwd()) }));
  for (const [kind, file] of Object.entries(out)) if (typeof file === 'string') process.stderr.write(`ood-lens: wrote ${kind.toUpperCase()} report ${file}\n`);
}

/** `ood-lens finetune`: the energy-bounded last layer, its before/after table, and the fine-tuned ONNX. */
async function finetune(args: CliArgs, hooks: Parameters<typeof runFinetune>[1], bar: { stop(): void }): Promise<number> {
  if (!args.models[0] || !args.fit || !args.outliers) throw new UserError('finetune needs --model M.onnx, --fit DIR and --outliers DIR|noise:N:SEED');
  const res = await runFinetune({ model: args.models[0], fit: args.fit, outliers: args.outliers, id: args.id, ood: args.ood, calib: args.calib, out: args.out, ...args.finetune,
    run: { batchSize: args.batchSize, executionProviders: args.executionProviders, preprocess: args.preprocess, eceBins: args.eceBins, keepFraction: args.keepFraction, scores: args.scores, seed: args.seed } }, hooks);
  bar.stop();
  process.stdout.write(summary(res.report) + '\n');
  if (res.report.finetune) process.stdout.write(`\n${finetuneSummary(res.report.finetune)}\n`);
  if (res.outPath) process.stdout.write(`Fine-tuned model written to ${res.outPath}\n`);
  await writeOutputs(res.report, outputsOf(args), [], path.basename(args.models[0]));
  return res.report.partial ? 130 : 0;
}

/** `ood-lens merge SHARD...`: the single run's report from the shard files; gates from --config when given. */
async function merge(args: CliArgs, hooks: { signal: AbortSignal; log(level: string, m: string): void }, bar: { stop(): void }): Promise<number> {
  const config = args.config ? parseConfig(await fs.readFile(args.config, 'utf8').catch(() => {
    throw new UserError(`Config file not found: ${args.config}`);
  }), args.config) : undefined;
  const report = await mergeShards(args.shardFiles, hooks);
  bar.stop();
  const gateResults = config?.gates ? evaluateGates(report, config.gates) : [];
  process.stdout.write(summary(report, gateResults) + '\n');
  await writeOutputs(report, outputsOf(args, config?.output), gateResults, `${args.shardFiles.length} shards`);
  return gateResults.some((g) => !g.passed) ? 2 : 0;
}

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.command === 'version') {
    process.stdout.write(`ood-lens ${VERSION}\n`);
    return 0;
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) quitAtOnce();
    process.stderr.write('\nood-lens: cancelling (Ctrl-C again to quit at once); keeping what was scored\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = progressBar(args.quiet);
  const hooks = {
    signal: controller.signal,
    onProgress: (p: Progress) => bar.update(p),
    log: (level: string, m: string) => {
      if (level === 'error') process.stderr.write(`ood-lens: ${m}\n`);
    },
  };
  try {
    if (args.command === 'calibrate') {
      if (!args.models[0] || !args.calib) throw new UserError('calibrate needs --model M.onnx and --calib DIR');
      const res = await runCalibrate({ model: args.models[0], calib: args.calib, id: args.id, out: args.out, calibrator: args.calibrator, predictionSet: args.predictionSet,
        run: { batchSize: args.batchSize, executionProviders: args.executionProviders, preprocess: args.preprocess, eceBins: args.eceBins, conformalAlpha: args.conformalAlpha, cache: cacheOption(args, undefined) } }, hooks);
      bar.stop();
      process.stdout.write(summary(res.report) + '\n');
      if (res.outPath) process.stdout.write(`Calibrated model (${res.calibrator === 'temperature_scaling' ? `logits / ${res.temperature.toFixed(6)}` : res.calibrator}${res.predictionSet ? `, prediction_set at α = ${res.predictionSet.alpha}, q̂ = ${res.predictionSet.qhat.toFixed(6)}` : ''}) written to ${res.outPath}\n`);
      await writeOutputs(res.report, { json: args.json, html: args.html, csv: args.csv }, [], path.basename(args.models[0]));
      return res.report.partial ? 130 : 0;
    }
    if (args.command === 'merge') return await merge(args, hooks, bar);
    if (args.command === 'finetune') return await finetune(args, hooks, bar);
    let config = args.config;
    let outDefaults: Outputs = {};
    if (args.command === 'demo') {
      config = path.join(packageRoot, 'examples', 'demo', 'oodlens.json');
      const dir = path.resolve(args.out ?? 'out/demo');
      outDefaults = { json: path.join(dir, 'report.json'), html: path.join(dir, 'report.html'), csv: path.join(dir, 'samples.csv') };
    }
    const { options, gates, output } = await optionsFrom({ ...args, config });
    if (args.shard) {
      const res = await runShard(options, args.shard, args.shardOut!, hooks);
      bar.stop();
      if (res.partial) process.stderr.write(`ood-lens: cancelled; the shard file${res.rows ? ` ${res.file} is marked partial and merge will refuse it` : ' was not written'}\n`);
      else process.stderr.write(`ood-lens: wrote shard ${args.shard.index}/${args.shard.count} (${res.rows} samples) to ${res.file}\n`);
      return res.partial ? 130 : 0;
    }
    const report = await runScore(options, hooks);
    bar.stop();
    const gateResults = gates ? evaluateGates(report, gates) : [];
    process.stdout.write(summary(report, gateResults) + '\n');
    await writeOutputs(report, { ...output, json: output.json ?? outDefaults.json, html: output.html ?? outDefaults.html, csv: output.csv ?? outDefaults.csv }, gateResults, path.basename(config ?? options.id));
    if (report.partial) return 130;
    return gateResults.some((g) => !g.passed) ? 2 : 0;
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
}

/**
 * A second Ctrl-C: dies by the signal itself (exit status 130 in a shell). process.exit would tear down inference
 * threads that may be inside onnxruntime, which aborts the process; a signal's default action runs no teardown.
 */
function quitAtOnce(): void {
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
}

/** Exits once no inference thread is inside onnxruntime (see live-threads.ts). */
async function exit(code: number): Promise<never> {
  await inferenceThreadsStopped();
  process.exit(code);
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ood-lens: ${e instanceof UserError ? msg : `unexpected error: ${msg.split('\n')[0]}`}\n`);
    if (process.env.OOD_LENS_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return exit(1);
  },
);
