// Where precomputed outputs come from: a folder of .npy files (logits.npy [N, K], labels.npy [N], features.npy
// [N, D]), or a Parquet table as Spark, Ray and Dask inference jobs write it (a `logits` list column, optional
// `features` list, `label` and `path` columns; `FILE.parquet#split=NAME` takes the rows of one split).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readNpyFloat32, readNpyInt32 } from '../dataset/npy';
import { listColumn, listWidth, openParquet, readRows, rowGroups, type ParquetTable } from '../parquet/read';
import { UserError } from '../util/errors';

export interface PrecomputedSplit {
  n: number;
  k: number;
  logits: Float32Array;
  labels: Int32Array | null;
  features: Float32Array | null;
  d: number;
  /** Sample names from a `path` column; null = `<split>#<row>`. */
  paths: string[] | null;
  /** Folder holding W.npy / b.npy when the final layer is given. */
  layerDir: string;
}

const exists = (f: string) => fs.stat(f).then((s) => s.isFile(), () => false);

/** `FILE.parquet[#split=NAME]` → the file and split; null for other sources. */
export function parquetSource(source: string): { file: string; split?: string } | null {
  const [file, fragment] = source.split('#', 2);
  if (!/\.parquet$/i.test(file)) return null;
  const m = fragment === undefined ? null : /^split=(.+)$/.exec(fragment);
  if (fragment !== undefined && !m) throw new UserError(`${source}: after '#' only split=NAME is understood`);
  return { file, ...(m ? { split: m[1] } : {}) };
}

/** Whether a Parquet table holds outputs (a `logits` column) rather than a list of image files. */
export async function parquetHasLogits(file: string): Promise<boolean> {
  const t = await openParquet(file);
  await t.close();
  return t.columns.map((c) => c.toLowerCase()).includes('logits');
}

export async function isPrecomputedSource(source: string): Promise<boolean> {
  const pq = parquetSource(source);
  if (pq) return parquetHasLogits(pq.file);
  return exists(path.join(source, 'logits.npy'));
}

export async function readPrecomputed(source: string): Promise<PrecomputedSplit> {
  const pq = parquetSource(source);
  return pq ? readParquetSplit(pq.file, pq.split) : readNpyFolder(source);
}

async function readNpyFolder(dir: string): Promise<PrecomputedSplit> {
  const file = (name: string) => path.join(dir, name);
  const logits = await readNpyFloat32(file('logits.npy'));
  if (logits.shape.length !== 2) throw new UserError(`${file('logits.npy')} has shape (${logits.shape.join(', ')}); expected [N, K]`);
  const [n, k] = logits.shape;
  const labels = (await exists(file('labels.npy'))) ? (await readNpyInt32(file('labels.npy'))).data : null;
  if (labels && labels.length !== n) throw new UserError(`${file('labels.npy')} has ${labels.length} labels for ${n} logits rows`);
  const features = (await exists(file('features.npy'))) ? await readNpyFloat32(file('features.npy')) : null;
  if (features && (features.shape.length !== 2 || features.shape[0] !== n)) {
    throw new UserError(`${file('features.npy')} has shape (${features.shape.join(', ')}); expected [${n}, D]`);
  }
  return { n, k, logits: logits.data, labels, features: features?.data ?? null, d: features?.shape[1] ?? 0, paths: null, layerDir: dir };
}

/** Case-insensitive column lookup. */
const col = (t: ParquetTable, name: string) => t.columns.find((c) => c.toLowerCase() === name);

async function readParquetSplit(file: string, split?: string): Promise<PrecomputedSplit> {
  const t = await openParquet(file);
  try {
    const logitsCol = col(t, 'logits')!;
    const featuresCol = col(t, 'features');
    const labelCol = col(t, 'label');
    const pathCol = col(t, 'path');
    const splitCol = col(t, 'split');
    if (split !== undefined && !splitCol) throw new UserError(`${file}: no split column for #split=${split}`);
    const k = await listWidth(t, logitsCol);
    const d = featuresCol ? await listWidth(t, featuresCol) : 0;
    const names = [logitsCol, ...(featuresCol ? [featuresCol] : []), ...(labelCol ? [labelCol] : []), ...(pathCol ? [pathCol] : []), ...(splitCol ? [splitCol] : [])];
    // Allocated for every row (a #split= filter keeps a prefix of them): no second copy of 4 GB of logits.
    const logits = new Float32Array(t.rows * k);
    const features = featuresCol ? new Float32Array(t.rows * d) : null;
    const labels: number[] = [];
    const paths: string[] = [];
    let n = 0;
    for (const g of rowGroups(t)) {
      let rows = await readRows(t, names, g.start, g.end);
      if (split !== undefined) rows = rows.filter((r) => String(r[names.length - 1]) === split);
      if (!rows.length) continue;
      logits.set(listColumn(t, logitsCol, rows, 0, k, g.start), n * k);
      if (features) features.set(listColumn(t, featuresCol!, rows, 1, d, g.start), n * d);
      if (labelCol) rows.forEach((r, i) => labels.push(labelOf(r[names.indexOf(labelCol)], file, g.start + i)));
      if (pathCol) rows.forEach((r) => paths.push(String(r[names.indexOf(pathCol)])));
      n += rows.length;
    }
    if (split !== undefined && n === 0) throw new UserError(`${file}: no row has split "${split}"`);
    return {
      n, k, logits: logits.subarray(0, n * k), features: features?.subarray(0, n * d) ?? null, d,
      labels: labelCol ? Int32Array.from(labels) : null,
      paths: pathCol ? paths : null,
      layerDir: path.dirname(file),
    };
  } finally {
    await t.close();
  }
}

function labelOf(v: unknown, file: string, row: number): number {
  if (v === null || v === undefined) return -1;
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new UserError(`${file}: row ${row} has label ${String(v)}; labels of precomputed outputs must be class indices (integers)`);
  return x;
}
