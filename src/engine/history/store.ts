// Keeps the last N reports of a reports folder: each run's report is copied to run-<time>.json beside latest.json and
// listed in history.json with its headline numbers and the sha256 of its model files. Every file is written
// atomically; a missing or damaged index starts a new one (its orphaned copies are removed on the next write).
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { GateResult } from '../gates';
import type { Report } from '../report/types';
import { writeFileAtomic, writeJsonReport } from '../report/write';
import { runMetrics } from './metrics';
import type { HistoryContext, HistoryEntry, HistoryIndex, HistoryModel } from './types';

export const INDEX_FILE = 'history.json';
const RUN_FILE = /^run-[0-9TZ-]+(?:-\d+)?\.json$/;

/** The key runs are compared by: the same oodlens.json, else the same set of model files. */
export function historyKey(configPath: string | undefined, report: Pick<Report, 'models'>): string {
  if (configPath) return `config:${path.resolve(configPath)}`;
  return `models:${report.models.map((m) => path.resolve(m.path)).sort().join('|')}`;
}

/** The newest `keep` entries (by creation time, oldest first) and the ones to delete. */
export function prune(entries: HistoryEntry[], keep: number): { kept: HistoryEntry[]; removed: HistoryEntry[] } {
  const sorted = [...entries].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const cut = Math.max(0, sorted.length - Math.max(0, Math.floor(keep)));
  return { kept: sorted.slice(cut), removed: sorted.slice(0, cut) };
}

/** The shown report's place in the history: found by its creation time, compared with the runs of its key. */
export function historyContext(index: HistoryIndex, createdAt: string): HistoryContext {
  const current = index.entries.find((e) => e.createdAt === createdAt);
  if (!current) return { entries: [] };
  const entries = index.entries.filter((e) => e.key === current.key);
  const at = entries.indexOf(current);
  return { entries, current, ...(at > 0 ? { previous: entries[at - 1] } : {}) };
}

export async function readHistory(dir: string): Promise<HistoryIndex> {
  try {
    const value = JSON.parse(await fs.readFile(path.join(dir, INDEX_FILE), 'utf8')) as Partial<HistoryIndex>;
    if (value.version === 1 && Array.isArray(value.entries)) return { version: 1, entries: value.entries.filter(isEntry) };
  } catch {
    // none yet, or damaged: start again
  }
  return { version: 1, entries: [] };
}

function isEntry(e: unknown): e is HistoryEntry {
  const x = e as HistoryEntry;
  return typeof x === 'object' && x !== null && typeof x.file === 'string' && RUN_FILE.test(x.file) && typeof x.createdAt === 'string'
    && typeof x.key === 'string' && Array.isArray(x.models) && typeof x.metrics === 'object' && x.metrics !== null;
}

/** sha256 of a file, streamed (models can be gigabytes); null when it cannot be read as a file. */
export async function hashFile(file: string): Promise<string | null> {
  try {
    if (!(await fs.stat(file)).isFile()) return null;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return null;
  }
}

function runFileName(createdAt: string, taken: Set<string>): string {
  const stem = `run-${createdAt.replace(/[:.]/g, '-')}`;
  let name = `${stem}.json`;
  for (let i = 2; taken.has(name); i++) name = `${stem}-${i}.json`;
  return name;
}

export interface KeepRun {
  key: string;
  origin: string;
  gates: GateResult[];
  /** Reports kept (the setting); 0 keeps none and empties the history. */
  keep: number;
}

/** Copies the report into the history, prunes it to `keep` runs and returns the report's context. */
export async function keepRun(dir: string, report: Report, run: KeepRun): Promise<HistoryContext> {
  const index = await readHistory(dir);
  let entries = index.entries;
  if (run.keep > 0) {
    const models: HistoryModel[] = await Promise.all(report.models.map(async (m) => ({ name: m.name, path: m.path, sha256: await hashFile(m.path) })));
    const file = runFileName(report.createdAt, new Set(entries.map((e) => e.file)));
    await writeJsonReport(report, path.join(dir, file));
    entries = [...entries, { file, createdAt: report.createdAt, key: run.key, origin: run.origin, partial: report.partial, models, metrics: runMetrics(report, run.gates) }];
  }
  const { kept } = prune(entries, run.keep);
  const next: HistoryIndex = { version: 1, entries: kept };
  await writeFileAtomic(path.join(dir, INDEX_FILE), `${JSON.stringify(next, null, 1)}\n`);
  await removeUnlisted(dir, new Set(kept.map((e) => e.file)));
  return historyContext(next, report.createdAt);
}

/** Deletes run copies the index no longer lists (pruned, or left by a damaged index). */
async function removeUnlisted(dir: string, listed: Set<string>): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => RUN_FILE.test(n) && !listed.has(n)).map((n) => fs.rm(path.join(dir, n), { force: true })));
}
