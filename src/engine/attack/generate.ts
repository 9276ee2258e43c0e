// Runs the attack search of an attack split against its member's inference worker, before the split is scored.
import { makeSampleWriter } from '../image/preprocess';
import { inputDims, looksLikeProbabilities, type LoadedModel } from '../run/collect';
import type { SplitPlan } from '../run/plan';
import type { Progress } from '../options';
import { randomSearch, type Evaluate } from './search';
import { DEFAULT_ATTACK_CONFIDENCE, DEFAULT_ATTACK_STEPS, resolveMember } from './spec';
import { UserError } from '../util/errors';

export interface AttackRunOptions {
  confidence?: number;
  steps?: number;
  batchSize: number;
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
}

/** Max softmax per row of logits (or of probabilities, when the model outputs those). */
function maxSoftmax(z: Float32Array, n: number, k: number, probabilities: boolean, out: Float64Array, at: number): void {
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, z[i * k + c]);
    if (probabilities) {
      out[at + i] = m;
      continue;
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(z[i * k + c] - m);
    out[at + i] = Number.isFinite(m) ? 1 / s : NaN;
  }
}

/** The member's max softmax on batches of pixels, every batch of a call sent at once (the worker runs them in order). */
function memberEvaluate(member: LoadedModel, batchSize: number): Evaluate {
  const { plan } = member;
  const writer = makeSampleWriter(plan.spec);
  const size = plan.spec.height * plan.spec.width * plan.spec.channels;
  return async (pixels, m) => {
    const out = new Float64Array(m);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < m; start += batchSize) {
      const n = Math.min(batchSize, m - start);
      const input = new Float32Array(n * size);
      for (let j = 0; j < n; j++) writer(pixels.subarray((start + j) * size, (start + j + 1) * size), input, j);
      jobs.push(member.worker.run(plan.inputName, input, inputDims(plan, n)).then(({ outputs }) => {
        const { data, dims } = outputs[plan.logitsOutput];
        const k = dims[1] ?? data.length / n;
        member.outputKind ??= looksLikeProbabilities(data, n, k) ? 'probabilities' : 'logits';
        maxSoftmax(data, n, k, member.outputKind === 'probabilities', out, start);
        member.worker.recycle(outputs);
      }));
    }
    await Promise.all(jobs);
    return out;
  };
}

/** Searches the split's images and stores them in `plan.attack.result`; a cancel keeps what the search reached. */
export async function runAttack(plan: SplitPlan, models: readonly LoadedModel[], o: AttackRunOptions): Promise<void> {
  const attack = plan.attack;
  if (!attack) return;
  const target = o.confidence ?? DEFAULT_ATTACK_CONFIDENCE;
  const steps = o.steps ?? DEFAULT_ATTACK_STEPS;
  if (!(target > 0 && target < 1)) throw new UserError(`The attack's confidence must lie in (0, 1) (got ${target})`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new UserError(`The attack's steps must be a non-negative integer (got ${steps})`);
  const member = resolveMember(attack, models.map((m) => ({ name: m.plan.name, m }))).m;
  const { height, width, channels } = member.plan.spec;
  const started = Date.now();
  const res = await randomSearch(memberEvaluate(member, o.batchSize), {
    count: attack.count, height, width, channels, seed: attack.seed, steps, target, signal: o.signal,
    onStep: (t) => o.onProgress?.({ phase: 'attack', split: plan.name, model: member.plan.name, done: t, total: steps, imagesPerSecond: 0 }),
  });
  attack.result = {
    member: member.plan.name, height, width, channels, target, steps, ...res, seconds: (Date.now() - started) / 1000,
  };
}
