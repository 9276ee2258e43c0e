// `npm run bench [-- --quick]`: every benchmark, each measurement in its own process, beside its baselines
// measured in the same run; results are printed and written to BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureImageFolder } from './lib/fashion-mnist';

const quick = process.argv.includes('--quick');
const root = path.resolve(__dirname, '..', '..');
const dev = path.join(root, '.dev', 'bench');
const node = process.execPath;
const demoModel = path.join(root, 'examples', 'demo', 'models', 'ce_seed0.onnx');
const PY = '/usr/bin/python3';

type Row = Record<string, number | string>;

function child(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Row {
  const r = spawnSync(node, [path.join(__dirname, script), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function python(args: string[]): Row | string {
  if (!existsSync(PY)) return 'python3 not found';
  const probe = spawnSync(PY, ['-c', 'import torch, torchvision, sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'python3-torch / torchvision / sklearn not installed';
  const r = spawnSync(PY, [path.join(root, 'bench', 'python_pipeline.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const fmt = (v: unknown, d = 0) => (typeof v === 'number' ? v.toFixed(d) : String(v));

async function main() {
  const lines: string[] = [];
  const out = (s = '') => {
    lines.push(s);
    process.stdout.write(s + '\n');
  };
  const count = quick ? 2000 : 25000;
  const folder = path.join(dev, `fmnist-${count}`);
  const { source } = await ensureImageFolder(folder, count);
  const id = path.join(folder, 'id');
  const ood = path.join(folder, 'ood');
  const versionOf = (pkg: string): string => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  const versions = { node: process.version, ort: versionOf('onnxruntime-node'), sharp: versionOf('sharp') };
  out(`# Benchmarks`);
  out();
  out(`${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} cores · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${versions.node} · onnxruntime-node ${versions.ort} · sharp ${versions.sharp}${quick ? ' · QUICK RUN (small sizes, not representative)' : ''}`);
  out();
  out(`Made by \`npm run bench\` (bench/run.ts). Each figure is one process measured in the same run; images: ${count} × 28×28 PNG, ${source}, split into ID (classes 0–4) and OOD (5–9) folders. Model: examples/demo/models/ce_seed0.onnx.`);
  out();

  out('## End to end: folder of PNG files → scores + metrics + JSON report');
  out();
  const e2e = child('end-to-end.js', ['--mode', 'e2e', '--model', demoModel, '--id', id, '--ood', ood]);
  const ceiling = child('end-to-end.js', ['--mode', 'ceiling', '--model', demoModel, '--id', id, '--ood', ood]);
  const py = python(['--id', id, '--ood', ood, '--model', 'ce_seed0']);
  out('| pipeline | images | seconds | images/s | vs ours | peak RSS (MB) |');
  out('|---|---:|---:|---:|---:|---:|');
  out(`| OOD Lens end to end | ${e2e.images} | ${fmt(e2e.seconds, 2)} | ${fmt(e2e.imagesPerSecond)} | 1.00× | ${fmt(e2e.peakRssMB)} |`);
  out(`| ceiling: same model, pre-decoded tensors, onnxruntime-node in one process | ${ceiling.images} | ${fmt(ceiling.seconds, 2)} | ${fmt(ceiling.imagesPerSecond)} | ${fmt(Number(ceiling.imagesPerSecond) / Number(e2e.imagesPerSecond), 2)}× | ${fmt(ceiling.peakRssMB)} |`);
  if (typeof py === 'string') out(`| Python: torchvision ImageFolder + DataLoader + torch + sklearn | — | — | ${py} | — | — |`);
  else out(`| Python: torchvision ImageFolder + DataLoader + torch + sklearn | ${py.images} | ${fmt(py.seconds, 2)} | ${fmt(py.images_per_second)} | ${fmt(Number(py.images_per_second) / Number(e2e.imagesPerSecond), 2)}× | ${fmt(py.peak_rss_mb ?? '—')} |`);
  out();
  out(`End to end reaches **${fmt(Number(e2e.imagesPerSecond) / Number(ceiling.imagesPerSecond), 2)}×** the ceiling (target ≥ 0.75×)${typeof py === 'string' ? '' : ` and **${fmt(Number(e2e.imagesPerSecond) / Number(py.images_per_second), 1)}×** the Python pipeline (target ≥ 4×)`}.`);
  out();

  out('## Where the time goes (each stage alone, same images and model)');
  out();
  const decode = child('end-to-end.js', ['--mode', 'decode', '--model', demoModel, '--id', id, '--ood', ood]);
  const scoring = child('end-to-end.js', ['--mode', 'scoring', '--model', demoModel, '--id', id, '--ood', ood]);
  out('| stage | seconds | images/s |');
  out('|---|---:|---:|');
  for (const [name, r] of [['decode + preprocess (main thread)', decode], ['inference (onnxruntime, all cores)', ceiling], ['scores + metrics', scoring], ['end to end (pipelined)', e2e]] as const) {
    out(`| ${name} | ${fmt(r.seconds, 2)} | ${fmt(r.imagesPerSecond)} |`);
  }
  out();

  out('## Scaling: a ResNet-18-sized model (3×224×224 inputs from the 28×28 images, resized)');
  out();
  const resnet = path.join(dev, 'resnet18.onnx');
  if (!existsSync(resnet)) spawnSync(PY, [path.join(root, 'scripts', 'train-demo-models'), '--bench-model', resnet], { encoding: 'utf8' });
  if (!existsSync(resnet)) {
    out('Not measured: the ResNet-18 model is exported by `scripts/train-demo-models --bench-model`, which needs python3-torch.');
  } else {
    const n = quick ? 128 : 1000;
    const small = path.join(dev, `fmnist-${n}`);
    await ensureImageFolder(small, n);
    const args = ['--model', resnet, '--id', path.join(small, 'id'), '--ood', path.join(small, 'ood'), '--batch', '32'];
    const stages = [
      ['decode + resize to 224×224 + preprocess', child('end-to-end.js', ['--mode', 'decode', ...args])],
      ['inference (onnxruntime, all cores)', child('end-to-end.js', ['--mode', 'ceiling', ...args])],
      ['scores + metrics', child('end-to-end.js', ['--mode', 'scoring', ...args])],
      ['end to end (pipelined)', child('end-to-end.js', ['--mode', 'e2e', ...args])],
    ] as const;
    const pyBig = python(['--id', path.join(small, 'id'), '--ood', path.join(small, 'ood'), '--model', 'resnet18']);
    out(`${n} images, batch 32, random-initialized ResNet-18 (5 classes; throughput does not depend on the weights).`);
    out();
    out('| stage | seconds | images/s | share of the stages |');
    out('|---|---:|---:|---:|');
    const sum = stages.slice(0, 3).reduce((a, [, r]) => a + Number(r.seconds), 0);
    for (const [name, r] of stages) out(`| ${name} | ${fmt(r.seconds, 2)} | ${fmt(r.imagesPerSecond, 1)} | ${name.startsWith('end') ? '—' : `${fmt((100 * Number(r.seconds)) / sum)}%`} |`);
    if (typeof pyBig === 'string') out(`| Python pipeline (torchvision + torch) | — | ${pyBig} | — |`);
    else out(`| Python pipeline (torchvision + torch) | ${fmt(pyBig.seconds, 2)} | ${fmt(pyBig.images_per_second, 1)} | — |`);
    out();
  }

  out('## Memory');
  out();
  const memCounts = quick ? [1000, 2000] : [25000, 100000];
  const mem: Row[] = [];
  for (const n of memCounts) {
    const f = path.join(dev, `fmnist-${n}`);
    await ensureImageFolder(f, n);
    mem.push(child('end-to-end.js', ['--mode', 'e2e', '--model', demoModel, '--id', path.join(f, 'id'), '--ood', path.join(f, 'ood')]));
  }
  out('| images | peak RSS (MB) | images/s |');
  out('|---:|---:|---:|');
  for (const r of mem) out(`| ${r.images} | ${fmt(r.peakRssMB)} | ${fmt(r.imagesPerSecond)} |`);
  const growth = ((Number(mem[1].peakRssMB) - Number(mem[0].peakRssMB)) * 1024 * 1024) / (Number(mem[1].images) - Number(mem[0].images));
  out();
  out(`Growth: **${fmt(growth)} bytes per sample** between the two runs (peak RSS includes the JSON report built at the end, which holds every sample's scores).`);
  out();

  out('## Metrics on 10,000,000 scores');
  out();
  const metrics = spawnSync(node, [path.join(__dirname, 'metrics.js'), ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
  out(metrics.status === 0 ? metrics.stdout.trim() : `failed: ${metrics.stderr.trim()}`);
  out();

  writeFileSync(path.join(root, quick ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md'), lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
