import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Report } from './types';
import { UserError } from '../util/errors';

/**
 * Writes a file atomically: a temp file in the same folder, flushed, then renamed over the target, so a reader
 * never sees half a report and a failed write (read-only folder, full disk) leaves the previous file intact.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | ((write: (chunk: string) => Promise<void>) => Promise<void>)): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  // Unique per call: two runs saving the same report at once must not share a temp file.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      if (typeof data === 'function') await data(async (chunk) => void (await handle.write(chunk)));
      else await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'the folder is not writable'
      : code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full'
      : code === 'ENOTDIR' || code === 'EEXIST' ? 'part of the folder path is a file'
      : code === 'EISDIR' ? 'that path is a folder'
      : code ?? (e as Error).message;
    throw new UserError(`Cannot write ${file}: ${why} (the previous file, if any, is unchanged)`);
  }
}

/** JSON.stringify already writes NaN and ±Infinity as null, which is what the schema asks for. */
export function reportJson(report: Report): string {
  return JSON.stringify(report);
}

/** Rows written per chunk: the whole report never exists as one string, so writing it does not double memory. */
const ROWS_PER_CHUNK = 2000;

export async function writeJsonReport(report: Report, file: string): Promise<void> {
  const { samples, ...rest } = report;
  await writeFileAtomic(file, async (write) => {
    await write(`${reportJson(rest as Report).slice(0, -1)},"samples":[`);
    for (let i = 0; i < samples.length; i += ROWS_PER_CHUNK) {
      const rows = samples.slice(i, i + ROWS_PER_CHUNK).map((r) => JSON.stringify(r));
      await write((i > 0 ? ',' : '') + rows.join(','));
    }
    await write(']}');
  });
}

/**
 * A CSV cell: quoted when needed, and text cells that a spreadsheet would run as a formula (OWASP's list, full-width
 * forms included) are prefixed with '.
 */
function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Per-sample scores: one row per sample, one column per model × score. */
export function samplesCsv(report: Report): string {
  const cols: { model: string; score: string }[] = [];
  const seen = new Set<string>();
  for (const s of report.samples) {
    for (const [model, scores] of Object.entries(s.scores)) {
      for (const score of Object.keys(scores)) {
        const key = `${model}\u0000${score}`;
        if (!seen.has(key)) {
          seen.add(key);
          cols.push({ model, score });
        }
      }
    }
  }
  const models = report.models.map((m) => m.name).concat(report.ensemble ? ['ensemble'] : []);
  const classesOf = new Map(report.models.map((m) => [m.name, m.classes]));
  const first = report.models[0]?.classes ?? [];
  const header = ['path', 'split', 'label', ...models.map((m) => `${m}:prediction`), ...cols.map((c) => `${c.model}:${c.score}`)];
  const lines = [header.map(cell).join(',')];
  for (const s of report.samples) {
    const row: (string | number | null)[] = [s.path, s.split, s.label === null ? null : first[s.label] ?? s.label];
    for (const m of models) {
      const p = s.prediction[m];
      const classes = classesOf.get(m) ?? first;
      row.push(p === null || p === undefined ? null : classes[p] ?? p);
    }
    for (const c of cols) row.push(s.scores[c.model]?.[c.score] ?? null);
    lines.push(row.map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
