// Which OOD methods a run computes, with which parameters: `--scores` names (logit scores and registry methods),
// `--param method.key=value` over each method's defaults.
import type { MethodChoice } from '../analysis/feature-scoring';
import type { RunOptions } from '../options';
import { UserError } from '../util/errors';
import { METHODS, methodSpec } from './registry';
import { LOGIT_SCORES, type LogitScore } from '../scores/logit-scores';

/** Registry methods the run asks for: the named ones, or every one (undefined) when --scores is not given. */
export function methodChoice(opts: Pick<RunOptions, 'scores' | 'params' | 'shaping'>): MethodChoice {
  const wanted = opts.scores?.length ? opts.scores.filter((s) => methodSpec(s)) : undefined;
  const logit = (opts.scores?.length ? opts.scores : LOGIT_SCORES).filter((s): s is LogitScore => (LOGIT_SCORES as readonly string[]).includes(s));
  return { wanted, params: opts.params, ...(opts.shaping ? { shaping: { name: opts.shaping, scores: logit } } : {}) };
}

/** Whether a fit split feeds any method asked for, given whether some model has a feature tensor. */
export function fitNeeded(opts: Pick<RunOptions, 'scores' | 'params' | 'shaping'>, features: boolean): boolean {
  const { wanted } = methodChoice(opts);
  return (opts.shaping === 'react' && features) || METHODS.some((m) => m.needs.fit && (!wanted || wanted.includes(m.name)) && (features || !m.needs.features));
}

/** Parses `method.key=value` pairs (CLI --param) into per-method parameters, refusing unknown names and keys. */
export function parseParams(pairs: readonly string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const pair of pairs) {
    const m = /^([a-z_0-9]+)\.([a-zA-Z_0-9]+)=(.+)$/.exec(pair.trim());
    if (!m) throw new UserError(`--param expects method.key=value, e.g. react.percentile=90, got "${pair}"`);
    const [, method, key, raw] = m;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new UserError(`--param ${method}.${key} expects a number, got "${raw}"`);
    (out[method] ??= {})[key] = value;
  }
  checkParams(out);
  return out;
}

/** Every method and key must exist in the registry (the config file gets the same check). */
export function checkParams(params: Record<string, Record<string, number>>): void {
  for (const [method, values] of Object.entries(params)) {
    const spec = methodSpec(method);
    if (!spec) throw new UserError(`Unknown method "${method}" in parameters (known: ${METHODS.map((x) => x.name).join(', ')})`);
    for (const key of Object.keys(values)) {
      if (!(key in spec.defaults)) {
        const keys = Object.keys(spec.defaults);
        throw new UserError(`${method} has no parameter "${key}" (${keys.length ? `it has: ${keys.join(', ')}` : 'it takes none'})`);
      }
    }
  }
}
