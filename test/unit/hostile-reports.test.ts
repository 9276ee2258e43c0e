// Issue 7, cases 29–30: a report that cannot be written leaves the previous one intact; a corrupted oodlens.json
// or saved report gives a diagnostic pointing at the problem instead of a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonReport } from '../../src/engine/report/write';
import { parseConfig } from '../../src/engine/config';
import { parseReport } from '../../src/vscode/reportFile';
import { loadFixture } from '../helpers/report-fixture';
import { tempDir, weights } from '../helpers/fixtures';

type Handle = fs.promises.FileHandle;

/** Makes every file handle opened meanwhile fail its writes with `code` (a full disk cannot be made for a test). */
async function withFailingWrites<T>(code: string, fn: () => Promise<T>): Promise<T> {
  const fsp = fs.promises as { open: typeof fs.promises.open };
  const original = fsp.open;
  const fail = () => Promise.reject(Object.assign(new Error(`${code}: simulated`), { code }));
  fsp.open = (async (...args: Parameters<typeof fs.promises.open>) => {
    const handle = (await original.apply(fs.promises, args)) as Handle & Record<string, unknown>;
    handle.write = fail;
    handle.writeFile = fail;
    return handle;
  }) as typeof fs.promises.open;
  try {
    return await fn();
  } finally {
    fsp.open = original;
  }
}

test('a report that cannot be written is one clear error and the previous report stays intact', async () => {
  const t = tempDir();
  try {
    const report = loadFixture();
    const file = path.join(t.dir, 'report.json');
    fs.writeFileSync(file, 'previous report');
    const unchanged = (why: string, target = file) => ({ name: 'UserError', message: `Cannot write ${target}: ${why} (the previous file, if any, is unchanged)` });

    await assert.rejects(withFailingWrites('ENOSPC', () => writeJsonReport(report, file)), unchanged('the disk is full'));
    await assert.rejects(withFailingWrites('ENOSPC', () => writeFileAtomic(file, 'x')), unchanged('the disk is full'));
    await assert.rejects(withFailingWrites('EROFS', () => writeJsonReport(report, file)), unchanged('the folder is not writable'));
    await assert.rejects(withFailingWrites('EACCES', () => writeFileAtomic(file, 'x')), unchanged('the folder is not writable'));
    const underFile = path.join(file, 'report.json');
    await assert.rejects(writeJsonReport(report, underFile), unchanged('part of the folder path is a file', underFile));
    const folder = path.join(t.dir, 'a-folder.json');
    fs.mkdirSync(folder);
    await assert.rejects(writeJsonReport(report, folder), unchanged('that path is a folder', folder));

    assert.equal(fs.readFileSync(file, 'utf8'), 'previous report');
    assert.deepEqual(fs.readdirSync(t.dir).sort(), ['a-folder.json', 'report.json'], 'no temp file is left behind');
    await writeJsonReport(report, file);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).samples, report.samples, 'a later write succeeds');
  } finally {
    t.cleanup();
  }
});

test('a broken oodlens.json gives issues with a JSON pointer and the offset of the bad text, never a throw', () => {
  const at = (text: string, needle: string, from = 0) => text.indexOf(needle, from);

  const syntax = '{\n  "id": "data/id",\n  "models": ["m.onnx"],,\n}';
  const bad = parseConfig(syntax, '/w/oodlens.json');
  assert.equal(bad.options, undefined);
  assert.deepEqual(bad.issues[0], { path: '', message: 'Invalid JSON at line 3, column 24: property name expected', offset: at(syntax, ',,') + 1, length: 1 });

  const cut = '{"id": "data/id", "models": ["m.on';
  assert.match(parseConfig(cut, '/w/oodlens.json').issues[0].message, /^Invalid JSON at line 1, column \d+: /);

  const types = '{"id": 3, "models": "m.onnx", "batchSize": 0.5, "keepFraction": 2, "ood": [1], "colour": "red"}';
  const parsed = parseConfig(types, '/w/oodlens.json');
  assert.equal(parsed.options, undefined);
  const issues = new Map(parsed.issues.map((i) => [i.path, i]));
  const expect = [
    ['/id', '"id" must be a string', '3'],
    ['/models', '"models" must be an array of strings', '"m.onnx"'],
    ['/batchSize', '"batchSize" must be an integer', '0.5'],
    ['/keepFraction', '"keepFraction" must be between 0 and 1', '2'],
    ['/ood', '"ood" must be an array of strings', '[1]'],
  ];
  for (const [pointer, message, text] of expect) {
    const issue = issues.get(pointer);
    assert.ok(issue, pointer);
    assert.equal(issue.message, message);
    assert.equal(types.slice(issue.offset, issue.offset! + issue.length!), text, `${pointer} points at its value`);
  }
  assert.match(issues.get('/colour')!.message, /^Unknown setting "colour"/);
  assert.equal(types.slice(issues.get('/colour')!.offset, issues.get('/colour')!.offset! + issues.get('/colour')!.length!), '"colour"');

  assert.deepEqual(parseConfig('[1, 2]', '/w/oodlens.json').issues, [{ path: '', message: 'oodlens.json must contain a JSON object', offset: 0, length: 6 }]);
  assert.deepEqual(parseConfig('', '/w/oodlens.json').issues.map((i) => i.message), ['Invalid JSON at line 1, column 1: value expected']);
  const garbage = Buffer.from(Uint8Array.from(weights(300, 9), (v) => Math.floor((v + 1) * 127.99))).toString('latin1');
  assert.ok(parseConfig(garbage, '/w/oodlens.json').issues.length > 0, 'random bytes give issues');
});

test('a corrupted saved report is refused with a reason, never a throw', () => {
  const good = JSON.stringify(loadFixture());
  assert.ok(parseReport(good).report);
  const cases: [string, RegExp][] = [
    [good.slice(0, good.length >> 1), /^not JSON \(/],
    ['', /^not JSON \(/],
    ['null', /^not a JSON object$/],
    ['"a report"', /^not a JSON object$/],
    [JSON.stringify({ ...loadFixture(), schemaVersion: 99 }), /^schemaVersion 99 is not 2$/],
    [JSON.stringify({ ...loadFixture(), samples: {}, ood: 'none' }), /^missing samples, ood$/],
  ];
  for (const [text, reason] of cases) {
    const r = parseReport(text);
    assert.equal(r.report, undefined);
    assert.match(r.error ?? '', reason, text.slice(0, 40));
  }
});
