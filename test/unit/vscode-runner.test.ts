import '../helpers/vscode-mock';
import { test } from 'node:test';
import { scratchDirs } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as vscodeTypes from 'vscode';
import type { Report } from '../../src/engine/report/types';
import type { RunHooks } from '../../src/engine/run';
import { Runner, type RunRequest } from '../../src/vscode/runner';
import { ReportStore } from '../../src/vscode/store';
import { loadFixture } from '../helpers/report-fixture';
import { Memento, Uri, logChannel, ui } from '../helpers/vscode-mock';


const scratch = scratchDirs();

async function setup() {
  ui.reset();
  const dir = await scratch('oodlens-runner-');
  const store = new ReportStore(new Memento() as unknown as vscodeTypes.Memento);
  const log = logChannel();
  const runner = new Runner(store, log as unknown as vscodeTypes.LogOutputChannel);
  return { dir, store, log, runner };
}

/** A run the test finishes by hand; it honours the abort signal like the engine (resolves partial). */
function manualRun(dir: string, extra: Partial<RunRequest> = {}) {
  let finish!: (r: Report) => void;
  let hooks!: RunHooks;
  const req: RunRequest = {
    label: 'Scoring id with a.onnx',
    origin: 'id',
    reportDir: Uri.file(join(dir, '.oodlens', 'reports')) as unknown as vscodeTypes.Uri,
    models: ['/m/a.onnx'],
    execute: (h) => new Promise<Report>((resolve) => {
      hooks = h;
      finish = resolve;
      h.signal?.addEventListener('abort', () => resolve({ ...loadFixture(), partial: true }));
    }),
    ...extra,
  };
  return { req, finish: (r: Report) => finish(r), hooks: () => hooks };
}

test('one run at a time: a second run is refused with a message, never interleaved', async () => {
  const { dir, runner } = await setup();
  const first = manualRun(dir);
  const second = manualRun(dir);
  const running = runner.run(first.req);
  assert.equal(runner.busy, true);
  assert.equal(await runner.run(second.req), undefined);
  assert.match(ui.messages.at(-1)!.text, /already running "Scoring id with a\.onnx"/);
  first.finish(loadFixture());
  assert.ok(await running);
  assert.equal(runner.busy, false);
});

test('a finished run is saved atomically to latest.json, gates evaluated, and published', async () => {
  const { dir, store, runner } = await setup();
  const published: string[] = [];
  store.onDidChange((s) => published.push(s.file));
  const run = manualRun(dir, { gates: { auroc_min: { ood_near: 0.9 } }, configPath: join(dir, 'oodlens.json') });
  const done = runner.run(run.req);
  run.hooks().onProgress?.({ phase: 'scoring', split: 'id', model: '/m/a.onnx', done: 10, total: 20, imagesPerSecond: 41.25 });
  run.finish(loadFixture());
  await done;
  const file = join(dir, '.oodlens', 'reports', 'latest.json');
  assert.deepEqual(published, [file]);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).samples.length, loadFixture().samples.length);
  assert.deepEqual(store.current!.gates.map((g) => [g.pointer, g.passed]), [['/gates/auroc_min/ood_near', false]]);
  assert.deepEqual(ui.progress, ['id · a.onnx: 10/20 images · 41.3 images/s']);
  assert.match(ui.messages.at(-1)!.text, /1 of 1 gates failed/);
});

test('Cancel aborts the engine through its signal and keeps the partial report', async () => {
  const { dir, store, runner } = await setup();
  const run = manualRun(dir);
  const done = runner.run(run.req);
  ui.cancels[0].cancel();
  assert.equal(run.hooks().signal?.aborted, true);
  const report = await done;
  assert.equal(report?.partial, true);
  assert.equal(store.current?.report.partial, true);
  assert.match(ui.messages.at(-1)!.text, /cancelled\. The partial report/);
});

test('an engine error is shown and logged, and the runner is free again', async () => {
  const { dir, runner, log } = await setup();
  const failing: RunRequest = { ...manualRun(dir).req, execute: async () => { throw Object.assign(new Error('Split "ood" has no images'), { name: 'UserError' }); } };
  assert.equal(await runner.run(failing), undefined);
  assert.equal(runner.busy, false);
  assert.deepEqual(ui.messages.at(-1), { level: 'error', text: 'OOD Lens: Split "ood" has no images' });
  assert.ok(log.lines.some((l) => l === 'error Scoring id with a.onnx: Split "ood" has no images'));
});

test('watch mode re-runs once after the current run when a change arrives mid-run', async () => {
  const { dir, runner } = await setup();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const req: RunRequest = { ...manualRun(dir).req, execute: async () => { runs++; if (runs === 1) await gate; return loadFixture(); } };
  const first = runner.run(req);
  await runner.rerun();
  await runner.rerun();
  release();
  await first;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(runs, 2);
});
