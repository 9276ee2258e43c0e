// Issue 15: an early exit or a cancellation while onnxruntime is still creating sessions in the inference threads
// must never abort the process (it did: SIGABRT, "terminate called after throwing an instance of 'Napi::Error'",
// in 9 of 20 runs of a typo with two models). The failure is a race, so each case runs many times.
// The same file is the child process of the VS Code case (OODLENS_TEARDOWN_CHILD set): it runs the Runner that the
// extension's deactivate stops, then exits the way the extension host does.
import '../helpers/vscode-mock';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type * as vscodeTypes from 'vscode';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DEMO = path.join(ROOT, 'examples', 'demo');
const model = (name: string) => path.join(DEMO, 'models', `${name}.onnx`);
const RUNS = 50;

interface Outcome { code: number | null; signal: string | null; stderr: string }

function run(args: string[], opts: { sigintAfterMs?: number; env?: Record<string, string> } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, OOD_LENS_DEBUG: '', ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    if (opts.sigintAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), opts.sigintAfterMs);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Runs `count` cases two at a time (both cores busy, as in a user's run). */
async function repeat(count: number, one: (i: number) => Promise<Outcome>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < count; i += 2) out.push(...(await Promise.all([one(i), ...(i + 1 < count ? [one(i + 1)] : [])])));
  return out;
}

/**
 * How long the CLI takes to start (`--version`, median of 3, two at a time like the cases): the Ctrl-C delays are
 * counted from there, so on a loaded machine they still reach loading, listing and scoring rather than falling
 * before the CLI has installed its SIGINT handler.
 */
async function startupMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await Promise.all([run([CLI, '--version']), run([CLI, '--version'])]);
    times.push(Date.now() - t0);
  }
  return times.sort((a, b) => a - b)[1];
}

const aborted = (o: Outcome) => o.signal === 'SIGABRT' || o.code === 134 || /terminate called|Napi::Error/.test(o.stderr);

async function childMain(delayMs: number): Promise<void> {
  const { Runner } = await import('../../src/vscode/runner');
  const { ReportStore } = await import('../../src/vscode/store');
  const { Memento, Uri, logChannel } = await import('../helpers/vscode-mock');
  const { runScore } = await import('../../src/engine/run');
  const runner = new Runner(new ReportStore(new Memento() as unknown as vscodeTypes.Memento), logChannel() as unknown as vscodeTypes.LogOutputChannel);
  const running = runner.run({
    label: 'teardown', origin: 'id', models: [],
    reportDir: Uri.file(path.join(process.env.TMPDIR ?? '/tmp', `oodlens-teardown-${process.pid}`)) as unknown as vscodeTypes.Uri,
    execute: (hooks) => runScore({ models: [model('ce_seed0'), model('ce_seed1')], id: path.join(DEMO, 'data', 'id_test'), ood: [path.join(DEMO, 'data', 'ood_heldout')], fit: path.join(DEMO, 'data', 'id_fit') }, hooks),
  });
  await new Promise((r) => setTimeout(r, delayMs));
  await runner.stop();
  void running;
  process.exit(0);
}

if (process.env.OODLENS_TEARDOWN_CHILD) {
  void childMain(Number(process.env.OODLENS_TEARDOWN_CHILD));
} else {
  test(`a typo in a folder with three models loading: exit 1 with one line, never an abort (${RUNS} runs)`, { timeout: 300_000 }, async () => {
    const args = [CLI, 'score', '--model', model('ce_seed0'), '--model', model('ce_seed1'), '--model', model('ce_seed2'),
      '--id', path.join(DEMO, 'data', 'id_test'), '--ood', path.join(DEMO, 'data', 'ood_heldut')];
    const outcomes = await repeat(RUNS, () => run(args));
    for (const o of outcomes) {
      assert.ok(!aborted(o), `aborted: ${o.stderr}`);
      assert.equal(o.code, 1, o.stderr);
      assert.match(o.stderr, /^ood-lens: Folder not found: .*ood_heldut\n$/);
    }
  });

  test(`Ctrl-C in the first second of a two-model run: exit 130 (or 0 when done first), never an abort (${RUNS} runs)`, { timeout: 300_000 }, async () => {
    const args = [CLI, 'score', '--quiet', '--model', model('ce_seed0'), '--model', model('ce_seed1'),
      '--id', path.join(DEMO, 'data', 'id_test'), '--ood', path.join(DEMO, 'data', 'ood_heldout'), '--ood', path.join(DEMO, 'data', 'ood_digits'),
      '--fit', path.join(DEMO, 'data', 'id_fit')];
    // Delays spread over 0–980 ms after start-up reach every phase: inspection, session creation, listing, scoring,
    // and the fit's products and eigen-decompositions on the dense thread.
    const start = await startupMs();
    const outcomes = await repeat(RUNS, (i) => run(args, { sigintAfterMs: start + i * 20 }));
    for (const o of outcomes) {
      assert.ok(!aborted(o), `aborted: ${o.stderr}`);
      // A signal that comes before the CLI has installed its handler (delay 0) ends node by the default action.
      assert.ok(o.code === 130 || o.code === 0 || o.signal === 'SIGINT', `exit ${o.code} ${o.signal}: ${o.stderr}`);
    }
    assert.ok(outcomes.filter((o) => o.code === 130).length >= RUNS / 2, 'most runs were cancelled');
  });

  test(`VS Code: deactivate during a run's first second, then the host exits: never an abort (${RUNS} runs)`, { timeout: 300_000 }, async () => {
    const outcomes = await repeat(RUNS, (i) => run([__filename], { env: { OODLENS_TEARDOWN_CHILD: String(i * 20) } }));
    for (const o of outcomes) {
      assert.ok(!aborted(o), `aborted: ${o.stderr}`);
      assert.equal(o.code, 0, o.stderr);
    }
  });
}
