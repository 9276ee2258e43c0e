// The JSON report: a documented, versioned contract that CI scripts rely on (schema: schemas/report.schema.json).
// Conventions: every OOD score is "higher = more OOD"; AUROC/AUPR-Out take OOD as positive; AUPR is average
// precision; fpr95 is the fraction of OOD accepted at the threshold keeping 95% of ID (see docs in README).

import type { SelectiveMetrics } from '../metrics/selective';
import type { SmoothReliability } from '../metrics/smooth-reliability';

export const REPORT_SCHEMA_VERSION = 2;

export type SplitRole = 'id' | 'ood' | 'calib' | 'fit';

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface SplitInfo {
  name: string;
  role: SplitRole;
  /** Folder path, `noise:N`, or `holdout:<id split>/<classes>`. */
  source: string;
  /** Samples scored (files that decoded and ran). */
  count: number;
  skipped: SkippedFile[];
  /** Class folder names seen in this split (ImageFolder layout), empty for a flat folder. */
  classes: string[];
}

/** The preprocessing applied to a model's images, and where each value came from. */
export interface PreprocessInfo {
  /** Before the crop: null = straight to the input size; `shorter` = the shorter side, aspect kept. */
  resize: { shorter: number } | { width: number; height: number } | null;
  /** [H, W]: the model's input size. */
  crop: [number, number];
  interpolation: string;
  cropRounding: 'round' | 'floor';
  rescale: number;
  mean: number[] | null;
  std: number[] | null;
  exif: boolean;
  /** JPEGs decoded with shrink-on-load and resampled by libvips (--jpeg-draft): close to PIL's pixels, not equal. */
  jpegDraft?: true;
  /** Field → flag, sidecar, metadata, huggingface, timm, setting, model or default. */
  sources: Record<string, string>;
}

export interface ModelInfo {
  name: string;
  path: string;
  executionProvider: string;
  classes: string[];
  input: { name: string; shape: (number | string)[]; layout: 'NCHW' | 'NHWC'; channels: number; height: number; width: number };
  /**
   * Tensors read: `logits` (when it is the input of a final Softmax, `logitsOf` names that output) and `features`
   * (`featuresSource`: a graph output named features, the input of the final linear layer, or --features-node;
   * `featuresPooled` when a spatial tensor was averaged over H×W). `lastLayer`: the node whose W, b serve ViM.
   */
  outputs: {
    logits: string;
    logitsOf?: string;
    features?: string;
    featuresSource?: 'output' | 'final-linear' | 'features-node';
    featuresPooled?: boolean;
    lastLayer?: { node: string; op: 'Gemm' | 'MatMul' } | null;
  };
  preprocess?: PreprocessInfo;
  /**
   * On an accelerator: the first batch also ran on CPU, and this is the largest |logit difference| (TF32 or float16
   * kernels of a GPU provider move logits by more than float32 rounding).
   */
  cpuCheck?: { maxAbsLogitDiff: number; samples: number };
  /**
   * For a model that named no normalization: accuracy on `samples` labelled ID images with [0, 1] pixels ('none'),
   * ImageNet and Inception mean/std; `suggest` when one beats [0, 1] by 10 points or more (the run warns).
   */
  normalizationCheck?: { samples: number; accuracy: { none: number; imagenet: number; inception: number }; suggest?: 'imagenet' | 'inception' | 'none' };
  /** Input element type and a batch size fixed in the graph, if any. */
  inputType?: 'float32' | 'float16' | 'uint8';
  fixedBatch?: number | null;
  /** 'probabilities' when the model's rows were detected as a distribution and converted with log(). */
  outputKind: 'logits' | 'probabilities';
  warnings: string[];
}

export interface SampleRow {
  path: string;
  split: string;
  /** Class index into the model's classes, or null when unlabelled / not a model class. */
  label: number | null;
  /** Per model: predicted class index (first argmax); null when the sample's outputs were not finite. */
  prediction: Record<string, number | null>;
  /** Per model: score name → value (higher = more OOD); null when not finite. */
  scores: Record<string, Record<string, number | null>>;
}

export interface OodRow {
  model: string;
  split: string;
  score: string;
  n_id: number;
  n_ood: number;
  auroc: number;
  aupr_in: number;
  aupr_out: number;
  fpr95: number;
  fpr95_threshold: number;
  [extra: string]: unknown;
}

export interface CalibrationRow {
  model: string;
  split: string;
  accuracy: number;
  ece: number;
  mce: number;
  nll: number;
  brier: number;
  /** SmoothECE (relplot 1.0.3) and its bandwidth σ; see README, Conventions. */
  smece: number;
  smece_bandwidth: number;
  /** Kumar et al.'s debiased l2 calibration error, 15 equal-mass bins. */
  ece_debiased: number;
  /** Gupta & Ramdas' top-label ECE, equal-width bins per predicted class. */
  ece_toplabel: number;
  temperature: number | null;
  /** The same metrics, bins and smooth curve after temperature scaling (fitted on the calibration split). */
  scaled: { [metric: string]: unknown } | null;
  /** Reliability diagram bins (15 equal-width, (lo, hi]); `scaled.bins` holds the ones after scaling. */
  bins: ReliabilityBin[];
  /** The smooth reliability curve at the smECE bandwidth, with its bootstrap band. */
  smooth: SmoothReliability;
  [extra: string]: unknown;
}

/** ROC and PR curves, exact metrics but points downsampled for drawing (≤ 1,000, FPR95 point kept). */
export interface CurveSet {
  model: string;
  split: string;
  score: string;
  /** ROC with OOD positive: x = FPR (ID flagged), y = TPR (OOD flagged). */
  roc: { fpr: number[]; tpr: number[] };
  /** PR with OOD positive: x = recall, y = precision. */
  pr: { recall: number[]; precision: number[] };
  /** The fpr95 operating point expressed on the ROC axes (OOD-positive): x = 0.05-ish ID flagged, y = 1 − fpr95. */
  fpr95Point: { fpr: number; tpr: number };
}

/** Histogram of one score for every split of one model, on shared bin edges. */
export interface HistogramSet {
  model: string;
  score: string;
  edges: number[];
  counts: Record<string, number[]>;
  /** Deployment threshold (keeps `keepFraction` of ID) drawn on the chart. */
  threshold: number | null;
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  accuracy: number | null;
  confidence: number | null;
  /**
   * Bröcker–Smith consistency band (5%, 95%) of the accuracy a perfectly calibrated model with these confidences would
   * show in this bin (1,000 seeded resamples); null for an empty bin. Absent on calibrator rows.
   */
  consistency_lo?: number | null;
  consistency_hi?: number | null;
}

export interface ThresholdRow {
  model: string;
  score: string;
  /** Fitted on this split alone (calib when present, else id). */
  fittedOn: string;
  keepFraction: number;
  threshold: number;
  /** Per split: fraction of its samples flagged OOD (score > threshold). */
  flagged: Record<string, number>;
  /**
   * For `entropy`: the same threshold on entropy min-max scaled to [0, 1] over the fitting split (the seed blog
   * post's form); the flagged fractions are the same because the scaling is monotone.
   */
  minMaxScaled?: { threshold: number; min: number; max: number };
  /**
   * 'config': the threshold was set by hand in oodlens.json `thresholds` (Use as deployment threshold), not by the
   * keepFraction rule; keepFraction is then the fraction of the fitting split it keeps.
   */
  source?: 'config';
}

export interface ProjectionSet {
  model: string;
  /** PCA of features, fitted on the ID split; points subsampled per split for drawing. */
  explainedVariance: [number, number];
  points: { split: string; x: number[]; y: number[]; index: number[] }[];
}

/** The ensemble's rule of thumb (flag when KL > factor × mean ID KL, or members disagree), counted per split. */
export interface EnsembleSummary {
  members: string[];
  klRule: { split: string; statistic: string; factor: number; threshold: number; n: number; kl: number; disagree: number; either: number }[];
}

export interface CalibrationSummary {
  n: number;
  accuracy: number;
  ece: number;
  ece_em: number;
  mce: number;
  classwise_ece: number;
  nll: number;
  brier: number;
  smece: number;
  smece_bandwidth: number;
  ece_debiased: number;
  ece_toplabel: number;
}

export type CalibratorMethod =
  | 'temperature_scaling' | 'vector_scaling' | 'matrix_scaling' | 'last_layer_refit'
  | 'dirichlet_odir' | 'ensemble_temperature' | 'histogram_binning' | 'isotonic';

/**
 * What a calibrator fitted, enough to apply it again (src/engine/calibration/apply.ts) or to write it into an ONNX
 * graph. Matrices are row-major [k][k]. Histogram edges are bin upper edges ((previous, edge], the last is 1);
 * isotonic x/y are the breakpoints of sklearn's piecewise-linear fit.
 */
export type CalibratorParameters =
  | { kind: 'temperature'; temperature: number }
  | { kind: 'vector'; a: number[]; c: number[] }
  | { kind: 'matrix'; A: number[][]; c: number[] }
  | { kind: 'dirichlet'; W: number[][]; b: number[] }
  | { kind: 'ensemble_temperature'; temperature: number; weights: [number, number, number]; classes: number }
  | { kind: 'histogram'; edges: number[]; values: number[] }
  | { kind: 'isotonic'; x: number[]; y: number[] };

/** LAC sets on the calibrator's probabilities: q̂ from the calibration split, measured on `evaluatedOn`. */
export interface CalibratorLac {
  alpha: number;
  /** +∞ (null in JSON) when the calibration split is too small for α. */
  qhat: number | null;
  n_calib: number;
  coverage: number;
  mean_set_size: number;
  empty_fraction: number;
  singleton_fraction: number;
  covgap: number;
}

/** A calibration map fitted on the calibration split and evaluated on ID (it may change predictions). */
export interface CalibratorRow {
  model: string;
  method: CalibratorMethod;
  fittedOn: string;
  evaluatedOn: string;
  /** λ of vector/matrix scaling and the last-layer refit (mean NLL + λ/2 ‖P − P₀‖²). */
  l2?: number;
  /** Other fixed settings: Dirichlet's ODIR λ and μ, histogram binning's bin count. */
  hyperparameters?: Record<string, number>;
  optimizer: string;
  iterations: number;
  converged: boolean;
  /** Top-label maps change only the predicted class's confidence (README, Conventions). */
  topLabel?: boolean;
  before: CalibrationSummary;
  after: CalibrationSummary & { bins: ReliabilityBin[] };
  /** Absent for the last-layer refit, and for k × k maps above 256 classes (report size). */
  parameters?: CalibratorParameters;
  /** Per α of the run; absent for top-label maps (LAC needs every class's probability). */
  lac?: CalibratorLac[];
}

/**
 * Selective prediction on a labelled split: accept the most confident samples first (ties together), the risk is
 * the error rate of what is accepted. `aurc` is fd-shifts' AURC (see README, Conventions).
 */
export interface SelectiveRow extends SelectiveMetrics {
  model: string;
  split: string;
  /** The confidence ranking the samples: 'msp' (max softmax probability). */
  confidence: string;
  /** The risk–coverage curve (one point per distinct confidence, full coverage first), at most 200 points kept. */
  curve: { coverage: number[]; risk: number[] };
}

/** Split conformal prediction sets, calibrated on the calibration split and evaluated on a labelled split. */
export interface ConformalRow {
  model: string;
  split: string;
  method: 'lac' | 'aps' | 'raps' | 'lac_classwise';
  alpha: number;
  /** null for lac_classwise (its per-class q̂ are in qhat_per_class); +∞ is written as null by JSON. */
  qhat: number | null;
  qhat_per_class?: (number | null)[];
  n_calib: number;
  n: number;
  coverage: number;
  mean_set_size: number;
  empty_fraction: number;
  singleton_fraction: number;
  covgap: number;
  per_class_coverage: (number | null)[];
  /** set_size_counts[s] = evaluated rows whose set has s classes, s = 0..K. */
  set_size_counts: number[];
}

/** One `attack:N[:member]` split: the search's outcome on its member, and what flags the attack inputs. */
export interface AttackRow {
  split: string;
  source: string;
  /** The attacked model. */
  member: string;
  count: number;
  seed: number;
  /** Success = the member's max softmax ≥ target. */
  target: number;
  /** Step budget, steps taken, model evaluations in all, and the search's wall time. */
  steps: number;
  stepsUsed: number;
  evaluations: number;
  seconds: number;
  cancelled: boolean;
  success: number;
  successRate: number;
  meanConfidence: number;
  /** Per model and score (members and ensemble): fraction of the attack inputs above the deployment threshold. */
  flagged: { model: string; score: string; threshold: number; fittedOn: string; fraction: number }[];
  /** The ensemble's "KL > 10× ID mean or disagree" rule on the attack inputs; null without an ensemble. */
  ensembleRule: { n: number; kl: number; disagree: number; either: number; fraction: number } | null;
}

/** One stage (before or after fine-tuning) on one split; null where the split has no labels or is not OOD. */
export interface FinetuneStage {
  accuracy: number | null;
  ece: number | null;
  meanEnergy: number;
  /** Energy AUROC / FPR95 against the ID split (test OOD splits only). */
  auroc: number | null;
  fpr95: number | null;
}

/** The averaged terms of the fine-tuning loss at one point. */
export interface FinetuneLoss {
  ce: number;
  energyIn: number;
  energyOut: number;
  total: number;
}

/** `ood-lens finetune`: energy-bounded fine-tuning of the last layer (Liu et al. 2020), before and after. */
export interface FinetuneReport {
  model: string;
  /** The written ONNX, or null when none was asked for. */
  out: string | null;
  fittedOn: string;
  /** Training outliers: never a test OOD split. */
  outliers: { source: string; count: number };
  nFit: number;
  nLabelled: number;
  lambda: number;
  T: number;
  l2: number;
  mIn: number;
  mOut: number;
  marginSource: { mIn: 'default' | 'given'; mOut: 'default' | 'given' };
  optimizer: string;
  iterations: number;
  converged: boolean;
  loss: { before: FinetuneLoss; after: FinetuneLoss };
  /** ‖W′ − W‖ / ‖W‖ (Frobenius). */
  weightChange: number;
  /** Largest |W·h + b − logits| over the collected samples (the features are the final layer's input). */
  layerCheck: number;
  /** Every split, fit and outliers included (their role says so; outliers get no AUROC). */
  splits: { split: string; role: string; n: number; before: FinetuneStage; after: FinetuneStage }[];
  /** Energy histograms of the report's splits, each stage on its own edges, with its deployment threshold. */
  histograms: { before: HistogramSet; after: HistogramSet };
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'ood-lens'; version: string };
  createdAt: string;
  durationMs: number;
  /** True when the run was cancelled: every row covers only what was scored before that. */
  partial: boolean;
  conventions: Record<string, string>;
  settings: Record<string, unknown>;
  models: ModelInfo[];
  splits: SplitInfo[];
  samples: SampleRow[];
  /** Set when the per-sample table went to a Parquet file (--samples): its path, relative to the JSON report; `samples` is then empty. */
  samplesFile?: string;
  ood: OodRow[];
  calibration: CalibrationRow[];
  curves: CurveSet[];
  histograms: HistogramSet[];
  thresholds: ThresholdRow[];
  projections: ProjectionSet[];
  ensemble?: EnsembleSummary;
  calibrators?: CalibratorRow[];
  selective?: SelectiveRow[];
  conformal?: ConformalRow[];
  attack?: AttackRow[];
  finetune?: FinetuneReport;
  warnings: string[];
  [extra: string]: unknown;
}
