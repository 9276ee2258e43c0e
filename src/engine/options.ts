import { availableParallelism } from 'node:os';
import type { PreprocessHints } from './model/inspect';

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
  /** Preprocessing and output overrides applied to every model (CLI flags, oodlens.json): above every file. */
  preprocess?: PreprocessHints;
  /** Preprocessing used when no flag or file of the model says otherwise (VS Code's oodLens.preprocess setting). */
  preprocessDefaults?: PreprocessHints;
  /** Bootstrap confidence intervals on OOD metrics (resamples; 0 = off). */
  bootstrap?: number;
  seed?: number;
  /** Images sharp decodes concurrently on libuv threads (default 16); the formats the decoding threads leave. */
  decodeConcurrency?: number;
  /** Threads that read and decode files (default: one per core but one, at most 4). */
  decodeThreads?: number;
  /**
   * Which models form the "ensemble": true (default) = all of them when there are two or more with the same
   * classes, false = none (models compared side by side), or a list of model names.
   */
  ensemble?: boolean | string[];
  /** Name for a precomputed (logits.npy) model. */
  precomputedName?: string;
}

export interface Progress {
  phase: 'listing' | 'loading' | 'scoring' | 'analysis' | 'done';
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
}

export const DEFAULTS = {
  batchSize: 64,
  executionProviders: ['auto'],
  eceBins: 15,
  histogramBins: 30,
  keepFraction: 0.95,
  conformalAlpha: [0.1],
  decodeConcurrency: 16,
  seed: 0,
} as const;

/** One core is left for the main thread and inference; the fast path is cheap enough that 4 threads saturate a disk. */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
