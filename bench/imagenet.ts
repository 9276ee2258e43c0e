// `node esbuild.mjs && node dist/bench/imagenet.js [--count 50000] [--quick] [--arch resnet18|resnet50] [--cache DIR] [--render]`
// The ImageNet-sized benchmark: --count JPEG photos of 300–600 px in 1,000 class folders plus an OOD folder
// (bench/imagenet_data.py), a torchvision ResNet with 1,000 classes and random seeded weights exported to ONNX
// (bench/imagenet_model.py), torchvision's ImageNet eval preprocessing. Each measurement is its own process
// (bench/imagenet-child.ts): end to end at two sizes (peak RSS per sample from the difference), decoding alone and
// the model alone on samples, and whether float16 logits would change the report (bench/imagenet-f16.ts). Data and
// model are made once into the cache folder (default ~/.cache/ood-lens-bench); nothing made is committed.
// The measurements are saved beside the data (imagenet-results-<arch>-<count>.json); the `imagenet-bench` section of
// BENCHMARKS.md (--quick: 2,000 images, .dev/BENCHMARKS.quick.md) is written from them (bench/imagenet-report.ts).
// --render writes the section again from the saved measurements, without measuring.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { warmPageCache } from './lib/fashion-mnist';
import { writeSection } from './lib/sections';
import { renderImagenet, type ImagenetResults, type Row } from './imagenet-report';

const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' }, quick: { type: 'boolean', default: false },
    arch: { type: 'string', default: 'resnet18' }, cache: { type: 'string', default: path.join(os.homedir(), '.cache', 'ood-lens-bench') },
    render: { type: 'boolean', default: false },
  },
});
const root = path.resolve(__dirname, '..', '..');
const PY = '/usr/bin/python3';
const count = a.quick ? 2000 : Number(a.count);
// The smaller run for the memory slope; at least 1,112 images, so that all 1,000 classes have an ID image.
const small = Math.max(1112, Math.round(count / 5));
const samples = a.quick ? { decode: 200, ceiling: 64, synthetic: 2000 } : { decode: 2000, ceiling: 512, synthetic: 10000 };

const load = () => os.loadavg()[0].toFixed(1);

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

async function measure(): Promise<ImagenetResults> {
  const model = path.join(a.cache!, `${a.arch}-1000.onnx`);
  python('imagenet_model.py', ['--arch', a.arch!, '--out', model]);
  const started = new Date().toISOString();
  const loadStart = os.loadavg()[0];
  const little = await dataset(small);
  const big = await dataset(count);
  const logits = (n: number) => path.join(a.cache!, `logits-${a.arch}-${n}`);
  const m = ['--model', model];
  const sampleOf = (mode: string, n: number) => child('imagenet-child.js', ['--mode', mode, ...m, '--id', big.id, '--ood', big.ood, '--sample', String(n)]);
  // The model alone and decoding alone, before and after the long runs: the machine's load may change meanwhile.
  const ceilings: Row[] = [];
  const decodes: Row[] = [];
  const stages = async () => {
    ceilings.push(await sampleOf('ceiling', samples.ceiling));
    decodes.push(await sampleOf('decode', samples.decode));
  };
  await stages();
  const e2eSmall = await child('imagenet-child.js', ['--mode', 'e2e', ...m, ...['--id', little.id, '--ood', little.ood], '--logits-out', logits(small)]);
  const e2e = await child('imagenet-child.js', ['--mode', 'e2e', ...m, ...['--id', big.id, '--ood', big.ood], '--logits-out', logits(count)]);
  await stages();
  // Calibration split for temperature scaling and the calibrators: the smaller run's ID logits (same generator, so
  // partly the same photos: only the rounding is compared).
  const f16 = await child('imagenet-f16.js', ['--split', `id=${path.join(logits(count), 'id')}`, '--split', `ood=${path.join(logits(count), 'ood')}`, '--split', `calib=${path.join(logits(small), 'id')}`]);
  const synthetic = path.join(a.cache!, `synthetic-logits-${samples.synthetic}`);
  const n = String(samples.synthetic);
  python('features_data.py', [synthetic, '--d', '256', '--classes', '1000', '--fit', '1000', '--id', n, '--ood', n]);
  const f16Synthetic = await child('imagenet-f16.js', ['--split', `id=${path.join(synthetic, 'id')}`, '--split', `ood=${path.join(synthetic, 'ood')}`, '--split', `calib=${path.join(synthetic, 'fit')}`]);
  const versionOf = (pkg: string): string => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} cores · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · onnxruntime-node ${versionOf('onnxruntime-node')} · sharp ${versionOf('sharp')}`;
  return { started, machine, loadStart, arch: a.arch!, count, quick: a.quick!, synthetic: samples.synthetic, e2e, e2eSmall, ceilings, decodes, f16, f16Synthetic };
}

async function main() {
  const saved = path.join(a.cache!, `imagenet-results-${a.arch}-${count}.json`);
  const results: ImagenetResults = a.render ? JSON.parse(readFileSync(saved, 'utf8')) : await measure();
  if (!a.render) writeFileSync(saved, JSON.stringify(results, null, 1));
  const lines = renderImagenet(results);
  process.stdout.write(lines.join('\n') + '\n');
  writeSection(path.join(root, a.quick ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md'), 'imagenet-bench', lines.join('\n'));
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
