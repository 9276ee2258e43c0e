// Decoding starts once the models are inspected, while their sessions are still being made (CollectContext.ready).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startModels } from '../../src/engine/run/load-models';
import { collectSplit, type CollectContext, type LoadedModel } from '../../src/engine/run/collect';
import { planSplits } from '../../src/engine/run/plan';
import { DecodePool } from '../../src/engine/image/decode-pool';
import { cpuQuota, physicalCores } from '../../src/engine/inference/cores';
import { tempDir, writeFile } from '../helpers/fixtures';
import { availableParallelism } from 'node:os';

const demo = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo');
const model = path.join(demo, 'models', 'ce_seed0.onnx');
const idFolder = path.join(demo, 'data', 'id_test');

/** Collects the ID split with `ready` as the models' readiness, recording when each chunk was sent to decoding. */
async function collect(models: LoadedModel[], ready: Promise<void>, signal?: AbortSignal) {
  const [plan] = await planSplits({ models: [model], id: idFolder, ood: [] });
  const pool = new DecodePool(1);
  const sent: number[] = [];
  const recording = Object.assign(Object.create(pool) as DecodePool, {
    decode: (job: Parameters<DecodePool['decode']>[0]) => (sent.push(performance.now()), pool.decode(job)),
  });
  const ctx: CollectContext = { models, ready, batchSize: 16, decodePool: recording, decodeConcurrency: 2, signal, progress: { done: 0, total: plan.files.length, started: Date.now() } };
  try {
    return { out: await collectSplit(plan, ctx), sent, total: plan.files.length };
  } finally {
    pool.close();
  }
}

/** A promise settled by hand, and when it was. */
function gate() {
  let open!: () => void, fail!: (e: Error) => void;
  const p = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  // As startModels' own handler does: a failed load is not an unhandled rejection before collecting waits on it.
  p.catch(() => undefined);
  const at = { t: Infinity };
  return { p, open: () => ((at.t = performance.now()), open()), fail, at };
}

test('models are handed over once inspected; decoding runs before the sessions are ready and the outputs are unchanged', async () => {
  const started = await startModels([model], ['cpu'], {}, {}, { batchSize: 16, decodeThreads: 1 }, () => undefined);
  assert.equal(started.models.length, 1);
  assert.equal(started.models[0].plan.name, 'ce_seed0');
  await started.ready;
  try {
    const reference = await collect(started.models, Promise.resolve());
    const g = gate();
    const running = collect(started.models, g.p);
    setTimeout(g.open, 300);
    const gated = await running;
    assert.ok(gated.sent.length >= 2 && gated.sent[1] < g.at.t, 'the first chunks were sent to decoding before the models were ready');
    assert.equal(gated.out.paths.length, reference.total);
    assert.deepEqual(gated.out.perModel.get('ce_seed0')!.logits, reference.out.perModel.get('ce_seed0')!.logits);
  } finally {
    started.models.forEach((m) => m.worker.close());
  }
});

test('a model that fails to load fails the split; a cancel while waiting for the models keeps nothing and does not hang', async () => {
  const started = await startModels([model], ['cpu'], {}, {}, { batchSize: 16, decodeThreads: 1 }, () => undefined);
  await started.ready;
  try {
    const failed = gate();
    const failing = collect(started.models, failed.p);
    failed.fail(new Error('Cannot load model x.onnx: broken'));
    await assert.rejects(failing, /Cannot load model x\.onnx: broken/);

    const abort = new AbortController();
    const never = new Promise<void>(() => undefined);
    const cancelled = collect(started.models, never, abort.signal);
    setTimeout(() => abort.abort(), 100);
    const { out, total } = await cancelled;
    assert.equal(out.paths.length, 0);
    assert.equal(out.notReached, total);
  } finally {
    started.models.forEach((m) => m.worker.close());
  }
});

test('sessions get one intra-op thread per physical core, within a container\'s CPU limit', () => {
  const cores = physicalCores();
  assert.ok(Number.isInteger(cores) && cores >= 1 && cores <= availableParallelism());
  const t = tempDir();
  try {
    const files = { v2: path.join(t.dir, 'cpu.max'), quota: path.join(t.dir, 'quota'), period: path.join(t.dir, 'period') };
    assert.equal(cpuQuota(files), Infinity, 'no cgroup files: no limit');
    writeFile(files.quota, '150000\n');
    writeFile(files.period, '100000\n');
    assert.equal(cpuQuota(files), 2, 'cgroup v1: 1.5 CPUs round up to 2 threads');
    writeFile(files.quota, '-1\n');
    assert.equal(cpuQuota(files), Infinity, 'cgroup v1 without a quota');
    writeFile(files.v2, '200000 100000\n');
    assert.equal(cpuQuota(files), 2, 'cgroup v2 cpu.max');
    writeFile(files.v2, 'max 100000\n');
    assert.equal(cpuQuota(files), Infinity, 'cgroup v2 without a limit');
  } finally {
    t.cleanup();
  }
});
