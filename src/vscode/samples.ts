// Per-sample facts the host needs outside the webview: where a sample's file is, and whether the deployment
// threshold flags it. Pure: no vscode import.
import { isAbsolute, resolve } from 'node:path';
import type { Report } from '../engine/report/types';
import { headlineModel, headlineScore } from '../shared/headline';

/** Noise samples have no file. Relative paths are relative to the folder the run was started from. */
export function sampleFile(path: string, baseDir: string | undefined): string | undefined {
  if (/^noise:/.test(path)) return undefined;
  if (isAbsolute(path)) return resolve(path);
  return baseDir === undefined ? undefined : resolve(baseDir, path);
}

/** Folders that hold the report's images (for localResourceRoots). */
export function splitFolders(report: Pick<Report, 'splits'>, baseDir: string | undefined): string[] {
  const out = new Set<string>();
  for (const s of report.splits) {
    const f = /^(noise|holdout):/.test(s.source) ? undefined : sampleFile(s.source, baseDir);
    if (f) out.add(f);
  }
  return [...out];
}

/** `configured`: the threshold was set in oodlens.json (Use as deployment threshold), not by keepFraction. */
export interface Flag { model: string; score: string; value: number; threshold: number; split: string; configured: boolean }

/** Samples whose headline score is above the headline model's deployment threshold, by absolute file path. */
export function flaggedSamples(report: Report, baseDir: string | undefined): Map<string, Flag> {
  const flags = new Map<string, Flag>();
  const model = headlineModel(report);
  const score = headlineScore(report, model);
  const row = report.thresholds.find((t) => t.model === model && t.score === score);
  if (!model || !score || !row) return flags;
  for (const s of report.samples) {
    const value = s.scores[model]?.[score];
    if (typeof value !== 'number' || !(value > row.threshold)) continue;
    const file = sampleFile(s.path, baseDir);
    if (file) flags.set(file, { model, score, value, threshold: row.threshold, split: s.split, configured: row.source === 'config' });
  }
  return flags;
}
