// sharp now decodes inside the decoding threads: a Ctrl-C while they are in libvips must still end the CLI cleanly
// (threads are never terminated mid-call; the process waits for them), never with an abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// The CLI built beside this test bundle (dist/ or a helper's build folder).
const CLI = path.resolve(__dirname, '..', '..', 'cli.js');
const RUNS = 20;

test(`Ctrl-C while JPEGs decode in the decoding threads: exit 130 (or 0 when done first), never an abort (${RUNS} runs)`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oodlens-jpeg-teardown-'));
  try {
    const jpegs = readdirSync(path.join(ROOT, 'test', 'fixtures', 'jpeg')).filter((f) => f.endsWith('.jpg'));
    for (const [split, classes] of [['id', ['a', 'b']], ['ood', ['c']]] as const) {
      for (const c of classes) {
        mkdirSync(path.join(dir, split, c), { recursive: true });
        for (let i = 0; i < 60; i++) copyFileSync(path.join(ROOT, 'test', 'fixtures', 'jpeg', jpegs[i % jpegs.length]), path.join(dir, split, c, `${i}.jpg`));
      }
    }
    // Not quiet: the CLI prints "scored N/M images" at every tenth, so each Ctrl-C lands while the threads decode.
    const args = [CLI, 'score', '--model', path.join(ROOT, 'examples', 'demo', 'models', 'ce_seed0.onnx'), '--resize', '40', '--id', path.join(dir, 'id'), '--ood', path.join(dir, 'ood'), '--json', path.join(dir, 'r.json')];
    const one = (delay: number) => new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let sent = false;
      child.stderr.on('data', (d) => {
        stderr += d;
        if (!sent && /scored/.test(stderr)) (sent = true), setTimeout(() => child.kill('SIGINT'), delay);
      });
      child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    });
    const outcomes: { code: number | null; signal: string | null; stderr: string }[] = [];
    // Two at a time, both cores busy; 0–190 ms after the first tenth is scored.
    for (let i = 0; i < RUNS; i += 2) outcomes.push(...(await Promise.all([one(i * 10), one(i * 10 + 10)])));
    for (const o of outcomes) {
      assert.ok(!(o.signal === 'SIGABRT' || o.code === 134 || /terminate called|Napi::Error|Abort/.test(o.stderr)), `aborted: ${o.stderr}`);
      assert.ok(o.code === 130 || o.code === 0, `exit ${o.code} ${o.signal}: ${o.stderr}`);
    }
    assert.ok(outcomes.filter((o) => o.code === 130).length >= RUNS / 2, 'most runs were cancelled while decoding');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
