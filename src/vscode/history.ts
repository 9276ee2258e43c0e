// The VS Code side of the run history: every finished run is kept in its reports folder (oodLens.history.keep), and
// a report opened from latest.json finds its place among the kept runs. A history that cannot be written costs the
// Δ and the trend, never the run.
import * as path from 'node:path';
import type { GateResult } from '../engine/gates';
import type { HistoryContext } from '../engine/history/types';
import type { Report } from '../engine/report/types';
import { historyKeep } from './settings';

export interface KeepRequest {
  reportDir: string;
  configPath?: string;
  origin: string;
  gates: GateResult[];
}

export async function recordHistory(report: Report, req: KeepRequest, warn: (m: string) => void): Promise<HistoryContext | undefined> {
  const { historyKey, keepRun } = await import('../engine/history/store');
  try {
    return await keepRun(req.reportDir, report, { key: historyKey(req.configPath, report), origin: req.origin, gates: req.gates, keep: historyKeep() });
  } catch (e) {
    warn(`run history not kept in ${req.reportDir}: ${(e as Error).message}`);
    return undefined;
  }
}

/** The history beside a report file (latest.json or a kept run), matched by the report's creation time. */
export async function loadHistoryContext(reportFile: string, report: Pick<Report, 'createdAt'>): Promise<HistoryContext | undefined> {
  const { historyContext, readHistory } = await import('../engine/history/store');
  const ctx = historyContext(await readHistory(path.dirname(reportFile)), report.createdAt);
  return ctx.current ? ctx : undefined;
}

/** The kept runs of a reports folder, newest first, with the path of each copy. */
export async function keptRuns(reportDir: string): Promise<{ file: string; entry: HistoryContext['entries'][number] }[]> {
  const { readHistory } = await import('../engine/history/store');
  const index = await readHistory(reportDir);
  return [...index.entries].reverse().map((entry) => ({ file: path.join(reportDir, entry.file), entry }));
}
