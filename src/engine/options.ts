import { availableParallelism } from 'node:os';
import { cpuQuota } from './inference/cores';
import type { ModelPlan, PreprocessHints } from './model/inspect';
import type { SplitPlan } from './run/plan';
import type { ConfiguredThreshold } from './operating-point';

export interface RunOptions {
  /** .onnx model files; empty when every split is precomputed (a folder holding logits.npy). */
  models: string[];
  /** In-distribution folder (ImageFolder or flat), or a folder with logits.npy [+ labels.npy, features.npy]. */
  id: string;
  /** OOD folders, `noise:N[:SEED]`, or precomputed folders. */
  ood?: string[];
  /** Class folders of the ID folder that form an OOD split named "holdout" instead. */
  holdout?: string[];
  calib?: string;
  fit?: string;
  batchSize?: number;
  executionProviders?: string[];
  /** Scores to compute: logit scores and registry methods (default: every one whose needs are met). */
  scores?: string[];
  /** Per OOD method, parameters over its defaults (`--param react.percentile=90`). */
  params?: Record<string, Record<string, number>>;
  /** Also compute the logit scores on W·shape(h) + b (ReAct clipping, ASH-S or SCALE), named `<score>+<shaping>`. */
  shaping?: 'react' | 'ash' | 'scale';
  eceBins?: number;
  histogramBins?: number;
  /** Miscoverage levels of the conformal sets (default [0.1]). */
  conformalAlpha?: number[];
  /** Fraction of ID samples the deployment threshold keeps (default 0.95). */
  keepFraction?: number;
  /** Deployment thresholds set by hand per model and score (oodlens.json `thresholds`): override keepFraction's. */
  thresholds?: ConfiguredThreshold[];
  /** Preprocessing and output overrides applied to every model (CLI flags, oodlens.json): above every file. */
  preprocess?: PreprocessHints;
  /** Preprocessing used when no flag or file of the model says otherwise (VS Code's oodLens.preprocess setting). */
  preprocessDefaults?: PreprocessHints;
  /** Bootstrap confidence intervals on OOD metrics (resamples; 0 = off). */
  bootstrap?: number;
  seed?: number;
  /** Images sharp decodes at once on the main thread (default 16): the few the decoding threads hand back. */
  decodeConcurrency?: number;
  /** Threads that read and decode files (default: one per core, at most 4). */
  decodeThreads?: number;
  /**
   * Preprocessed-image cache: each image's pixels at the model's input size, kept in `dir` (at most `maxBytes`,
   * least recently used data evicted), so a re-run over unchanged images does not decode them. Off when absent.
   */
  cache?: { dir: string; maxBytes: number };
  /**
   * Which models form the "ensemble": true (default) = all of them when there are two or more with the same
   * classes, false = none (models compared side by side), or a list of model names.
   */
  ensemble?: boolean | string[];
  /** Name for a precomputed (logits.npy) model. */
  precomputedName?: string;
  /** Outlier images (a folder, manifest or `noise:N[:SEED]`) collected for `onFeatures` only: never scored or reported. */
  outliers?: string;
  /** `attack:N[:member]` splits: stop at max softmax ≥ confidence (default 0.8) or after `steps` (default 300). */
  attack?: { confidence?: number; steps?: number };
}

export interface Progress {
  phase: 'listing' | 'loading' | 'attack' | 'scoring' | 'analysis' | 'done';
  split?: string;
  model?: string;
  done: number;
  total: number;
  imagesPerSecond: number;
}

export interface RunHooks {
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * Sees every batch's features (null without a feature tensor) and logits, of the fit and outlier splits too; the
   * buffers are reused after the call, so copy what is kept. When set, the fit split is always collected.
   */
  onFeatures?(model: ModelPlan, split: SplitPlan, features: Float32Array | null, logits: Float32Array, n: number, d: number, folderClass: Int32Array, offset: number): void;
}

export const DEFAULTS = {
  batchSize: 64,
  executionProviders: ['auto'],
  eceBins: 15,
  histogramBins: 30,
  keepFraction: 0.95,
  conformalAlpha: [0.1],
  decodeConcurrency: 16,
  /** Size cap of the preprocessed-image cache, in MiB. */
  cacheMaxMB: 2048,
  seed: 0,
} as const;

/**
 * One per core, at most 4 (the fast path is cheap enough that 4 threads saturate a disk). They share the cores with
 * inference, whose idle threads do not spin: on 2 cores, two decoding threads scored the JPEG photos 15–40 % faster
 * than one with either a tiny model or ResNet-18, and the 28×28 PNGs within the noise (bench/photos.ts runs).
 */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism(), cpuQuota()));
}
