// `--ood attack:N[:member]`: N inputs searched, from uniform noise, to make one ensemble member confident.
import { UserError } from '../util/errors';

export interface AttackSpec {
  count: number;
  /** Model name or index (from 0, in --model order); the first model when absent. */
  member?: string;
}

/** The searched images of an attack split, at the attacked member's input size. */
export interface AttackResult {
  member: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** count × H × W × C pixels (channels interleaved), as noise images are. */
  pixels: Uint8Array;
  /** The attacked member's max softmax on each final image. */
  confidence: Float64Array;
  target: number;
  steps: number;
  /** Search steps taken (the last step some input still improved at), and model evaluations in all. */
  stepsUsed: number;
  evaluations: number;
  seconds: number;
  /** True when a cancel stopped the search. */
  cancelled: boolean;
}

export interface AttackPlan extends AttackSpec {
  seed: number;
  /** Set once the search has run (before the split is scored). */
  result?: AttackResult;
}

export const DEFAULT_ATTACK_CONFIDENCE = 0.8;
export const DEFAULT_ATTACK_STEPS = 300;

/** Parses `attack:N` or `attack:N:member`; null when the source is not an attack spec. */
export function parseAttackSpec(source: string): AttackSpec | null {
  const m = /^attack:(\d+)(?::(.+))?$/.exec(source.trim());
  if (!m) return null;
  const count = Number(m[1]);
  if (count < 1) throw new UserError(`${source}: the attack split needs at least one input`);
  return m[2] ? { count, member: m[2] } : { count };
}

/** The attacked member: a model name first, else an index into the models (from 0). */
export function resolveMember<T extends { name: string }>(spec: AttackSpec, models: readonly T[]): T {
  if (spec.member === undefined) return models[0];
  const byName = models.find((m) => m.name === spec.member);
  if (byName) return byName;
  const i = /^\d+$/.test(spec.member) ? Number(spec.member) : -1;
  if (i >= 0 && i < models.length) return models[i];
  throw new UserError(`attack: no model "${spec.member}" (models: ${models.map((m, j) => `${j} ${m.name}`).join(', ')})`);
}
