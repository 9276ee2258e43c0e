// Issue 7, cases 17–18: class folders named with markup, formulas, quotes, control characters, Unicode and
// very long names stay text in the JSON, CSV and HTML reports; OOD class folders may reuse the ID class names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { reportJson, samplesCsv } from '../../src/engine/report/write';
import { renderHtmlReport } from '../../src/engine/report/html';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, tempDir, weights, writeFile } from '../helpers/fixtures';
import { hostileNamesFolder, HOSTILE_NAMES, models, overlappingOodFolder, SIZE } from '../hostile/generate';

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks; records end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, 'unterminated quoted field');
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
    } else {
      const end = text.slice(i).search(/,|\r\n/);
      field = end < 0 ? text.slice(i) : text.slice(i, i + end);
      assert.ok(!/["\r\n]/.test(field), `unquoted field with a quote or line break: ${JSON.stringify(field)}`);
      i += field.length;
    }
    row.push(field);
    if (text.startsWith(',', i)) i++;
    else {
      assert.ok(text.startsWith('\r\n', i), `record must end with CRLF at ${i}`);
      i += 2;
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

const FORMULA_START = /^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;

test('hostile class and file names stay inert text in the JSON, CSV and HTML reports', async () => {
  const t = tempDir();
  try {
    const { root, names } = await hostileNamesFolder(path.join(t.dir, 'names'));
    // No class names in the model: they come from the class folders, so predictions print them too.
    const model = path.join(t.dir, 'm.onnx');
    writeFile(model, buildLinearModel({ inputShape: ['N', 1, SIZE, SIZE], W: weights(names.length * SIZE * SIZE, 2), b: new Float32Array(names.length) }));
    const report = await runScore({ models: [model], id: root });
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(report.splits[0].classes, sorted);
    assert.deepEqual(report.models[0].classes, sorted);
    assert.equal(report.samples.length, names.length * 2);
    assert.deepEqual(report.splits[0].skipped, []);

    const json = JSON.parse(reportJson(report));
    assert.deepEqual(json.splits[0].classes, sorted, 'JSON round trip keeps every name byte for byte');

    const rows = parseCsv(samplesCsv(report));
    assert.deepEqual(rows[0].slice(0, 4), ['path', 'split', 'label', 'm:prediction']);
    assert.equal(rows.length, 1 + report.samples.length);
    const unescape = (cell: string) => (cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell);
    for (const [i, s] of report.samples.entries()) {
      const row = rows[i + 1];
      // Text columns; the score columns are numbers, where a leading minus is a sign.
      for (const cell of row.slice(0, 4)) assert.ok(!FORMULA_START.test(cell), `a spreadsheet would run ${JSON.stringify(cell)}`);
      for (const cell of row.slice(4)) assert.match(cell, /^(-?\d+(\.\d+)?(e[-+]\d+)?)?$/);
      assert.equal(unescape(row[0]), s.path);
      assert.equal(unescape(row[2]), report.models[0].classes[s.label!]);
      assert.equal(unescape(row[3]), report.models[0].classes[s.prediction.m!]);
    }
    assert.ok(rows.some((r) => r[2] === `'=HYPERLINK("evil.example","click")`), 'formula names are prefixed with \'');

    const html = renderHtmlReport(report, { script: '', css: '' }, { origin: names[0], nonce: 'n0nce' });
    // The names are in the page as JSON text (\u003c…): no tag from the data may open.
    for (const needle of ['<img', '<svg', '<i ', '<script>alert']) {
      assert.ok(!html.includes(needle), `HTML report contains ${needle}`);
    }
    assert.ok(html.includes('<title>OOD Lens report · &lt;img src=x onerror=alert(1)&gt;</title>'));
    const data = /<script type="application\/json" id="oodlens-data">([^]*?)<\/script>/.exec(html);
    assert.ok(data, 'report data block');
    const payload = JSON.parse(data[1]);
    assert.deepEqual(payload.report.splits[0].classes, sorted, 'the embedded data decodes to the original names');
  } finally {
    t.cleanup();
  }
});

test('an OOD folder whose class folders are named like the ID classes is scored as unlabelled OOD', async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    await imageFolder(path.join(t.dir, 'id'), ['a', 'b'], 4, SIZE, SIZE, 1);
    const ood = overlappingOodFolder(path.join(t.dir, 'ood'));
    const report = await runScore({ models: [m.classifier], id: path.join(t.dir, 'id'), ood: [ood] });
    assert.deepEqual(report.splits.map((s) => [s.name, s.role, s.count, s.classes.join()]), [['id', 'id', 8, 'a,b'], ['ood', 'ood', 6, 'a,b']]);
    assert.ok(report.samples.filter((s) => s.split === 'ood').every((s) => s.label === null), 'OOD samples carry no label');
    assert.equal(report.calibration.length, 1);
    assert.equal(report.calibration[0].split, 'id');
    const msp = report.ood.find((r) => r.score === 'msp')!;
    assert.deepEqual([msp.n_id, msp.n_ood], [8, 6]);
    assert.ok(msp.auroc >= 0 && msp.auroc <= 1);
    assert.deepEqual(report.warnings, []);
  } finally {
    t.cleanup();
  }
});
