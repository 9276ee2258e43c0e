// The JSON report: a documented, versioned contract that CI scripts rely on (schema: schemas/report.schema.json).
// Conventions: every OOD score is "higher = more OOD"; AUROC/AUPR-Out take OOD as positive; AUPR is average
// precision; fpr95 is the fraction of OOD accepted at the threshold keeping 95% of ID (see docs in README).

import type { SelectiveMetrics } from '../metrics/selective';

export const REPORT_SCHEMA_VERSION = 1;

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
  temperature: number | null;
  scaled: { [metric: string]: unknown } | null;
  /** Reliability diagram bins (15 equal-width, (lo, hi]); `scaled.bins` holds the ones after scaling. */
  bins: ReliabilityBin[];
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
}

/** A richer calibration map fitted on the calibration split and evaluated on ID (it may change predictions). */
export interface CalibratorRow {
  model: string;
  method: 'vector_scaling' | 'matrix_scaling' | 'last_layer_refit';
  fittedOn: string;
  evaluatedOn: string;
  l2: number;
  optimizer: string;
  iterations: number;
  converged: boolean;
  before: CalibrationSummary;
  after: CalibrationSummary & { bins: ReliabilityBin[] };
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
  warnings: string[];
  [extra: string]: unknown;
}
