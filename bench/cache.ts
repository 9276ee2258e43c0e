// `node dist/bench/cache.js [--quick]`: the preprocessed-image cache on the 25,000-image benchmark, each run in its
// own process (bench/end-to-end.ts) and all in the same session: a run without the cache, the first run with an
// empty cache (it fills it), a re-run with the filled cache (with every default score, and with the logit scores
// only), and the model-only ceiling. Writes the `cache-bench` section of BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { rmSync, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULTS } from '../src/engine/options';
import { ensureImageFolder, warmPageCache } from './lib/fashion-mnist';
import { writeSection } from './lib/sections';
import { inferenceThreadsStopped } from '../src/engine/inference/live-threads';
import { listDataset } from '../src/engine/dataset/image-files';
import { decodeFast } from '../src/engine/image/decode';
import { makeSampleWriter } from '../src/engine/image/preprocess';
import { inspectModel } from '../src/engine/model/inspect';
import { JobCache } from '../src/engine/cache/lookup';
import { TensorCache } from '../src/engine/cache/tensor-cache';

const root = path.resolve(__dirname, '..', '..');
const model = path.join(root, 'examples', 'demo', 'models', 'ce_seed0.onnx');
type Row = { imagesPerSecond: number; seconds: number; scoringSeconds?: number; images: number; peakRssMB: number; phases?: Record<string, number>; cache?: { hits: number; misses: number } };

/**
 * What one decoding thread spends per image, in this process alone: decoding (read + inflate + resize), a cache
 * hit (stat + key + lookup + read + checksum), and a first run's decoding with the key and the pixels kept. The
 * minimum over passes, which a busy machine disturbs least.
 */
async function threadCosts(id: string, cache: string): Promise<Record<string, number>> {
  const files = [...(await listDataset(id)).files].slice(0, 4096);
  const spec = (await inspectModel(model)).spec;
  const size = spec.channels * spec.height * spec.width;
  const write = makeSampleWriter(spec);
  const tensor = new Float32Array(64 * size);
  const job = new TensorCache({ dir: cache, maxBytes: 2 ** 40 }).split([spec]).job();
  const decode = (f: string, j: number) => {
    const images = decodeFast(f, [spec]);
    if (!Array.isArray(images)) throw new Error('bench images take the fast path');
    write(images[0].data, tensor, j);
    return images;
  };
  const passes = {
    decode: (chunk: string[]) => chunk.forEach(decode),
    hit: (chunk: string[]) => {
      const c = new JobCache(job, chunk, [size]);
      chunk.forEach((_, j) => {
        if (!c.fill(j, [tensor], [write])) throw new Error('every image is cached');
      });
    },
    firstRun: (chunk: string[]) => {
      const c = new JobCache({ specs: [null], keep: true }, chunk, [size]);
      chunk.forEach((f, j) => c.keep(j, decode(f, j)));
      c.finish();
    },
  };
  const best: Record<string, number> = { decode: Infinity, hit: Infinity, firstRun: Infinity };
  for (let pass = 0; pass < 15; pass++) {
    for (const [name, run] of Object.entries(passes)) {
      const t0 = performance.now();
      for (let i = 0; i < files.length; i += 64) run(files.slice(i, i + 64));
      best[name] = Math.min(best[name], ((performance.now() - t0) * 1000) / files.length);
    }
  }
  return best;
}

function spawnRow(args: string[]): Row {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const median = (rows: Row[], key: 'imagesPerSecond' | 'scoringSeconds'): Row => [...rows].sort((a, b) => Number(a[key]) - Number(b[key]))[Math.floor(rows.length / 2)];
const fmt = (v: number | undefined, d = 0) => (v === undefined ? '—' : v.toFixed(d));
const signed = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(0)}`;

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((s, e) => s + statSync(path.join(e.parentPath, e.name)).size, 0);
}

const LOGIT_ONLY = 'msp,max_logit,entropy,energy,gen,odin_t';

/** Seconds of a run's phases (bench/end-to-end.ts: each phase's end, from the start). */
function phaseSeconds(r: Row) {
  const p = r.phases!;
  return { before: p.loading, scoring: p.scoring - p.loading, after: p.write - p.scoring };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const count = quick ? 2000 : 25000;
  const folder = path.join(root, '.dev', 'bench', `fmnist-${count}`);
  const { source } = await ensureImageFolder(folder, count);
  await warmPageCache(folder);
  const id = path.join(folder, 'id'), ood = path.join(folder, 'ood');
  const cacheDir = path.join(root, '.dev', 'bench', 'cache-bench');
  const load = os.loadavg()[0];
  const runs = { uncached: [] as Row[], first: [] as Row[], rerun: [] as Row[], rerunLogit: [] as Row[], ceiling: [] as Row[] };
  const ROUNDS = quick ? 1 : 3;
  const e2e = (...more: string[]) => spawnRow([path.join(__dirname, 'end-to-end.js'), '--mode', 'e2e', '--model', model, '--id', id, '--ood', ood, ...more]);
  // Rounds interleave the kinds, so that the load of a shared machine falls on all of them alike.
  for (let r = 0; r < ROUNDS; r++) {
    runs.uncached.push(e2e());
    rmSync(cacheDir, { recursive: true, force: true });
    runs.first.push(e2e('--cache', cacheDir));
    runs.rerun.push(e2e('--cache', cacheDir));
    runs.rerunLogit.push(e2e('--cache', cacheDir, '--scores', LOGIT_ONLY));
    runs.ceiling.push(spawnRow([path.join(__dirname, 'end-to-end.js'), '--mode', 'ceiling', '--model', model, '--id', id, '--ood', ood]));
  }
  const cacheMB = dirBytes(cacheDir) / 2 ** 20;
  const costs = spawnRow([__filename, '--costs', id, cacheDir]) as unknown as Record<string, number>;
  rmSync(cacheDir, { recursive: true, force: true });
  const m = Object.fromEntries(Object.entries(runs).map(([k, rows]) => [k, median(rows, 'imagesPerSecond')])) as Record<keyof typeof runs, Row>;
  const ceiling = m.ceiling.imagesPerSecond;
  const all = (rows: Row[]) => rows.map((x) => fmt(x.imagesPerSecond)).join(', ');
  const row = (name: string, r: Row) => {
    const ph = phaseSeconds(r);
    return `| ${name} | ${fmt(r.seconds, 2)} | ${fmt(r.imagesPerSecond)} | ${fmt(r.imagesPerSecond / ceiling, 2)}× | ${fmt(ph.before, 2)} | ${fmt(ph.scoring, 2)} | ${fmt(r.images / ph.scoring / ceiling, 2)}× | ${fmt(ph.after, 2)} | ${r.cache ? `${r.cache.hits} / ${r.cache.misses}` : '—'} | ${fmt(r.peakRssMB)} |`;
  };
  const re = phaseSeconds(m.rerun), reLogit = phaseSeconds(m.rerunLogit);
  const lines = [
    '## Re-runs with the preprocessed-image cache',
    '',
    `Made by \`node dist/bench/cache.js${quick ? ' --quick' : ''}\` (bench/cache.ts). ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.cpus()[0]?.model ?? 'CPU'} · ${os.availableParallelism()} cores · load ${load.toFixed(1)} at start · Node ${process.version}${quick ? ' · QUICK RUN (small sizes, not representative)' : ''}`,
    '',
    `${count} × 28×28 PNG (${source}), model examples/demo/models/ce_seed0.onnx, batch ${DEFAULTS.batchSize}. Each run is its own process (bench/end-to-end.ts), folders → JSON report written; ${ROUNDS} rounds of the five runs, interleaved; medians (all runs, images/s — uncached: ${all(runs.uncached)}; first: ${all(runs.first)}; re-run: ${all(runs.rerun)}; re-run, logit scores: ${all(runs.rerunLogit)}; ceiling: ${all(runs.ceiling)}). Phases: "to first batch" is listing, model loading (decoding starts meanwhile) and the first batch's outputs; "scoring" the decode + inference of the rest; "after" the scores, metrics, calibration and the JSON report. The ceiling is the model alone on the images decoded beforehand, one onnxruntime thread per core (bench/lib/ceiling-session.ts). The default scores include GradNorm, ASH and SCALE (the model has a feature output and a final linear layer), which run on the main thread batch by batch; \`--scores ${LOGIT_ONLY}\` leaves the six logit scores. Cache on disk after the first run: ${cacheMB.toFixed(1)} MB.`,
    '',
    '| run | seconds | images/s | vs ceiling | to first batch (s) | scoring (s) | scoring vs ceiling | after (s) | cache hits / misses | peak RSS (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('no cache', m.uncached),
    row('first run, empty cache (fills it)', m.first),
    row('re-run, cache filled', m.rerun),
    row('re-run, cache filled, logit scores only', m.rerunLogit),
    `| ceiling: same model, pre-decoded tensors, onnxruntime-node in one process | ${fmt(m.ceiling.seconds, 2)} | ${fmt(ceiling)} | 1.00× | — | — | — | — | — | ${fmt(m.ceiling.peakRssMB)} |`,
    '',
    `Per image on one decoding thread (bench/cache.ts threadCosts: 4,096 of the ID images, best of 15 passes, one process): decoding ${fmt(costs.decode, 1)} µs; a cache hit ${fmt(costs.hit, 1)} µs (${fmt(costs.decode / costs.hit, 1)}× less); a first run's decoding with the key and the pixels kept ${fmt(costs.firstRun, 1)} µs (${signed((costs.firstRun / costs.decode - 1) * 100)} %).`,
    '',
    ...(load > os.availableParallelism()
      ? [`**The machine was busy with other work** (load ${load.toFixed(1)} on ${os.availableParallelism()} cores at the start): every run took several times longer than alone, the images/s above are mostly waiting for a core, and the per-thread costs are the steadier figures.`, '']
      : []),
    `Targets: re-run ≥ 0.75× the ceiling — whole run **${fmt(m.rerun.imagesPerSecond / ceiling, 2)}×** (${fmt(m.rerunLogit.imagesPerSecond / ceiling, 2)}× with the logit scores only), scoring phase **${fmt(m.rerun.images / re.scoring / ceiling, 2)}×** (${fmt(m.rerunLogit.images / reLogit.scoring / ceiling, 2)}×); first run no slower than without the cache — **${fmt(m.first.imagesPerSecond / m.uncached.imagesPerSecond, 2)}×** the uncached run. The model alone needs ${fmt(m.ceiling.seconds, 2)} s; the re-run spends ${fmt(re.before, 2)} s before its first batch is out and ${fmt(re.after, 2)} s after the last (${fmt(reLogit.before, 2)} s and ${fmt(reLogit.after, 2)} s with the logit scores only).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeSection(path.join(root, quick ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md'), 'cache-bench', lines.join('\n'));
}

if (process.argv[2] === '--costs') {
  threadCosts(process.argv[3], process.argv[4]).then(
    async (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      await inferenceThreadsStopped();
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  });
}
