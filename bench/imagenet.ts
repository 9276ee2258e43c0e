// `node esbuild.mjs && node dist/bench/imagenet.js [--count 50000] [--quick] [--arch resnet18|resnet50] [--cache DIR]`
// The ImageNet-sized benchmark: --count JPEG photos of 300–600 px in 1,000 class folders plus an OOD folder
// (bench/imagenet_data.py), a torchvision ResNet with 1,000 classes and random seeded weights exported to ONNX
// (bench/imagenet_model.py), torchvision's ImageNet eval preprocessing. Each measurement is its own process
// (bench/imagenet-child.ts): end to end at two sizes (peak RSS per sample from the difference), decoding alone and
// the model alone on samples, and whether float16 logits would change the report (bench/imagenet-f16.ts). Data and
// model are made once into the cache folder (default ~/.cache/ood-lens-bench); nothing made is committed.
// Writes the `imagenet-bench` section of BENCHMARKS.md (--quick: 2,000 images, .dev/BENCHMARKS.quick.md).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { warmPageCache } from './lib/fashion-mnist';
import { writeSection } from './lib/sections';

const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' }, quick: { type: 'boolean', default: false },
    arch: { type: 'string', default: 'resnet18' }, cache: { type: 'string', default: path.join(os.homedir(), '.cache', 'ood-lens-bench') },
  },
});
const root = path.resolve(__dirname, '..', '..');
const PY = '/usr/bin/python3';
const count = a.quick ? 2000 : Number(a.count);
// The smaller run for the memory slope; at least 1,112 images, so that all 1,000 classes have an ID image.
const small = Math.max(1112, Math.round(count / 5));
const samples = a.quick ? { decode: 200, ceiling: 64, synthetic: 2000 } : { decode: 2000, ceiling: 512, synthetic: 10000 };
type Row = Record<string, unknown> & { images: number; seconds: number; imagesPerSecond: number; peakRssMB: number };

const load = () => os.loadavg()[0].toFixed(1);
const fmt = (v: unknown, d = 0) => (typeof v === 'number' ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(v));

function python(script: string, args: string[]): void {
  const r = spawnSync(PY, [path.join(root, 'bench', script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench/${script} failed (needs Debian's python3-torch, torchvision, onnx, sklearn, numpy, pil)`);
}

/**
 * One measurement in its own node process: its JSON line, plus the mean 1-minute load average while it ran (other
 * work on a shared machine slows every row; the load says how much there was).
 */
async function child(script: string, args: string[]): Promise<Row> {
  process.stderr.write(`imagenet bench: ${script} ${args.join(' ')} (load ${load()})\n`);
  const loads: number[] = [];
  const tick = setInterval(() => loads.push(os.loadavg()[0]), 5000);
  const p = spawn(process.execPath, ['--expose-gc', path.join(__dirname, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => p.on('close', resolve));
  clearInterval(tick);
  if (status !== 0) throw new Error(`${script} ${args.join(' ')} failed: ${stderr.trim().split('\n').pop()}`);
  const row = { ...JSON.parse(stdout.trim().split('\n').pop()!), load: loads.length ? loads.reduce((x, y) => x + y) / loads.length : os.loadavg()[0] };
  process.stderr.write(`  ${JSON.stringify(row).slice(0, 600)}\n`);
  return row;
}

async function dataset(n: number): Promise<{ id: string; ood: string }> {
  const dir = path.join(a.cache!, `imagenet-${n}`);
  python('imagenet_data.py', ['--out', dir, '--count', String(n), '--workers', '2']);
  await warmPageCache(dir);
  return { id: path.join(dir, 'id'), ood: path.join(dir, 'ood') };
}

/** Metrics of the report compared between float32 and float16 logits: [column, key in imagenet-f16's maxDiff]. */
const F16_METRICS = [
  ['AUROC', 'ood.auroc'], ['AUPR-In', 'ood.aupr_in'], ['AUPR-Out', 'ood.aupr_out'], ['FPR95', 'ood.fpr95'],
  ['accuracy', 'calibration.accuracy'], ['ECE', 'calibration.ece'], ['smECE', 'calibration.smece'], ['NLL', 'calibration.nll'],
  ['Brier', 'calibration.brier'], ['AURC', 'selective.aurc'],
] as const;

function f16Row(label: string, r: Row): string {
  const d = r.maxDiff as Record<string, number>;
  const l = r.logits as { lo: number; hi: number; rows: number; flips: number };
  const cells = F16_METRICS.map(([, key]) => (key in d ? (d[key] === 0 ? '0' : d[key].toExponential(1)) : '—'));
  return `| ${label}, logits in [${l.lo.toFixed(1)}, ${l.hi.toFixed(1)}] | ${cells.join(' | ')} | ${fmt(l.flips)} of ${fmt(l.rows)} |`;
}

async function main() {
  const lines: string[] = [];
  const out = (s = '') => (lines.push(s), process.stdout.write(s + '\n'));
  const model = path.join(a.cache!, `${a.arch}-1000.onnx`);
  python('imagenet_model.py', ['--arch', a.arch!, '--out', model]);
  const started = new Date();
  const loadStart = load();
  const little = await dataset(small);
  const big = await dataset(count);
  const logits = (n: number) => path.join(a.cache!, `logits-${a.arch}-${n}`);
  const m = ['--model', model];
  const sampleOf = (mode: string, n: number) => child('imagenet-child.js', ['--mode', mode, ...m, '--id', big.id, '--ood', big.ood, '--sample', String(n)]);
  // The model-only and decode-only rates before and after the long runs: the machine's load changes meanwhile.
  const ceilings = [await sampleOf('ceiling', samples.ceiling)];
  const decodes = [await sampleOf('decode', samples.decode)];
  const e2eSmall = await child('imagenet-child.js', ['--mode', 'e2e', ...m, ...['--id', little.id, '--ood', little.ood], '--logits-out', logits(small)]);
  const e2e = await child('imagenet-child.js', ['--mode', 'e2e', ...m, ...['--id', big.id, '--ood', big.ood], '--logits-out', logits(count)]);
  ceilings.push(await sampleOf('ceiling', samples.ceiling));
  decodes.push(await sampleOf('decode', samples.decode));
  const f16 = await child('imagenet-f16.js', ['--split', `id=${path.join(logits(count), 'id')}`, '--split', `ood=${path.join(logits(count), 'ood')}`]);
  const synthetic = path.join(a.cache!, `synthetic-logits-${samples.synthetic}`);
  const n = String(samples.synthetic);
  python('features_data.py', [synthetic, '--d', '256', '--classes', '1000', '--fit', '1000', '--id', n, '--ood', n]);
  const f16Synthetic = await child('imagenet-f16.js', ['--split', `id=${path.join(synthetic, 'id')}`, '--split', `ood=${path.join(synthetic, 'ood')}`]);

  const versionOf = (pkg: string): string => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  out(`## ImageNet-sized run: ${fmt(count)} JPEG photos, 1,000 classes, ${a.arch === 'resnet50' ? 'ResNet-50' : 'ResNet-18'}${a.quick ? ' (QUICK RUN, not representative)' : ''}`);
  out();
  out(`${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} cores · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · onnxruntime-node ${versionOf('onnxruntime-node')} · sharp ${versionOf('sharp')} · shared with other jobs: 1-minute load average ${loadStart} at the start (2.0 would keep both cores busy), the mean during each measurement in the table.`);
  out();
  out(`Made by \`node dist/bench/imagenet.js\` (bench/imagenet.ts). Images: bench/imagenet_data.py, crops of scikit-learn's two sample photos rescaled to 300–600 px on the longer side, flipped, colour-jittered, JPEG quality 75–95; 90 % in 1,000 class folders (\`id\`), 10 % with permuted colour channels (\`ood\`). Model: torchvision \`${a.arch}\` with 1,000 classes and random seeded weights (bench/imagenet_model.py; throughput and memory do not depend on the weights, its metrics are meaningless), scored as \`ood-lens score --preset imagenet --resize 256 --crop 224\` (bilinear Resize(256), CenterCrop(224), ImageNet mean/std), batch 64, every default score (the engine finds the final layer and adds GradNorm, ASH and SCALE). Each row is one process. CPU time counts every thread of the process during the timed part: it depends less on the other jobs than the wall time does.`);
  out();
  out('| measurement | images | seconds | images/s | CPU ms per image | load during | peak RSS (MB) |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of [
    ['end to end: folders → scores, metrics, JSON report', e2e],
    ['end to end, smaller run', e2eSmall],
    ['model alone (ceiling), before the runs: pre-decoded tensors, onnxruntime-node', ceilings[0]],
    ['model alone (ceiling), after the runs', ceilings[1]],
    ['decode alone, before: read + decode + resize + crop + normalize, decoding threads', decodes[0]],
    ['decode alone, after', decodes[1]],
  ] as const) out(`| ${name} | ${fmt(r.images)} | ${fmt(r.seconds, 1)} | ${fmt(r.imagesPerSecond, 1)} | ${fmt((1000 * Number(r.cpuSeconds)) / r.images, 1)} | ${fmt(r.load, 1)} | ${fmt(r.peakRssMB)} |`);
  out();
  const ph = e2e.phases as Record<string, number>;
  const scoring = ph.scoring - ph.loading;
  const rate = (rows: Row[], key: 'imagesPerSecond' | 'cpu') => rows.map((r) => (key === 'cpu' ? (1000 * Number(r.cpuSeconds)) / r.images : r.imagesPerSecond));
  const [cpuModel, cpuDecode] = [rate(ceilings, 'cpu'), rate(decodes, 'cpu')].map((xs) => xs.reduce((x, y) => x + y) / xs.length);
  out(`**Where the time goes** (the ${fmt(count)}-image run, ${fmt(ph.write, 0)} s): listing the folders and loading the model ${fmt(ph.loading, 1)} s; decoding and inference, pipelined, ${fmt(scoring, 1)} s (${fmt(count / scoring, 1)} images/s, against ${rate(ceilings, 'imagesPerSecond').map((x) => fmt(x, 1)).join(' and ')} for the model alone before and after); scores, metrics, calibration and report ${fmt(ph.analysis - ph.scoring, 1)} s; writing the JSON report ${fmt(ph.write - ph.analysis, 1)} s. CPU time per image: the model alone ${fmt(cpuModel, 1)} ms, decoding alone ${fmt(cpuDecode, 1)} ms, the whole run ${fmt((1000 * Number(e2e.cpuSeconds)) / e2e.images, 1)} ms (the stages overlap, and onnxruntime's threads spin while they wait for work, which counts as CPU: they do not add up). ${cpuModel > cpuDecode ? 'The model' : 'Decoding'} sets the pace.`);
  out();
  const perSample = ((e2e.peakRssMB - e2eSmall.peakRssMB) * 2 ** 20) / (e2e.images - e2eSmall.images);
  const kept = (Number(e2e.retainedBytes) - Number(e2eSmall.retainedBytes)) / (e2e.images - e2eSmall.images);
  const fixedMB = (Number(e2e.retainedBytes) - kept * e2e.images) / 2 ** 20;
  const millionGB = (e2e.peakRssMB * 2 ** 20 + perSample * (1e6 - e2e.images)) / 2 ** 30;
  out(`**Memory per sample** with 1,000 classes: peak RSS grows by **${fmt(perSample)} bytes per sample** from ${fmt(e2eSmall.images)} to ${fmt(e2e.images)} images, of which the logits kept as float32 are 4,000 (1,000 × 4 bytes, one model; float16 would keep 2,000). What the finished report holds in the main thread (after a full garbage collection) grows by ${fmt(kept)} bytes per sample, on top of ${fmt(fixedMB)} MB that do not depend on the count. At this slope 1,000,000 images would peak at about ${fmt(millionGB, 1)} GB (not measured).`);
  out();
  out('**Float16 logits** (`--store-logits f16` is not implemented; this measures what it would change). The same report built from precomputed logits as they are (float32) and rounded to float16 (round to nearest even), by bench/imagenet-f16.ts: the largest absolute difference of each metric over every row (each score × OOD split), and how many predictions (first argmax) changed. No calibration split: with 1,000 classes one makes the run fit vector, matrix and Dirichlet scaling (10⁶ parameters), which did not finish within 10 minutes here, so temperature scaling is not compared.');
  out();
  out(`| logits | ${F16_METRICS.map(([c]) => c).join(' | ')} | predictions changed |`);
  out(`|---|${F16_METRICS.map(() => '---:|').join('')}---:|`);
  out(f16Row(`this run's (${fmt(count)} × 1,000; random weights, accuracy ${fmt(f16.accuracy, 3)})`, f16));
  out(f16Row(`synthetic, trained-like (bench/features_data.py, d = 256; ${fmt(samples.synthetic)} ID + ${fmt(samples.synthetic)} OOD × 1,000, accuracy ${fmt(f16Synthetic.accuracy, 3)})`, f16Synthetic));
  out();
  const file = path.join(root, a.quick ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md');
  writeSection(file, 'imagenet-bench', lines.join('\n'));
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
