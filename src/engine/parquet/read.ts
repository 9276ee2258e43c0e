// Reads the Parquet tables that inference jobs write (pandas/pyarrow, Spark, Ray, Dask, polars, DuckDB): flat
// columns and lists of numbers, any codec hyparquet-compressors knows (snappy, gzip, zstd, brotli, lz4), one row
// group at a time so a table larger than memory as JavaScript arrays is never held whole.
import { promises as fs } from 'node:fs';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { UserError } from '../util/errors';

export interface ParquetTable {
  file: string;
  rows: number;
  /** Top-level column names, lower-cased as written. */
  columns: string[];
  /** Key-value metadata of the footer. */
  kv: Record<string, string>;
  metadata: FileMetaData;
  buffer: AsyncBuffer;
  close(): Promise<void>;
}

export async function openParquet(file: string): Promise<ParquetTable> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    throw new UserError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as NodeJS.ErrnoException).code ?? e}`);
  }
  const { size } = await handle.stat();
  const buffer: AsyncBuffer = {
    byteLength: size,
    async slice(start: number, end = size) {
      const out = Buffer.allocUnsafe(end - start);
      let read = 0;
      while (read < out.length) {
        const r = await handle.read(out, read, out.length - read, start + read);
        if (r.bytesRead === 0) break;
        read += r.bytesRead;
      }
      return out.buffer.slice(out.byteOffset, out.byteOffset + read) as ArrayBuffer;
    },
  };
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    await handle.close();
    throw new UserError(`${file} is not a readable Parquet file (${(e as Error).message})`);
  }
  const root = metadata.schema[0];
  const columns: string[] = [];
  // Top-level fields: walk the flattened schema tree, skipping each field's children.
  for (let i = 1, left = root.num_children ?? 0; left > 0; left--) {
    columns.push(metadata.schema[i].name);
    i = skipField(metadata, i);
  }
  const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value ?? '']));
  return { file, rows: Number(metadata.num_rows), columns, kv, metadata, buffer, close: () => handle.close() };
}

function skipField(md: FileMetaData, i: number): number {
  let next = i + 1;
  for (let c = md.schema[i].num_children ?? 0; c > 0; c--) next = skipField(md, next);
  return next;
}

/** Row ranges of the row groups, in order. */
export function rowGroups(t: ParquetTable): { start: number; end: number }[] {
  let start = 0;
  return t.metadata.row_groups.map((g) => {
    const r = { start, end: start + Number(g.num_rows) };
    start = r.end;
    return r;
  });
}

/** Raw row values of `columns` for rows start ≤ i < end (lists as arrays, strings as strings). */
export async function readRows(t: ParquetTable, columns: string[], start: number, end: number): Promise<unknown[][]> {
  let rows: unknown[][] = [];
  try {
    await parquetRead({ file: t.buffer, metadata: t.metadata, columns, rowStart: start, rowEnd: end, compressors, onComplete: (r: unknown[][]) => (rows = r) });
  } catch (e) {
    throw new UserError(`${t.file}: cannot read rows ${start}–${end} (${(e as Error).message})`);
  }
  return rows;
}

/** A list column of rows × width numbers into a Float32Array; every row must be a list of the same width. */
export function listColumn(t: ParquetTable, name: string, rows: unknown[][], col: number, width: number, first: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i][col] as ArrayLike<number | null> | null;
    if (!v || typeof v !== 'object' || v.length !== width) {
      throw new UserError(`${t.file}: row ${first + i} of "${name}" has ${v && typeof v === 'object' ? v.length : 'no'} values; expected ${width} (every row the same length)`);
    }
    for (let j = 0; j < width; j++) {
      const x = v[j];
      out[i * width + j] = x === null ? NaN : Number(x);
    }
  }
  return out;
}

/** The width of a list column, from its first row. */
export async function listWidth(t: ParquetTable, name: string): Promise<number> {
  if (t.rows === 0) return 0;
  const [row] = await readRows(t, [name], 0, 1);
  const v = row?.[0] as ArrayLike<unknown> | null;
  if (!v || typeof v !== 'object' || typeof v.length !== 'number') throw new UserError(`${t.file}: column "${name}" is not a list of numbers`);
  return v.length;
}
