import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { parseCli, USAGE, type CliArgs } from './args';
import { summary } from './summary';
import { runScore } from '../engine/run';
import { runCalibrate } from '../engine/calibrate';
import type { Progress, RunOptions } from '../engine/options';
import { parseConfig } from '../engine/config';
import { evaluateGates, type Gates, type GateResult } from '../engine/gates';
import { writeFileAtomic, writeJsonReport, samplesCsv } from '../engine/report/write';
import { loadHtmlAssets, renderHtmlReport } from '../engine/report/html';
import type { Report } from '../engine/report/types';
import { UserError } from '../engine/util/errors';
import { inferenceThreadsStopped } from '../engine/inference/live-threads';

const VERSION = '0.1.0';
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

async function optionsFrom(args: CliArgs): Promise<{ options: RunOptions; gates?: Gates; output: { json?: string; html?: string; csv?: string } }> {
  let options: Partial<RunOptions> = {};
  let gates: Gates | undefined;
  let output: { json?: string; html?: string; csv?: string } = {};
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
  };
  if (!merged.id) throw new UserError('No ID folder: give --id DIR (or "id" in --config)');
  return { options: merged, gates, output: { json: args.json ?? output.json, html: args.html ?? output.html, csv: args.csv ?? output.csv } };
}

async function writeOutputs(report: Report, out: { json?: string; html?: string; csv?: string }, gates: GateResult[], origin: string): Promise<void> {
  if (out.json) await writeJsonReport(report, out.json);
  if (out.csv) await writeFileAtomic(out.csv, samplesCsv(report));
  if (out.html) await writeFileAtomic(out.html, renderHtmlReport(report, loadHtmlAssets(packageRoot), { gates, origin }));
  for (const [kind, file] of Object.entries(out)) if (file) process.stderr.write(`ood-lens: wrote ${kind.toUpperCase()} report ${file}\n`);
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
      const res = await runCalibrate({ model: args.models[0], calib: args.calib, id: args.id, out: args.out,
        run: { batchSize: args.batchSize, executionProviders: args.executionProviders, preprocess: args.preprocess, eceBins: args.eceBins } }, hooks);
      bar.stop();
      process.stdout.write(summary(res.report) + '\n');
      if (res.outPath) process.stdout.write(`Calibrated model (logits / ${res.temperature.toFixed(6)}) written to ${res.outPath}\n`);
      await writeOutputs(res.report, { json: args.json, html: args.html, csv: args.csv }, [], path.basename(args.models[0]));
      return res.report.partial ? 130 : 0;
    }
    let config = args.config;
    let outDefaults: { json?: string; html?: string; csv?: string } = {};
    if (args.command === 'demo') {
      config = path.join(packageRoot, 'examples', 'demo', 'oodlens.json');
      const dir = path.resolve(args.out ?? 'out/demo');
      outDefaults = { json: path.join(dir, 'report.json'), html: path.join(dir, 'report.html'), csv: path.join(dir, 'samples.csv') };
    }
    const { options, gates, output } = await optionsFrom({ ...args, config });
    const report = await runScore(options, hooks);
    bar.stop();
    const gateResults = gates ? evaluateGates(report, gates) : [];
    process.stdout.write(summary(report, gateResults) + '\n');
    await writeOutputs(report, { json: output.json ?? outDefaults.json, html: output.html ?? outDefaults.html, csv: output.csv ?? outDefaults.csv }, gateResults, path.basename(config ?? options.id));
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
