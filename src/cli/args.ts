import { parseArgs } from 'node:util';
import { stripUndefined, type PreprocessHints } from '../engine/model/hint-sources';
import { parseParams } from '../engine/ood/choice';
import { METHOD_NAMES } from '../engine/ood/registry';
import { LOGIT_SCORES } from '../engine/scores/logit-scores';
import { UserError } from '../engine/util/errors';
import { DEFAULTS, type RunOptions } from '../engine/options';

/** Lines of at most `width` characters, indented by `indent`. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) lines.push(line), (line = word);
    else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].map((l) => ' '.repeat(indent) + l).join('\n');
}

export const USAGE = `Usage:
  ood-lens score --model M.onnx [--model M2.onnx ...] --id DIR [--ood DIR|noise:N ...] [--holdout A,B]
                 [--calib DIR] [--fit DIR] [--json OUT.json] [--html OUT.html] [--csv OUT.csv] [--config oodlens.json]
                 [--samples OUT.parquet [--samples-logits]] [--shard I/N --shard-out FILE.parquet]
  ood-lens merge SHARD.parquet ... [--json OUT.json] [--html OUT.html] [--csv OUT.csv] [--samples OUT.parquet]
  ood-lens calibrate --model M.onnx --calib DIR [--id DIR] --out M.calibrated.onnx [--json OUT.json]
                 [--calibrator NAME] [--prediction-set [--alpha A]]
  ood-lens finetune --model M.onnx --fit DIR --outliers DIR|noise:N:SEED [--id DIR] [--ood DIR ...] [--calib DIR]
                 --out M.energy.onnx [--lambda 0.1] [--m-in E --m-out E] [--l2 0.1] [--json OUT.json]
  ood-lens demo [--out DIR]          score the bundled demo (examples/demo) and write its reports
  ood-lens --version | --help

Options for score and calibrate:
  --batch-size N          images per inference batch (default 64)
  --ep LIST               execution providers in order of preference, e.g. cuda,cpu (default auto: DirectML on
                          Windows, CoreML on macOS, CUDA when installed, then CPU)
  --scores LIST           scores to compute (default: every one the model and the run allow). Logit scores:
                          ${LOGIT_SCORES.join(', ')}. Methods (features, last layer, --fit):
${wrap(METHOD_NAMES.join(', '), 26, 112)}
  --param M.KEY=V         a method's parameter over its default, e.g. knn.k=100 (repeatable)
  --shaping react|ash|scale   also compute the logit scores on W·shape(h) + b, as <score>+<shaping>
                          (energy+react is ReAct; the method's percentile applies)
  --size HxW              input size for models with a dynamic one
  --layout NCHW|NHWC      override the input layout guessed from the shape
  --resize N              resize the shorter side to N (aspect kept), then centre-crop (torchvision Resize(N))
  --crop H[xW]            centre crop: the model's input size (needed for dynamic sizes)
  --crop-pct F            timm's crop_pct: resize to floor(size / F), then crop
  --interpolation NAME    bilinear (default), bicubic, nearest, lanczos, box, hamming: PIL's filters
  --preset NAME           imagenet, inception, clip (mean/std, clip also bicubic) or none
  --mean LIST --std LIST  per-channel normalization after scaling to [0,1] (default none)
  --exif on|off           apply EXIF orientation (default on; torchvision's ImageFolder loader does not)
  --jpeg-draft            JPEGs: decode at 1/2-1/8 scale when at least twice the resize target and resample
                          with libvips: faster, not PIL's exact pixels (mean |Δ| ~1 level; see README, Photos)
  --fit-mode stretch|center-crop   legacy: stretch to the input size (default) or shorter side + crop
  --logits-output NAME    output holding the logits (default "logits", else the single 2-D output)
  --features-node NAME    tensor used as features (default: output "features", else the input of the
                          final linear layer; spatial tensors are averaged over H×W)
  --label-map FILE        class folder → class index or name (JSON object or two-column CSV)
  --keep F                fraction of ID kept by the deployment threshold (default 0.95)
  --alpha LIST            miscoverage levels of the conformal sets, e.g. 0.1,0.05 (default 0.1; needs --calib)
  --bootstrap N           bootstrap confidence intervals with N resamples (default off)
  --ece-bins N            reliability bins (default 15)
  --ensemble LIST|none    which models form the ensemble (default: all, when 2+ share classes)
  --ood attack:N[:MODEL]  N inputs searched from noise (random search) until MODEL (name or index from 0; default
                          the first) has max softmax ≥ --attack-confidence (0.8), at most --attack-steps (300)
  --seed N                seed of the attack search and the bootstrap (default 0)
  finetune: --lambda (0.1), --m-in/--m-out (default: the fit split's 95th energy percentile, and 5 above it),
                          --l2 (0.1: pull toward the trained W), --energy-t (1); see README
  --cache DIR             keep each image's preprocessed pixels in DIR: a re-run over unchanged images (a
                          retrained model, the same preprocessing) reads them instead of decoding (default off)
  --cache-max-mb N        size cap of the cache; least recently used data goes first (default 2048)
  calibrate: --calibrator NAME  the calibrator folded into --out (default temperature_scaling; also vector_scaling,
                          matrix_scaling, dirichlet_odir, ensemble_temperature, histogram_binning, isotonic);
                          --prediction-set adds the LAC output prediction_set at the one --alpha (default 0.1)
  --quiet                 no progress bar

Datasets: a folder (ImageFolder layout or flat), or a CSV/TSV/JSONL/Parquet manifest with path [, label, split]
columns (FILE.csv#split=NAME takes the rows of one split). Outputs computed elsewhere replace the model: a folder
with logits.npy [+ labels.npy, features.npy], or a Parquet file with a logits list column [+ features, label, path,
split].

Output and clusters:
  --samples OUT.parquet   the per-sample table as Parquet (the JSON report then points to it); --samples-logits
                          adds each model's logits as a list column
  --shard I/N --shard-out FILE.parquet   score the I-th of N slices of every split (I from 0, whole batches) and
                          write a shard file instead of a report; ood-lens merge SHARD... builds the single run's
                          report from all N (every number equal)

Conventions: every score is higher = more OOD; AUROC and AUPR-Out take OOD as positive; fpr95 is the fraction
of OOD accepted at the threshold keeping 95% of ID. Exit codes: 0 ok, 1 error, 2 a quality gate failed,
130 cancelled (a partial report is still written).`;

export interface CliArgs {
  command: 'score' | 'calibrate' | 'finetune' | 'demo' | 'merge' | 'help' | 'version';
  models: string[];
  id?: string;
  ood: string[];
  holdout?: string[];
  calib?: string;
  fit?: string;
  json?: string;
  html?: string;
  csv?: string;
  /** --samples OUT.parquet, with --samples-logits the logits as list columns. */
  samples?: string;
  samplesLogits?: boolean;
  /** --shard I/N: this process scores the I-th of N slices (I from 0) and writes shardOut instead of a report. */
  shard?: { index: number; count: number };
  shardOut?: string;
  /** merge: the shard files. */
  shardFiles: string[];
  out?: string;
  /** calibrate: the calibrator written to --out, and whether LAC prediction sets are folded in. */
  calibrator?: string;
  predictionSet: boolean;
  config?: string;
  batchSize?: number;
  executionProviders?: string[];
  scores?: string[];
  params?: Record<string, Record<string, number>>;
  shaping?: 'react' | 'ash' | 'scale';
  conformalAlpha?: number[];
  keepFraction?: number;
  bootstrap?: number;
  eceBins?: number;
  ensemble?: boolean | string[];
  preprocess: PreprocessHints;
  /** --cache DIR and --cache-max-mb N (see cacheOption). */
  cache?: string;
  cacheMaxMB?: number;
  /** finetune: the training outliers and the loss's settings. */
  outliers?: string;
  finetune: { lambda?: number; mIn?: number; mOut?: number; l2?: number; T?: number };
  attack?: { confidence?: number; steps?: number };
  seed?: number;
  quiet: boolean;
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function num(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UserError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return n;
}

function numList(name: string, v: string | undefined): number[] | undefined {
  return list(v)?.map((x) => num(name, x, false)!);
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', multiple: true },
        id: { type: 'string' },
        ood: { type: 'string', multiple: true },
        holdout: { type: 'string' },
        calib: { type: 'string' },
        fit: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        csv: { type: 'string' },
        samples: { type: 'string' },
        'samples-logits': { type: 'boolean', default: false },
        shard: { type: 'string' },
        'shard-out': { type: 'string' },
        out: { type: 'string' },
        calibrator: { type: 'string' },
        'prediction-set': { type: 'boolean', default: false },
        config: { type: 'string' },
        'batch-size': { type: 'string' },
        ep: { type: 'string' },
        scores: { type: 'string' },
        size: { type: 'string' },
        layout: { type: 'string' },
        'fit-mode': { type: 'string' },
        mean: { type: 'string' },
        std: { type: 'string' },
        'logits-output': { type: 'string' },
        'features-output': { type: 'string' },
        'features-node': { type: 'string' },
        resize: { type: 'string' },
        crop: { type: 'string' },
        'crop-pct': { type: 'string' },
        interpolation: { type: 'string' },
        preset: { type: 'string' },
        exif: { type: 'string' },
        'jpeg-draft': { type: 'boolean' },
        'label-map': { type: 'string' },
        param: { type: 'string', multiple: true },
        shaping: { type: 'string' },
        alpha: { type: 'string' },
        keep: { type: 'string' },
        bootstrap: { type: 'string' },
        'ece-bins': { type: 'string' },
        ensemble: { type: 'string' },
        cache: { type: 'string' },
        'cache-max-mb': { type: 'string' },
        outliers: { type: 'string' },
        lambda: { type: 'string' },
        'm-in': { type: 'string' },
        'm-out': { type: 'string' },
        l2: { type: 'string' },
        'energy-t': { type: 'string' },
        'attack-confidence': { type: 'string' },
        'attack-steps': { type: 'string' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]} (see ood-lens --help)`);
  }
  const v = parsed.values;
  const cmd = parsed.positionals[0];
  const command = v.help ? 'help' : v.version ? 'version' : cmd === undefined ? 'help' : cmd;
  if (!['score', 'calibrate', 'finetune', 'demo', 'merge', 'help', 'version'].includes(command)) throw new UserError(`Unknown command "${command}" (see ood-lens --help)`);
  if (command !== 'merge' && parsed.positionals.length > 1) throw new UserError(`Unexpected argument "${parsed.positionals[1]}" (see ood-lens --help)`);
  const preprocess: PreprocessHints = {};
  if (v.size) {
    const m = /^(\d+)x(\d+)$/i.exec(v.size);
    if (!m) throw new UserError(`--size expects HxW, e.g. 224x224, got "${v.size}"`);
    preprocess.height = Number(m[1]);
    preprocess.width = Number(m[2]);
  }
  if (v.layout) {
    if (v.layout !== 'NCHW' && v.layout !== 'NHWC') throw new UserError(`--layout expects NCHW or NHWC, got "${v.layout}"`);
    preprocess.layout = v.layout;
  }
  if (v['fit-mode']) {
    if (v['fit-mode'] !== 'stretch' && v['fit-mode'] !== 'center-crop') throw new UserError(`--fit-mode expects stretch or center-crop`);
    preprocess.fit = v['fit-mode'];
  }
  if (v.mean) preprocess.mean = numList('mean', v.mean);
  if (v.std) preprocess.std = numList('std', v.std);
  if (preprocess.std?.some((s) => s === 0)) throw new UserError('--std values must be non-zero');
  if (v['logits-output']) preprocess.logits = v['logits-output'];
  const features = v['features-node'] ?? v['features-output'];
  if (features) preprocess.features = features;
  Object.assign(preprocess, resizeFlags(v));
  if (v['label-map']) preprocess.labelMap = v['label-map'];
  return {
    command: command as CliArgs['command'],
    models: v.model ?? [],
    id: v.id,
    ood: v.ood ?? [],
    holdout: list(v.holdout),
    calib: v.calib,
    fit: v.fit,
    json: v.json,
    html: v.html,
    csv: v.csv,
    samples: parquetPath('samples', v.samples),
    samplesLogits: v['samples-logits'] ?? false,
    shard: shardSpec(v.shard, v['shard-out']),
    shardOut: v['shard-out'] && parquetPath('shard-out', v['shard-out']),
    shardFiles: command === 'merge' ? parsed.positionals.slice(1) : [],
    out: v.out,
    calibrator: v.calibrator,
    predictionSet: v['prediction-set'] ?? false,
    config: v.config,
    batchSize: num('batch-size', v['batch-size'], true),
    executionProviders: list(v.ep),
    scores: list(v.scores),
    params: v.param ? parseParams(v.param) : undefined,
    shaping: oneOf('shaping', v.shaping, ['react', 'ash', 'scale'] as const),
    conformalAlpha: numList('alpha', v.alpha),
    keepFraction: num('keep', v.keep, false),
    bootstrap: num('bootstrap', v.bootstrap, true),
    eceBins: num('ece-bins', v['ece-bins'], true),
    ensemble: v.ensemble === undefined ? undefined : v.ensemble === 'none' ? false : list(v.ensemble),
    preprocess: stripUndefined(preprocess),
    cache: v.cache,
    cacheMaxMB: positive('cache-max-mb', num('cache-max-mb', v['cache-max-mb'], true)),
    outliers: v.outliers,
    finetune: stripUndefined({ lambda: num('lambda', v.lambda, false), mIn: num('m-in', v['m-in'], false), mOut: num('m-out', v['m-out'], false), l2: num('l2', v.l2, false), T: num('energy-t', v['energy-t'], false) }),
    attack: v['attack-confidence'] || v['attack-steps'] ? stripUndefined({ confidence: num('attack-confidence', v['attack-confidence'], false), steps: num('attack-steps', v['attack-steps'], true) }) : undefined,
    seed: num('seed', v.seed, true),
    quiet: v.quiet ?? false,
  };
}

function positive(name: string, n: number | undefined): number | undefined {
  if (n !== undefined && n < 1) throw new UserError(`--${name} expects a positive integer, got ${n}`);
  return n;
}

/** The run's cache: --cache over the config's, --cache-max-mb over the config's cap. */
export function cacheOption(args: Pick<CliArgs, 'cache' | 'cacheMaxMB'>, config: RunOptions['cache']): RunOptions['cache'] {
  const dir = args.cache ?? config?.dir;
  if (!dir) {
    if (args.cacheMaxMB !== undefined) throw new UserError('--cache-max-mb needs --cache DIR');
    return undefined;
  }
  return { dir, maxBytes: args.cacheMaxMB !== undefined ? args.cacheMaxMB * 2 ** 20 : config?.maxBytes ?? DEFAULTS.cacheMaxMB * 2 ** 20 };
}

function parquetPath(flag: string, v: string | undefined): string | undefined {
  if (v !== undefined && !/\.parquet$/i.test(v)) throw new UserError(`--${flag} expects a .parquet file, got "${v}"`);
  return v;
}

/** `I/N` with 0 ≤ I < N, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX counts. */
function shardSpec(v: string | undefined, out: string | undefined): CliArgs['shard'] {
  if (v === undefined) {
    if (out !== undefined) throw new UserError('--shard-out needs --shard I/N');
    return undefined;
  }
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UserError(`--shard expects I/N with 0 ≤ I < N (I counted from 0), got "${v}"`);
  if (!out) throw new UserError('--shard needs --shard-out FILE.parquet (where this slice\'s outputs go)');
  return { index: Number(m[1]), count: Number(m[2]) };
}

const INTERPOLATIONS = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const;
const PRESET_NAMES = ['imagenet', 'inception', 'clip', 'none'] as const;

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UserError(`--${name} expects ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** --resize, --crop, --crop-pct, --interpolation, --preset, --exif, --jpeg-draft. */
function resizeFlags(v: Record<string, string | boolean | string[] | undefined>): PreprocessHints {
  const str = (k: string) => v[k] as string | undefined;
  const out: PreprocessHints = {};
  const resize = num('resize', str('resize'), true);
  if (resize !== undefined) {
    if (resize < 1) throw new UserError('--resize expects a positive integer');
    out.resize = resize;
  }
  const crop = str('crop');
  if (crop !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/i.exec(crop);
    if (!m || Number(m[1]) < 1) throw new UserError(`--crop expects H or HxW, e.g. 224 or 224x192, got "${crop}"`);
    out.crop = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  const cropPct = num('crop-pct', str('crop-pct'), false);
  if (cropPct !== undefined) {
    if (!(cropPct > 0 && cropPct <= 1)) throw new UserError(`--crop-pct expects a number in (0, 1], got ${cropPct}`);
    out.cropPct = cropPct;
  }
  out.interpolation = oneOf('interpolation', str('interpolation'), INTERPOLATIONS);
  out.preset = oneOf('preset', str('preset'), PRESET_NAMES);
  const exif = oneOf('exif', str('exif'), ['on', 'off']);
  if (exif) out.exif = exif === 'on';
  if (v['jpeg-draft']) out.jpegDraft = true;
  return out;
}
