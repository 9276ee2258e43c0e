// The per-sample table as Parquet (`--samples OUT.parquet`), for pandas, polars, DuckDB and Spark: one row per
// scored sample, the columns of samples.csv (path, split, label, `<model>:prediction`, `<model>:<score>`) with
// class indices instead of names (the names are in the footer's `oodlens.classes`), and optionally each model's
// logits as a list column `<model>:logits`.
import type { Report } from './types';
import { SampleView, type SampleColumns } from './sample-rows';
import { ParquetTableWriter, type ColumnSpec, type ColumnValues } from '../parquet/write';

/** Rows per row group: large enough for fast scans, small enough that a group's lists stay a few hundred MB. */
const GROUP_ROWS = 65_536;

/** Every split's columns, in report order; rows that are not views (a report read back from JSON) are regrouped. */
function splitColumns(report: Report): SampleColumns[] {
  const out: SampleColumns[] = [];
  let plain: SampleColumns | null = null;
  let plainRows: Report['samples'] = [];
  const flush = () => {
    if (!plain) return;
    out.push(plainColumns(plainRows, plain.split));
    plain = null;
    plainRows = [];
  };
  for (const row of report.samples) {
    if (row instanceof SampleView) {
      flush();
      if (out[out.length - 1] !== row.cols) out.push(row.cols);
      continue;
    }
    if (plain && plain.split !== row.split) flush();
    plain ??= { split: row.split, paths: { length: 0, get: () => '' }, labels: null, models: [] };
    plainRows.push(row);
  }
  flush();
  return out;
}

function plainColumns(rows: Report['samples'], split: string): SampleColumns {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.scores)))];
  return {
    split,
    paths: { length: rows.length, get: (i) => rows[i].path },
    labels: Int32Array.from(rows, (r) => r.label ?? -1),
    models: names.map((name) => {
      const scoreNames = [...new Set(rows.flatMap((r) => Object.keys(r.scores[name] ?? {})))];
      return {
        name,
        prediction: Int32Array.from(rows, (r) => r.prediction[name] ?? -1),
        scores: Object.fromEntries(scoreNames.map((s) => [s, Float64Array.from(rows, (r) => r.scores[name]?.[s] ?? NaN)])),
      };
    }),
  };
}

/** Writes the table; `logits` adds each model's logits (ln p for the ensemble) as a list column. */
export async function writeSamplesParquet(report: Report, file: string, opts: { logits?: boolean } = {}): Promise<number> {
  const splits = splitColumns(report);
  const models: { name: string; scores: string[]; k: number }[] = [];
  for (const cols of splits) {
    for (const m of cols.models) {
      let entry = models.find((x) => x.name === m.name);
      if (!entry) models.push((entry = { name: m.name, scores: [], k: 0 }));
      for (const s of Object.keys(m.scores)) if (!entry.scores.includes(s)) entry.scores.push(s);
      if (m.logits && m.k) entry.k = m.k;
    }
  }
  const columns: ColumnSpec[] = [{ name: 'path', kind: 'string' }, { name: 'split', kind: 'string' }, { name: 'label', kind: 'int32' }];
  for (const m of models) {
    columns.push({ name: `${m.name}:prediction`, kind: 'int32' }, ...m.scores.map((s) => ({ name: `${m.name}:${s}`, kind: 'double' as const })));
    if (opts.logits && m.k) columns.push({ name: `${m.name}:logits`, kind: 'floats', width: m.k });
  }
  const classes = Object.fromEntries([...report.models.map((m) => [m.name, m.classes]), ...(report.ensemble ? [['ensemble', report.models[0]?.classes ?? []]] : [])]);
  const kv = { 'oodlens.classes': JSON.stringify(classes), 'oodlens.conventions': 'scores: higher = more OOD; label and <model>:prediction index the model\'s classes (oodlens.classes); null = none' };
  const w = await ParquetTableWriter.create(file, columns, kv);
  let rows = 0;
  try {
    for (const cols of splits) {
      for (let start = 0; start < cols.paths.length; start += GROUP_ROWS) {
        const n = Math.min(GROUP_ROWS, cols.paths.length - start);
        w.append(n, groupValues(cols, models, start, n, !!opts.logits));
        rows += n;
      }
    }
    await w.close();
  } catch (e) {
    w.abandon();
    throw e;
  }
  return rows;
}

function groupValues(cols: SampleColumns, models: { name: string; scores: string[]; k: number }[], start: number, n: number, logits: boolean): Record<string, ColumnValues> {
  const v: Record<string, ColumnValues> = {
    path: Array.from({ length: n }, (_, i) => cols.paths.get(start + i)),
    split: new Array<string>(n).fill(cols.split),
    label: cols.labels ? cols.labels.slice(start, start + n) : new Int32Array(n).fill(-1),
  };
  for (const m of models) {
    const c = cols.models.find((x) => x.name === m.name);
    v[`${m.name}:prediction`] = c ? c.prediction.slice(start, start + n) : new Int32Array(n).fill(-1);
    for (const s of m.scores) v[`${m.name}:${s}`] = c?.scores[s] ? c.scores[s].slice(start, start + n) : new Float64Array(n).fill(NaN);
    if (logits && m.k) v[`${m.name}:logits`] = c?.logits ? c.logits.slice(start * m.k, (start + n) * m.k) : new Float32Array(n * m.k).fill(NaN);
  }
  return v;
}
