// The `imagenet-bench` section of BENCHMARKS.md, from the measurements bench/imagenet.ts saved.

export type Row = Record<string, unknown> & { images: number; seconds: number; imagesPerSecond: number; peakRssMB: number; cpuSeconds: number; load: number };

export interface ImagenetResults {
  /** ISO time of the start, the machine in words, the 1-minute load average at the start. */
  started: string;
  machine: string;
  loadStart: number;
  arch: string;
  count: number;
  quick: boolean;
  synthetic: number;
  e2e: Row;
  e2eSmall: Row;
  /** Model alone (one thread per physical core) and decoding alone, before and after the end-to-end runs. */
  ceilings: Row[];
  decodes: Row[];
  f16: Row;
  f16Synthetic: Row;
}

const fmt = (v: unknown, d = 0) => (typeof v === 'number' ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(v));
const msPerImage = (r: Row) => (1000 * r.cpuSeconds) / r.images;
const mean = (xs: number[]) => xs.reduce((x, y) => x + y) / xs.length;

/** Metrics of the report compared between float32 and float16 logits: [column, key in imagenet-f16's maxDiff]. */
const F16_METRICS = [
  ['AUROC', 'ood.auroc'], ['AUPR-In', 'ood.aupr_in'], ['AUPR-Out', 'ood.aupr_out'], ['FPR95', 'ood.fpr95'],
  ['accuracy', 'calibration.accuracy'], ['ECE', 'calibration.ece'], ['smECE', 'calibration.smece'], ['NLL', 'calibration.nll'],
  ['Brier', 'calibration.brier'], ['AURC', 'selective.aurc'], ['T', 'calibration.temperature'], ['ECE after T', 'calibration.scaled.ece'],
] as const;

function f16Row(label: string, r: Row): string {
  const d = r.maxDiff as Record<string, number>;
  const l = r.logits as { lo: number; hi: number; rows: number; flips: number };
  const cells = F16_METRICS.map(([, key]) => (key in d ? (d[key] === 0 ? '0' : d[key].toExponential(1)) : '—'));
  return `| ${label}, logits in [${l.lo.toFixed(1)}, ${l.hi.toFixed(1)}] | ${cells.join(' | ')} | ${fmt(l.flips)} of ${fmt(l.rows)} |`;
}

function timeTable(r: ImagenetResults): string[] {
  const rows: [string, Row][] = [
    ['end to end: folders → scores, metrics, JSON report', r.e2e],
    ['end to end, smaller run', r.e2eSmall],
    [`model alone (ceiling), before the runs: pre-decoded tensors, onnxruntime-node, ${r.ceilings[0].threads} threads`, r.ceilings[0]],
    ['model alone (ceiling), after the runs', r.ceilings[1]],
    ['decode alone, before: read + decode + resize + crop + normalize, decoding threads', r.decodes[0]],
    ['decode alone, after', r.decodes[1]],
  ];
  return [
    '| measurement | images | seconds | images/s | CPU ms per image | load during | peak RSS (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(([name, x]) => `| ${name} | ${fmt(x.images)} | ${fmt(x.seconds, 1)} | ${fmt(x.imagesPerSecond, 1)} | ${fmt(msPerImage(x), 1)} | ${fmt(x.load, 1)} | ${fmt(x.peakRssMB)} |`),
  ];
}

function whereTime(r: ImagenetResults): string {
  const ph = r.e2e.phases as Record<string, number>;
  const scoring = ph.scoring - ph.loading;
  const [model, decode, run] = [mean(r.ceilings.map(msPerImage)), mean(r.decodes.map(msPerImage)), msPerImage(r.e2e)];
  const rates = (rows: Row[]) => rows.map((x) => fmt(x.imagesPerSecond, 1)).join(' and ');
  const busy = (rows: Row[]) => fmt(mean(rows.map((x) => x.cpuSeconds / x.seconds)), 1);
  const bound = model / (model + decode);
  return `**Where the time goes** (the ${fmt(r.count)}-image run, ${fmt(ph.write)} s): listing the folders and loading the model ${fmt(ph.loading, 1)} s; decoding and inference, pipelined, ${fmt(scoring, 1)} s at ${fmt(r.count / scoring, 1)} images/s, **${fmt(r.count / scoring / mean(r.ceilings.map((x) => x.imagesPerSecond)), 2)}×** the model-only ceiling (${rates(r.ceilings)} images/s before and after); scores, metrics, calibration and report ${fmt(ph.analysis - ph.scoring, 1)} s; writing the JSON report ${fmt(ph.write - ph.analysis, 1)} s. CPU time per image (means of the before and after rows): the model alone ${fmt(model, 1)} ms, decoding alone ${fmt(decode, 1)} ms, together ${fmt(model + decode, 1)} ms, and the whole run ${fmt(run, 1)} ms. The model alone keeps ${busy(r.ceilings)} cores busy, so on this machine every millisecond of decoding is taken from it: the most a run can reach is the model's share of the CPU, ${fmt(bound, 2)}× the ceiling. With more cores than the model uses, decoding runs beside it instead.`;
}

function memory(r: ImagenetResults): string {
  const [big, small] = [r.e2e, r.e2eSmall];
  const perSample = ((big.peakRssMB - small.peakRssMB) * 2 ** 20) / (big.images - small.images);
  const kept = (Number(big.retainedBytes) - Number(small.retainedBytes)) / (big.images - small.images);
  const fixedMB = (Number(big.retainedBytes) - kept * big.images) / 2 ** 20;
  const millionGB = (big.peakRssMB * 2 ** 20 + perSample * (1e6 - big.images)) / 2 ** 30;
  return `**Memory per sample** with 1,000 classes: peak RSS grows by **${fmt(perSample)} bytes per sample** from ${fmt(small.images)} to ${fmt(big.images)} images, of which the logits kept as float32 are 4,000 (1,000 × 4 bytes, one model; float16 would keep 2,000). What the finished report holds in the main thread (after a full garbage collection) grows by ${fmt(kept)} bytes per sample, on top of ${fmt(fixedMB)} MB that do not depend on the count. At this slope 1,000,000 images would peak at about ${fmt(millionGB, 1)} GB (not measured).`;
}

/** The largest differences among the values the table leaves out (reliability bins, thresholds, counts…). */
function otherDiffs(r: Row): string {
  const shown = new Set<string>(F16_METRICS.map(([, key]) => key));
  const rest = Object.entries(r.maxDiff as Record<string, number>).filter(([k, v]) => !shown.has(k) && v > 0).sort((x, y) => y[1] - x[1]);
  return rest.slice(0, 4).map(([k, v]) => `\`${k}\` ${Number.isInteger(v) ? v : v.toExponential(1)}`).join(', ');
}

export function renderImagenet(r: ImagenetResults): string[] {
  const model = r.arch === 'resnet50' ? 'ResNet-50' : 'ResNet-18';
  return [
    `## ImageNet-sized run: ${fmt(r.count)} JPEG photos, 1,000 classes, ${model}${r.quick ? ' (QUICK RUN, not representative)' : ''}`,
    '',
    `${r.started.slice(0, 16).replace('T', ' ')} UTC · ${r.machine} · 1-minute load average ${fmt(r.loadStart, 1)} at the start; the mean during each measurement is in the table.`,
    '',
    `Made by \`node dist/bench/imagenet.js\` (bench/imagenet.ts). Images: bench/imagenet_data.py, crops of scikit-learn's two sample photos rescaled to 300–600 px on the longer side, flipped, colour-jittered, JPEG quality 75–95; 90 % in 1,000 class folders (\`id\`), 10 % with permuted colour channels (\`ood\`). Model: torchvision \`${r.arch}\` with 1,000 classes and random seeded weights (bench/imagenet_model.py; throughput and memory do not depend on the weights, its metrics are meaningless), scored as \`ood-lens score --preset imagenet --resize 256 --crop 224\` (bilinear Resize(256), CenterCrop(224), ImageNet mean/std), batch 64, every default score (the engine finds the final layer and adds GradNorm, ASH and SCALE). Each row is one process. CPU time counts every thread of the process during the timed part: it depends less on the other jobs than the wall time does.`,
    '',
    ...timeTable(r),
    '',
    whereTime(r),
    '',
    memory(r),
    '',
    '**Float16 logits** (`--store-logits f16` is not implemented; this measures what it would change). The same report built from precomputed logits as they are (float32) and rounded to float16 (round to nearest even), by bench/imagenet-f16.ts: the largest absolute difference of each metric over every row (each score × OOD split), and how many predictions (first argmax) changed. Temperature scaling (T) and the calibrators are fitted on a calibration split: for the logits of this run the ID logits of the smaller run, for the synthetic ones their 1,000-row fit split.',
    '',
    `| logits | ${F16_METRICS.map(([c]) => c).join(' | ')} | predictions changed |`,
    `|---|${F16_METRICS.map(() => '---:|').join('')}---:|`,
    f16Row(`this run's (${fmt(r.count)} × 1,000; random weights, accuracy ${fmt(r.f16.accuracy, 3)})`, r.f16),
    f16Row(`synthetic, trained-like (bench/features_data.py, d = 256; ${fmt(r.synthetic)} ID + ${fmt(r.synthetic)} OOD + 1,000 calibration × 1,000, accuracy ${fmt(r.f16Synthetic.accuracy, 3)})`, r.f16Synthetic),
    '',
    `Largest differences of the other values (reliability bins and curves left out): this run's ${otherDiffs(r.f16)}; synthetic ${otherDiffs(r.f16Synthetic)}.`,
  ];
}
