// Bench: real photos (JPEG, 200–900 px) through OOD Lens beside the torchvision pipeline, measured in the same run.
//   node esbuild.mjs && node dist/bench/photos.js [--quick] [--count N] [--runs R]
// Data: bench/photos_data.py (crops of scikit-learn's sample photos) under .dev/bench/photos-N. Models: TinyNet
// (bench/photos_python.py --export-tiny: decoding is all that costs) and the ResNet-18 bench model
// (scripts/train-demo-models --bench-model). Preprocessing on both sides: Resize(256), CenterCrop(224), [0, 1]
// pixels, no EXIF rotation (torchvision's loader applies none). Every measurement is its own process (this file with
// --child MODE), printed as a JSON line; rounds alternate the pipelines so that load from other work spreads
// evenly. Writes the section photos-bench of BENCHMARKS.md (.dev/BENCHMARKS.quick.md with --quick).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { warmPageCache } from './lib/fashion-mnist';
import { writeSection } from './lib/sections';
import { childMain, type Row } from './photos-child';

const root = path.resolve(__dirname, '..', '..');
const dev = path.join(root, '.dev', 'bench');
const PY = '/usr/bin/python3';
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');

function run(cmd: string, args: string[]): Row {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? cmd)} ${args.slice(1).join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const row = JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
  process.stdout.write(JSON.stringify(row) + '\n');
  return row;
}
const ours = (mode: string, args: string[]) => run(process.execPath, [__filename, '--child', mode, ...args]);
const python = (args: string[]) => run(PY, [path.join(root, 'bench', 'photos_python.py'), ...args]);

function ensureData(count: number): string {
  const out = path.join(dev, `photos-${count}`);
  run(PY, [path.join(root, 'bench', 'photos_data.py'), '--out', out, '--count', String(count)]);
  return out;
}

function ensureModels(): { tiny: string; resnet: string } {
  const tiny = path.join(dev, 'photos-tiny.onnx');
  if (!existsSync(tiny)) python(['--export-tiny', tiny]);
  const resnet = path.join(dev, 'resnet18.onnx');
  if (!existsSync(resnet)) spawnSync(PY, [path.join(root, 'scripts', 'train-demo-models'), '--bench-model', resnet], { encoding: 'utf8' });
  if (!existsSync(resnet)) throw new Error('the ResNet-18 bench model could not be exported (scripts/train-demo-models --bench-model)');
  return { tiny, resnet };
}

const median = (rows: Row[], key: string): Row => [...rows].sort((a, b) => Number(a[key]) - Number(b[key]))[Math.floor(rows.length / 2)];
const fmt = (v: unknown, d = 0) => (typeof v === 'number' ? v.toFixed(d) : String(v ?? '—'));
const ips = (r: Row) => Number(r.imagesPerSecond ?? r.images_per_second);
/** CPU milliseconds per image, all threads and worker processes together. */
const cpuMs = (r: Row) => (1000 * Number(r.cpuSeconds ?? r.cpu_seconds)) / Number(r.images);

async function main() {
  const count = Number(arg('--count') ?? (quick ? 600 : 6000));
  const rounds = Number(arg('--runs') ?? (quick ? 1 : 3));
  // Enough images that the model's load (about 2 s for ResNet-18 here) weighs little in the whole run.
  const resnetCount = quick ? 96 : 1500;
  const data = ensureData(count);
  const small = ensureData(resnetCount);
  const { tiny, resnet } = ensureModels();
  await warmPageCache(data);
  await warmPageCache(small);
  const split = (d: string) => ['--id', path.join(d, 'id'), '--ood', path.join(d, 'ood')];
  const loadBefore = os.loadavg()[0];

  // Tiny model: every pipeline once per round, in turn.
  const modes = { e2e: [] as Row[], e2eDraft: [] as Row[], decode: [] as Row[], decodeDraft: [] as Row[], py: [] as Row[], pyLoader: [] as Row[] };
  for (let r = 0; r < rounds; r++) {
    modes.py.push(python([...split(data), '--model', 'tiny']));
    modes.e2e.push(ours('e2e', ['--model', tiny, ...split(data)]));
    modes.pyLoader.push(python([...split(data), '--loader-only']));
    modes.e2eDraft.push(ours('e2e', ['--model', tiny, ...split(data), '--draft']));
    modes.decode.push(ours('decode', ['--model', tiny, ...split(data)]));
    modes.decodeDraft.push(ours('decode', ['--model', tiny, ...split(data), '--draft']));
  }
  const m = Object.fromEntries(Object.entries(modes).map(([k, rows]) => [k, median(rows, rows[0].imagesPerSecond !== undefined ? 'imagesPerSecond' : 'images_per_second')])) as Record<keyof typeof modes, Row>;

  // ResNet-18: the whole run beside the model alone on the same images, decoded beforehand.
  const big = { ceiling: [] as Row[], e2e: [] as Row[], e2eDraft: [] as Row[] };
  for (let r = 0; r < rounds; r++) {
    big.ceiling.push(ours('ceiling', ['--model', resnet, ...split(small), '--batch', '32']));
    big.e2e.push(ours('e2e', ['--model', resnet, ...split(small), '--batch', '32']));
    big.e2eDraft.push(ours('e2e', ['--model', resnet, ...split(small), '--batch', '32', '--draft']));
  }
  const b = Object.fromEntries(Object.entries(big).map(([k, rows]) => [k, median(rows, 'imagesPerSecond')])) as Record<keyof typeof big, Row>;
  const loadAfter = os.loadavg()[0];

  const versionOf = (pkg: string): string => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  const all = (rows: Row[]) => rows.map((r) => fmt(ips(r))).join(', ');
  // Images/s once scoring runs: from the first batch's outputs (32 images: the batch) to the last; phases are
  // seconds from the start.
  const steady = (r: Row) => {
    const p = r.phases as Record<string, number>;
    return (Number(r.images) - 32) / (p.scoring - p.loading);
  };
  /** The most a whole run can reach when decoding and the model share every core: the model's share of the CPU. */
  const bound = (decode: Row) => cpuMs(b.ceiling) / (cpuMs(b.ceiling) + cpuMs(decode));
  const vsPy = (r: Row) => `${fmt(ips(r) / ips(m.py), 2)}×`;
  const row = (name: string, r: Row) => `| ${name} | ${r.images} | ${fmt(r.seconds, 2)} | ${fmt(ips(r))} | ${vsPy(r)} | ${fmt(cpuMs(r), 1)} | ${fmt(r.peakRssMB ?? r.peak_rss_mb)} | ${fmt(r.auroc, 4)} |`;
  const lines = [
    '## Real photos: JPEG, 200–900 px',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} cores · Node ${process.version} · sharp ${versionOf('sharp')} · onnxruntime-node ${versionOf('onnxruntime-node')} · load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after${quick ? ' · QUICK RUN (small sizes, not representative)' : ''}`,
    '',
    `Made by \`node dist/bench/photos.js\` (bench/photos.ts). ${count} JPEG photos cut from scikit-learn's two sample photos (bench/photos_data.py: random crops rescaled to 200–900 px, quality 75–95, some 4:4:4, progressive, EXIF-tagged or gray), ID = 2 class folders, OOD = 1. Both pipelines: Resize(256), CenterCrop(224), ToTensor, EXIF ignored; Python: torchvision ImageFolder + DataLoader(num_workers=2, batch 64) with PIL, torch on the remaining core. Median of ${rounds} rounds, pipelines alternating (all runs, images/s — ours: ${all(modes.e2e)}; draft: ${all(modes.e2eDraft)}; Python: ${all(modes.py)}; Python loader: ${all(modes.pyLoader)}).`,
    '',
    '| pipeline (TinyNet, decoding is the cost) | images | seconds | images/s | vs Python | CPU ms/image | peak RSS (MB) | AUROC (MSP) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row("OOD Lens, whole run (exact: PIL's pixels)", m.e2e),
    row('OOD Lens, whole run, --jpeg-draft', m.e2eDraft),
    row('OOD Lens, decoding alone (exact)', m.decode),
    row('OOD Lens, decoding alone (--jpeg-draft)', m.decodeDraft),
    row('Python: ImageFolder + DataLoader + TinyNet + sklearn', m.py),
    row('Python: ImageFolder + DataLoader alone (read + resize)', m.pyLoader),
    '',
    `Whole run: **${fmt(ips(m.e2e) / ips(m.py), 2)}×** the Python pipeline exact, **${fmt(ips(m.e2eDraft) / ips(m.py), 2)}×** with --jpeg-draft (target ≥ 2×). In CPU time per image, which other work on the machine disturbs less: Python ${fmt(cpuMs(m.py), 1)} ms, ours ${fmt(cpuMs(m.e2e), 1)} ms exact (${fmt(cpuMs(m.py) / cpuMs(m.e2e), 2)}×), ${fmt(cpuMs(m.e2eDraft), 1)} ms draft (${fmt(cpuMs(m.py) / cpuMs(m.e2eDraft), 2)}×).`,
    '',
    `ResNet-18 (3×224×224, random weights), ${b.e2e.images} of the photos, batch 32, median of ${rounds} runs (all runs, images/s — ceiling: ${all(big.ceiling)}; whole run: ${all(big.e2e)}; draft: ${all(big.e2eDraft)}):`,
    '',
    '| ResNet-18 | images/s | vs ceiling | while scoring (after the first batch) | vs ceiling | start to first batch out (s) | CPU ms/image | peak RSS (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| ceiling: the model alone on decoded tensors, onnxruntime-node in one process, one thread per core | ${fmt(ips(b.ceiling), 1)} | 1.00× | — | — | — | ${fmt(cpuMs(b.ceiling), 1)} | ${fmt(b.ceiling.peakRssMB)} |`,
    ...([['OOD Lens, whole run (exact)', b.e2e], ['OOD Lens, whole run, --jpeg-draft', b.e2eDraft]] as const).map(([name, r]) =>
      `| ${name} | ${fmt(ips(r), 1)} | ${fmt(ips(r) / ips(b.ceiling), 2)}× | ${fmt(steady(r), 1)} | ${fmt(steady(r) / ips(b.ceiling), 2)}× | ${fmt((r.phases as Record<string, number>).loading, 1)} | ${fmt(cpuMs(r), 1)} | ${fmt(r.peakRssMB)} |`),
    '',
    `The whole run reaches **${fmt(ips(b.e2e) / ips(b.ceiling), 2)}×** the model-only ceiling exact, **${fmt(ips(b.e2eDraft) / ips(b.ceiling), 2)}×** with --jpeg-draft (target ≥ 0.90×); while scoring, ${fmt(steady(b.e2e) / ips(b.ceiling), 2)}× and ${fmt(steady(b.e2eDraft) / ips(b.ceiling), 2)}×. The ceiling keeps ${fmt(Number(b.ceiling.cpuSeconds) / Number(b.ceiling.seconds), 1)} of the ${os.availableParallelism()} cores busy, so every millisecond spent decoding is taken from the model: with the model at ${fmt(cpuMs(b.ceiling), 1)} ms of CPU per image and decoding at ${fmt(cpuMs(m.decode), 1)} ms exact (${fmt(cpuMs(m.decodeDraft), 1)} ms draft, the TinyNet rows: the same photos, the same preprocessing), a run on this machine can reach at most **${fmt(bound(m.decode), 2)}×** (${fmt(bound(m.decodeDraft), 2)}×) of the ceiling. With more cores than the model uses, the decoding threads run beside it instead.`,
  ];
  process.stdout.write('\n' + lines.join('\n') + '\n');
  writeSection(path.join(root, quick ? path.join('.dev', 'BENCHMARKS.quick.md') : 'BENCHMARKS.md'), 'photos-bench', lines.join('\n'));
}

if (process.argv.includes('--child')) childMain(arg('--child')!);
else {
  main().catch((e) => {
    process.stderr.write(`photos bench: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  });
}
