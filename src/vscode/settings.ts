// `oodLens.*` settings, read when they are used so a change applies to the next run.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunOptions } from '../engine/run';
import type { PreprocessHints } from '../engine/model/hint-sources';

export const SECTION = 'oodLens';

export type RunDefaults = Pick<RunOptions, 'executionProviders' | 'batchSize' | 'scores' | 'histogramBins' | 'eceBins' | 'keepFraction' | 'preprocessDefaults'>;

export function runDefaults(): RunDefaults {
  const c = vscode.workspace.getConfiguration(SECTION);
  const scores = c.get<string[]>('defaultScores', []);
  return {
    executionProviders: c.get<string[]>('executionProviders', ['auto']),
    batchSize: c.get<number>('batchSize', 64),
    scores: scores.length > 0 ? scores : undefined,
    histogramBins: c.get<number>('histogramBins', 30),
    eceBins: c.get<number>('eceBins', 15),
    keepFraction: c.get<number>('keepFraction', 0.95),
    preprocessDefaults: c.get<PreprocessHints>('preprocess', {}),
  };
}

/** A config file says exactly what runs; settings only fill what it leaves out. */
export function withDefaults(options: RunOptions, defaults: RunDefaults = runDefaults()): RunOptions {
  const out: RunOptions = { ...options };
  for (const [k, v] of Object.entries(defaults) as [keyof RunDefaults, unknown][]) {
    if (out[k] === undefined && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export const decorationsEnabled = (): boolean => vscode.workspace.getConfiguration(SECTION).get<boolean>('decorations.enabled', true);
export const watchEnabled = (): boolean => vscode.workspace.getConfiguration(SECTION).get<boolean>('watch.enabled', false);
/** Reports kept in .oodlens/reports besides latest.json (0: none). */
export const historyKeep = (): number => vscode.workspace.getConfiguration(SECTION).get<number>('history.keep', 20);

/**
 * The preprocessed-image cache of a workspace folder, `.oodlens/cache`, capped by oodLens.cache.maxSizeMB (0 turns
 * it off): a re-run (watch mode after a re-export, or the same folders again) reads pixels instead of decoding.
 */
export function workspaceCache(folder: string | undefined): RunOptions['cache'] {
  const mb = vscode.workspace.getConfiguration(SECTION).get<number>('cache.maxSizeMB', 2048);
  return folder && mb > 0 ? { dir: path.join(folder, '.oodlens', 'cache'), maxBytes: mb * 2 ** 20 } : undefined;
}
