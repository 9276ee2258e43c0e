// A split given as a table instead of a folder: a Kaggle CSV, a labelling tool's JSONL, a TSV, a Parquet file
// (a Hugging Face `datasets` export). Columns: `path`
// (relative to the manifest, or absolute), optional `label` (class name or index) and `split` (several splits in
// one file: `train.csv#split=test`). Files that are not there are skipped with a reason, like unreadable ones.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { openParquet, readRows, rowGroups } from '../parquet/read';
import { PathList } from './path-list';
import type { DatasetListing } from './image-files';

const PATH_KEYS = ['path', 'file', 'filename', 'filepath', 'image', 'image_path'];
const LABEL_KEYS = ['label', 'class', 'target', 'y', 'category'];
const MANIFEST = /\.(csv|tsv|jsonl|ndjson|parquet)$/i;

/** `file.csv#split=test` → the file and the split value; null when `source` is not a manifest. */
export function parseManifestSource(source: string): { file: string; split?: string } | null {
  const [file, fragment] = source.split('#', 2);
  if (!MANIFEST.test(file)) return null;
  const m = fragment === undefined ? null : /^split=(.+)$/.exec(fragment);
  if (fragment !== undefined && !m) throw new UserError(`${source}: after '#' only split=NAME is understood`);
  return { file, ...(m ? { split: m[1] } : {}) };
}

/** One CSV/TSV record per line, RFC 4180 quoting (quotes doubled inside quoted cells; no newline inside cells). */
function splitRow(line: string, sep: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') cell += '"', i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === sep) cells.push(cell), (cell = '');
    else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

type Row = Record<string, string | undefined>;

function parseRows(text: string, file: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (/\.(jsonl|ndjson)$/i.test(file)) {
    return lines.map((l, i) => {
      let o: unknown;
      try {
        o = JSON.parse(l);
      } catch {
        throw new UserError(`${file}, line ${i + 1}: not a JSON object`);
      }
      if (!o || typeof o !== 'object' || Array.isArray(o)) throw new UserError(`${file}, line ${i + 1}: not a JSON object`);
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v === null || v === undefined ? undefined : String(v)]));
    });
  }
  const sep = /\.tsv$/i.test(file) ? '\t' : ',';
  const [header, ...rest] = lines.map((l) => splitRow(l, sep));
  const keys = (header ?? []).map((k) => k.replace(/^\uFEFF/, '').toLowerCase());
  return rest.map((cells) => Object.fromEntries(keys.map((k, i) => [k, cells[i] === '' ? undefined : cells[i]])));
}

/** The path, label and split columns of a Parquet manifest, as text like a CSV's cells. */
async function parquetRows(file: string): Promise<Row[]> {
  const t = await openParquet(file);
  try {
    const keys = t.columns.filter((c) => [...PATH_KEYS, ...LABEL_KEYS, 'split'].includes(c.toLowerCase()));
    const rows: Row[] = [];
    for (const g of rowGroups(t)) {
      for (const r of await readRows(t, keys, g.start, g.end)) {
        rows.push(Object.fromEntries(keys.map((k, i) => [k.toLowerCase(), r[i] === null || r[i] === undefined ? undefined : String(r[i])])));
      }
    }
    return rows;
  } finally {
    await t.close();
  }
}

const column = (keys: string[], row: Row | undefined) => keys.find((k) => row && k in row);

/**
 * Reads a manifest into a listing: rows in the order of an ImageFolder walk (by class, then path), classes sorted
 * by name. Integer labels name the model's class indices (`classIndices`), other labels its class names.
 */
export async function listManifest(file: string, split?: string): Promise<DatasetListing & { classIndices: boolean }> {
  let rows: Row[];
  if (/\.parquet$/i.test(file)) rows = await parquetRows(file);
  else {
    const text = await fs.readFile(file, 'utf8').catch(() => {
      throw new UserError(`Manifest not found: ${file}`);
    });
    rows = parseRows(text, file);
  }
  const pathKey = column(PATH_KEYS, rows[0]);
  if (!pathKey) throw new UserError(`${file}: no path column (one of ${PATH_KEYS.join(', ')})`);
  const labelKey = column(LABEL_KEYS, rows[0]);
  if (split !== undefined) {
    if (!rows.some((r) => 'split' in r)) throw new UserError(`${file}: no split column for #split=${split}`);
    rows = rows.filter((r) => r.split === split);
    if (rows.length === 0) throw new UserError(`${file}: no row has split "${split}"`);
  }
  const base = path.dirname(path.resolve(file));
  const entries = rows.filter((r) => r[pathKey]).map((r) => ({ file: path.resolve(base, r[pathKey]!), label: labelKey ? r[labelKey] : undefined }));
  const classIndices = entries.length > 0 && entries.every((e) => e.label === undefined || /^\d+$/.test(e.label));
  const classes = [...new Set(entries.flatMap((e) => (e.label === undefined ? [] : [e.label])))].sort((a, b) => (classIndices ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
  const order = new Map(classes.map((c, i) => [c, i]));
  const classOf = (e: { label?: string }) => (e.label === undefined ? -1 : order.get(e.label)!);
  entries.sort((a, b) => classOf(a) - classOf(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const files = new PathList();
  const skipped: DatasetListing['skipped'] = [];
  const kept: number[] = [];
  for (const e of entries) {
    const ok = await fs.stat(e.file).then((s) => s.isFile(), () => false);
    if (!ok) skipped.push({ path: e.file, reason: `file not found (listed in ${path.basename(file)})` });
    else files.push('', e.file), kept.push(classOf(e));
  }
  return { classes, files, classOf: Int32Array.from(kept), skipped, classIndices };
}
