// Parquet in and out (issue 15): what OOD Lens writes is read back by an independent reader (DuckDB), and what
// other tools write (DuckDB here, with each codec and list type pandas, Spark and polars use) is read by OOD Lens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ParquetTableWriter } from '../../src/engine/parquet/write';
import { listColumn, listWidth, openParquet, readRows, rowGroups } from '../../src/engine/parquet/read';
import { duck } from '../helpers/duck';
import { scratchDirs } from '../helpers/fixtures';

const scratch = scratchDirs();

test('a table written here reads back in DuckDB: strings, nullable ints, doubles with NaN, float lists', async () => {
  const dir = await scratch('oodlens-pq-');
  const file = path.join(dir, 't.parquet');
  const w = await ParquetTableWriter.create(file, [
    { name: 'path', kind: 'string' }, { name: 'label', kind: 'int32' }, { name: 'score', kind: 'double' }, { name: 'logits', kind: 'floats', width: 3 },
  ], { 'oodlens.test': '{"a":1}' });
  w.append(2, { path: ['a/ü.png', 'b,"q".jpg'], label: Int32Array.of(4, -1), score: Float64Array.of(0.1 + 0.2, NaN), logits: Float32Array.of(1, -2.5, 3e-8, 0, 1e30, -0) });
  w.append(1, { path: ['c.png'], label: Int32Array.of(0), score: Float64Array.of(-1e300), logits: Float32Array.of(7, 8, 9) });
  await w.close();
  const rows = await duck(`select path, label, score, logits from '${file}'`);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r[0]), ['a/ü.png', 'b,"q".jpg', 'c.png']);
  assert.deepEqual(rows.map((r) => r[1]), [4, null, 0]);
  assert.equal(rows[0][2], 0.1 + 0.2);
  assert.ok(Number.isNaN(rows[1][2] as number));
  assert.equal(rows[2][2], -1e300);
  const lists = rows.map((r) => (r[3] as { items: number[] }).items);
  assert.deepEqual(lists, [[1, -2.5, Math.fround(3e-8)], [0, Math.fround(1e30), -0], [7, 8, 9]]);
  const kv = await duck(`select decode(value) from parquet_kv_metadata('${file}') where decode(key) = 'oodlens.test'`);
  assert.equal(kv[0][0], '{"a":1}');
  // And this reader reads it too.
  const t = await openParquet(file);
  assert.deepEqual(t.columns, ['path', 'label', 'score', 'logits']);
  assert.equal(t.kv['oodlens.test'], '{"a":1}');
  assert.deepEqual(rowGroups(t), [{ start: 0, end: 2 }, { start: 2, end: 3 }]);
  const r = await readRows(t, ['logits'], 0, 3);
  assert.deepEqual([...listColumn(t, 'logits', r, 0, 3, 0)], [1, -2.5, Math.fround(3e-8), 0, Math.fround(1e30), -0, 7, 8, 9]);
  await t.close();
});

for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed']) {
  test(`a DuckDB-written table (${codec}; FLOAT[], DOUBLE[] and FLOAT[4] lists) reads here`, async () => {
    const dir = await scratch('oodlens-pq-');
    const file = path.join(dir, `${codec}.parquet`);
    await duck(`copy (select i, 'img' || i || '.png' as path, [i * 0.5, -i, 1.0 / (i + 1)]::float[] as f, [i * 0.25, i]::double[] as d,
      [i, i + 1, i + 2, i + 3]::float[4] as a from range(2500) t(i)) to '${file}' (format parquet, compression ${codec}, row_group_size 1000)`);
    const t = await openParquet(file);
    assert.equal(t.rows, 2500);
    assert.equal(await listWidth(t, 'f'), 3);
    const groups = rowGroups(t);
    assert.ok(groups.length >= 2);
    const last = groups[groups.length - 1];
    const rows = await readRows(t, ['f', 'd', 'a', 'path'], last.start, last.end);
    const i = last.end - 1;
    assert.deepEqual([...listColumn(t, 'f', rows, 0, 3, last.start)].slice(-3), [Math.fround(i * 0.5), -i, Math.fround(1 / (i + 1))]);
    assert.deepEqual([...listColumn(t, 'd', rows, 1, 2, last.start)].slice(-2), [i * 0.25, i]);
    assert.deepEqual([...listColumn(t, 'a', rows, 2, 4, last.start)].slice(-4), [i, i + 1, i + 2, i + 3]);
    assert.equal(rows[rows.length - 1][3], `img${i}.png`);
    await t.close();
  });
}

test('ragged lists and files that are not Parquet are refused with the file and row named', async () => {
  const dir = await scratch('oodlens-pq-');
  const file = path.join(dir, 'ragged.parquet');
  await duck(`copy (select case when i = 3 then [1.0]::float[] else [1.0, 2.0]::float[] end as logits from range(5) t(i)) to '${file}' (format parquet)`);
  const t = await openParquet(file);
  const rows = await readRows(t, ['logits'], 0, 5);
  assert.throws(() => listColumn(t, 'logits', rows, 0, 2, 0), /row 3 of "logits" has 1 values; expected 2/);
  await t.close();
  const bad = path.join(dir, 'bad.parquet');
  require('node:fs').writeFileSync(bad, 'not parquet at all');
  await assert.rejects(openParquet(bad), /is not a readable Parquet file/);
});
