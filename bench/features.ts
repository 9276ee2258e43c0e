// Bench: the post-hoc OOD methods at real feature sizes, beside numpy/scikit-learn doing the same math in the same
// run. Data: bench/features_data.py (default ResNet-50-sized: d = 2,048, 1,000 classes, 50,000 fit, 10,000 ID +
// 10,000 OOD). Each method runs in its own process (peak memory is per process), ours then numpy's, and the two
// score vectors are compared value by value.
//   node esbuild.mjs && node dist/bench/features.js [--data DIR] [--methods a,b] [--quick] [--large]
// --quick: d = 256, 100 classes, 5,000 fit, 1,000 + 1,000 (written to .dev/BENCHMARKS.quick.md).
// --large: d = 512 with an ImageNet-sized fit split (1,281,167 rows), its own section of BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METHODS } from '../src/engine/ood/registry';
import { OrtDense } from '../src/engine/linalg/dense';
import type { Batch } from '../src/engine/ood/method';
import { oodMetrics } from '../src/engine/metrics/ood-metrics';
import { f32, labels, npyShape } from './lib/npy-f32';
import { writeSection } from './lib/sections';

const PY = '/usr/bin/python3';
const root = path.resolve(__dirname, '..', '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** Rows per batch handed to a method: what a run over precomputed features streams. */
const BATCH = 1024;

function load(dir: string, split: string) {
  const features = f32(path.join(dir, split, 'features.npy'));
  const logits = f32(path.join(dir, split, 'logits.npy'));
  const lab = path.join(dir, split, 'labels.npy');
  const n = features.shape[0];
  return { features: features.data, logits: logits.data, labels: existsSync(lab) ? labels(lab) : new Int32Array(n).fill(-1), n, d: features.shape[1], k: logits.shape[1] };
}

function batches(s: ReturnType<typeof load>, withLabels: boolean): Batch[] {
  const out: Batch[] = [];
  for (let at = 0; at < s.n; at += BATCH) {
    const m = Math.min(BATCH, s.n - at);
    out.push({
      features: s.features.subarray(at * s.d, (at + m) * s.d),
      logits: s.logits.subarray(at * s.k, (at + m) * s.k),
      labels: withLabels ? s.labels.subarray(at, at + m) : new Int32Array(m).fill(-1),
      n: m,
    });
  }
  return out;
}

/** One method in this process: fit + score times, peak RSS, scores of [id; ood] written to `out`. */
async function runChild(method: string, dir: string, out: string): Promise<void> {
  const spec = METHODS.find((m) => m.name === method)!;
  const fit = load(dir, 'fit');
  const id = load(dir, 'id');
  const ood = load(dir, 'ood');
  const W = f32(path.join(dir, 'W.npy'));
  const layer = { W: W.data, b: f32(path.join(dir, 'b.npy')).data, k: W.shape[0], d: W.shape[1] };
  const loadedRss = process.memoryUsage().rss;
  const dense = new OrtDense();
  const t0 = performance.now();
  const det = spec.create({ d: fit.d, k: fit.k, layer, params: { ...spec.defaults }, dense });
  for (const b of batches(fit, true)) await det.fit?.(b);
  await det.finish?.();
  const t1 = performance.now();
  const scores: number[] = [];
  for (const s of [id, ood]) for (const b of batches(s, false)) scores.push(...(await det.score(b)));
  const t2 = performance.now();
  dense.close();
  const all = Float64Array.from(scores);
  writeFileSync(out, Buffer.from(all.buffer));
  const m = oodMetrics(all.subarray(0, id.n), all.subarray(id.n));
  console.log(JSON.stringify({
    method, fit_s: (t1 - t0) / 1000, score_s: (t2 - t1) / 1000, total_s: (t2 - t0) / 1000,
    peak_rss_mb: (process.resourceUsage().maxRSS * 1024) / 2 ** 20, inputs_rss_mb: loadedRss / 2 ** 20, auroc: m.auroc,
  }));
}

function readNpyF64(file: string): Float64Array {
  const buf = readFileSync(file);
  const start = 10 + buf.readUInt16LE(8);
  return new Float64Array(buf.buffer.slice(buf.byteOffset + start));
}

/** Largest |ours − numpy| / max(1, |numpy|) over the finite scores, and how many are finite in one only. */
function compare(ours: Float64Array, theirs: Float64Array): { rel: number; mismatched: number } {
  let rel = 0;
  let mismatched = 0;
  for (let i = 0; i < ours.length; i++) {
    if (Number.isFinite(ours[i]) !== Number.isFinite(theirs[i])) mismatched++;
    else if (Number.isFinite(ours[i])) rel = Math.max(rel, Math.abs(ours[i] - theirs[i]) / Math.max(1, Math.abs(theirs[i])));
  }
  return { rel, mismatched };
}

const SIZES = {
  default: [] as string[],
  quick: ['--d', '256', '--classes', '100', '--fit', '5000', '--id', '1000', '--ood', '1000'],
  large: ['--d', '512', '--fit', '1281167'],
};

function main(): void {
  const size = process.argv.includes('--quick') ? 'quick' : process.argv.includes('--large') ? 'large' : 'default';
  const dir = arg('--data') ?? path.join(root, '.dev', 'bench', `features-${size}`);
  if (!existsSync(path.join(dir, 'W.npy'))) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(PY, [path.join(root, 'bench', 'features_data.py'), dir, ...SIZES[size]], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/features_data.py failed (needs Debian python3-numpy)');
  }
  // Headers only: the fit split alone may be gigabytes.
  const fitShape = npyShape(path.join(dir, 'fit', 'features.npy'));
  const idN = npyShape(path.join(dir, 'id', 'logits.npy'))[0];
  const oodN = npyShape(path.join(dir, 'ood', 'logits.npy'))[0];
  const classes = npyShape(path.join(dir, 'W.npy'))[0];
  const fitMB = (fitShape[0] * fitShape[1] * 4) / 2 ** 20;
  const wanted = arg('--methods')?.split(',') ?? METHODS.filter((m) => m.needs.features || m.needs.fit).map((m) => m.name);
  const out: string[] = [];
  const say = (line = '') => {
    console.log(line);
    out.push(line);
  };
  say(`${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model ?? 'CPU'} · ${os.cpus().length} cores · load ${os.loadavg()[0].toFixed(1)} at start · Node ${process.version}`);
  say();
  say(`Data (bench/features_data.py, seed 0): d = ${fitShape[1]}, ${classes} classes, ${fitShape[0].toLocaleString('en-US')} fit rows (${fitMB.toFixed(0)} MB of float32 features), ${idN.toLocaleString('en-US')} ID + ${oodN.toLocaleString('en-US')} OOD scored; ours streams the fit split in batches of ${BATCH} rows. numpy: bench/features_numpy.py (OpenBLAS, float32 products for the bank scans as faiss/torch, float64 elsewhere). Times include reading the inputs for numpy (memory-mapped) but not for ours; "method MB" = our peak RSS − RSS with the inputs loaded.`);
  say();
  say('| method | ours fit s | ours score s | ours total s | numpy total s | ours / numpy | method MB (ours) | peak RSS MB ours · numpy | max rel. diff vs numpy | AUROC |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const missed: string[] = [];
  for (const method of wanted) {
    const oursOut = path.join(dir, `ours-${method}.f64`);
    const npOut = path.join(dir, `numpy-${method}.npy`);
    const a = spawnSync(process.execPath, [__filename, '--child', method, dir, oursOut], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const b = spawnSync(PY, [path.join(root, 'bench', 'features_numpy.py'), dir, method, '--out', npOut], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (a.status !== 0 || b.status !== 0) {
      say(`| ${method} | failed: ${(a.status !== 0 ? a.stderr : b.stderr).trim().split('\n').pop()} |`);
      continue;
    }
    const ours = JSON.parse(a.stdout.trim().split('\n').pop()!);
    const np = JSON.parse(b.stdout.trim().split('\n').pop()!);
    const { rel, mismatched } = compare(new Float64Array(readFileSync(oursOut).buffer.slice(0)), readNpyF64(npOut));
    const f = (v: number, dg = 1) => v.toFixed(dg);
    const own = ours.peak_rss_mb - ours.inputs_rss_mb;
    const ratio = ours.total_s / np.total_s;
    if (ratio > 1.5 || own > 2 * fitMB) missed.push(`${method} (${f(ratio, 2)}× time, ${f(own / fitMB, 2)}× the fit features' memory)`);
    say(`| ${method} | ${f(ours.fit_s)} | ${f(ours.score_s)} | ${f(ours.total_s)} | ${f(np.total_s)} | ${f(ratio, 2)}× | ${f(own, 0)} | ${f(ours.peak_rss_mb, 0)} · ${f(np.peak_rss_mb, 0)} | ${rel.toExponential(1)}${mismatched ? ` (${mismatched} finite in one only)` : ''} | ${f(ours.auroc, 4)} |`);
  }
  say();
  say(`Targets: within 1.5× numpy's time and 2× the fit features' size (${(2 * fitMB).toFixed(0)} MB) in memory. ${missed.length ? `Not met: ${missed.join('; ')}.` : 'Met by every method.'}`);
  const file = path.join(root, size === 'quick' ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md');
  const title = size === 'large' ? '## Post-hoc OOD methods with an ImageNet-sized fit split' : '## Post-hoc OOD methods at ResNet-50 size';
  writeSection(file, size === 'large' ? 'features-bench-large' : 'features-bench', `${title}\n\nMade by \`node dist/bench/features.js${size === 'default' ? '' : ` --${size}`}\` (bench/features.ts).\n\n${out.join('\n')}`);
}

if (process.argv[2] === '--child') void runChild(process.argv[3], process.argv[4], process.argv[5]);
else main();
