import * as path from 'node:path';
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { DEFAULTS, type RunOptions } from './options';
import type { Gates } from './gates';
import type { ConfiguredThreshold } from './operating-point';
import { checkParams } from './ood/choice';

/** A problem in oodlens.json, located by JSON pointer (and offset, for editor diagnostics). */
export interface ConfigIssue {
  path: string;
  message: string;
  offset?: number;
  length?: number;
}

export interface ParsedConfig {
  options?: RunOptions;
  gates?: Gates;
  /** Where the CLI writes reports when the config says so (resolved like every other path). */
  output?: { json?: string; html?: string; csv?: string; samples?: string };
  /** Deployment thresholds set by hand (also in options.thresholds). */
  thresholds?: ConfiguredThreshold[];
  issues: ConfigIssue[];
}

type Kind = 'string' | 'string[]' | 'number' | 'number[]' | 'integer' | 'object' | 'ensemble' | 'array';
const FIELDS: Record<string, { kind: Kind; path?: boolean; min?: number; max?: number }> = {
  models: { kind: 'string[]', path: true },
  id: { kind: 'string', path: true },
  ood: { kind: 'string[]', path: true },
  holdout: { kind: 'string[]' },
  calib: { kind: 'string', path: true },
  fit: { kind: 'string', path: true },
  batchSize: { kind: 'integer', min: 1, max: 65536 },
  executionProviders: { kind: 'string[]' },
  scores: { kind: 'string[]' },
  eceBins: { kind: 'integer', min: 1, max: 1000 },
  histogramBins: { kind: 'integer', min: 1, max: 1000 },
  keepFraction: { kind: 'number', min: 0, max: 1 },
  thresholds: { kind: 'array' },
  bootstrap: { kind: 'integer', min: 0, max: 100000 },
  seed: { kind: 'integer', min: 0 },
  preprocess: { kind: 'object' },
  params: { kind: 'object' },
  shaping: { kind: 'string' },
  conformalAlpha: { kind: 'number[]' },
  ensemble: { kind: 'ensemble' },
  cache: { kind: 'string', path: true },
  cacheMaxMB: { kind: 'integer', min: 1, max: 2 ** 30 },
  gates: { kind: 'object' },
  output: { kind: 'object' },
  $schema: { kind: 'string' },
};

function checkKind(node: Node, kind: Kind): string | null {
  switch (kind) {
    case 'string': return node.type === 'string' ? null : 'must be a string';
    case 'number': return node.type === 'number' ? null : 'must be a number';
    case 'integer': return node.type === 'number' && Number.isInteger(node.value) ? null : 'must be an integer';
    case 'object': return node.type === 'object' ? null : 'must be an object';
    case 'array': return node.type === 'array' ? null : 'must be an array';
    case 'ensemble': return node.type === 'boolean' || checkKind(node, 'string[]') === null ? null : 'must be true, false or an array of model names';
    case 'string[]': return node.type === 'array' && (node.children ?? []).every((c) => c.type === 'string') ? null : 'must be an array of strings';
    case 'number[]': return node.type === 'array' && (node.children ?? []).every((c) => c.type === 'number') ? null : 'must be an array of numbers';
  }
}

/** `noise:N` and `attack:N` sources are not paths; everything else is resolved relative to the config file's folder. */
function resolvePath(p: string, base: string): string {
  return /^(noise|attack):/.test(p) ? p : path.resolve(base, p);
}

/**
 * Parses oodlens.json (comments and trailing commas tolerated) into run options. Every problem is returned as an
 * issue with a JSON pointer and offset instead of thrown, so the editor can point at it.
 */
export function parseConfig(text: string, configPath: string): ParsedConfig {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const issues: ConfigIssue[] = errors.map((e) => ({ path: '', message: syntaxMessage(text, e), offset: e.offset, length: e.length }));
  if (!root || issues.length) return { issues: issues.length ? issues : [{ path: '', message: 'Empty file' }] };
  if (root.type !== 'object') return { issues: [{ path: '', message: 'oodlens.json must contain a JSON object', offset: root.offset, length: root.length }] };
  const base = path.dirname(path.resolve(configPath));
  const raw: Record<string, unknown> = {};
  const present = new Set<string>();
  for (const prop of root.children ?? []) {
    const keyNode = prop.children?.[0];
    const valueNode = prop.children?.[1];
    if (!keyNode || !valueNode) continue;
    const key = String(keyNode.value);
    present.add(key);
    const spec = FIELDS[key];
    if (!spec) {
      issues.push({ path: `/${key}`, message: `Unknown setting "${key}" (known: ${Object.keys(FIELDS).filter((k) => k !== '$schema').join(', ')})`, offset: keyNode.offset, length: keyNode.length });
      continue;
    }
    const bad = checkKind(valueNode, spec.kind);
    if (bad) {
      issues.push({ path: `/${key}`, message: `"${key}" ${bad}`, offset: valueNode.offset, length: valueNode.length });
      continue;
    }
    const value = nodeValue(valueNode);
    if (typeof value === 'number' && ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))) {
      issues.push({ path: `/${key}`, message: `"${key}" must be between ${spec.min} and ${spec.max ?? '∞'}`, offset: valueNode.offset, length: valueNode.length });
      continue;
    }
    raw[key] = spec.path ? (Array.isArray(value) ? value.map((v) => resolvePath(String(v), base)) : resolvePath(String(value), base)) : value;
  }
  // A present but invalid value already has its issue; "missing" would point away from it.
  if (!present.has('id')) issues.push({ path: '/id', message: 'Missing "id": the in-distribution folder', offset: root.offset, length: 1 });
  if (!present.has('models')) issues.push({ path: '/models', message: 'Missing "models": a list of .onnx files', offset: root.offset, length: 1 });
  let output: ParsedConfig['output'];
  if (raw.output) {
    output = {};
    for (const [k, v] of Object.entries(raw.output as Record<string, unknown>)) {
      const node = findNodeAtLocation(root, ['output', k]);
      if ((k === 'json' || k === 'html' || k === 'csv' || k === 'samples') && typeof v === 'string') output[k] = path.resolve(base, v);
      else issues.push({ path: `/output/${k}`, message: `"output.${k}": expected json, html, csv or samples with a file path`, offset: node?.offset, length: node?.length });
    }
  }
  if (raw.cacheMaxMB !== undefined && raw.cache === undefined) {
    const node = findNodeAtLocation(root, ['cacheMaxMB']);
    issues.push({ path: '/cacheMaxMB', message: '"cacheMaxMB" needs "cache": the folder it caps', offset: node?.offset, length: node?.length });
  }
  if (raw.params) {
    try {
      checkParams(raw.params as Record<string, Record<string, number>>);
    } catch (e) {
      const node = findNodeAtLocation(root, ['params']);
      issues.push({ path: '/params', message: (e as Error).message, offset: node?.offset, length: node?.length });
    }
  }
  const thresholds = raw.thresholds ? configuredThresholds(findNodeAtLocation(root, ['thresholds'])!, issues) : undefined;
  if (raw.id === undefined || raw.models === undefined) return { issues, gates: raw.gates as Gates | undefined, output, thresholds };
  const options: RunOptions = {
    models: raw.models as string[],
    id: raw.id as string,
    ood: raw.ood as string[] | undefined,
    holdout: raw.holdout as string[] | undefined,
    calib: raw.calib as string | undefined,
    fit: raw.fit as string | undefined,
    batchSize: raw.batchSize as number | undefined,
    executionProviders: raw.executionProviders as string[] | undefined,
    scores: raw.scores as string[] | undefined,
    eceBins: raw.eceBins as number | undefined,
    histogramBins: raw.histogramBins as number | undefined,
    keepFraction: raw.keepFraction as number | undefined,
    thresholds,
    bootstrap: raw.bootstrap as number | undefined,
    seed: raw.seed as number | undefined,
    preprocess: withResolvedLabelMap(raw.preprocess as RunOptions['preprocess'], base),
    params: raw.params as RunOptions['params'],
    shaping: raw.shaping as RunOptions['shaping'],
    conformalAlpha: raw.conformalAlpha as number[] | undefined,
    ensemble: raw.ensemble as RunOptions['ensemble'],
    cache: raw.cache === undefined ? undefined : { dir: raw.cache as string, maxBytes: ((raw.cacheMaxMB as number | undefined) ?? DEFAULTS.cacheMaxMB) * 2 ** 20 },
  };
  return { options, gates: raw.gates as Gates | undefined, output, thresholds, issues };
}

/** `thresholds`: [{ model, score, threshold }], one per model and score; each bad entry is an issue at its pointer. */
function configuredThresholds(node: Node, issues: ConfigIssue[]): ConfiguredThreshold[] {
  const out: ConfiguredThreshold[] = [];
  (node.children ?? []).forEach((item, i) => {
    const value = nodeValue(item) as Record<string, unknown>;
    const bad = (message: string) => issues.push({ path: `/thresholds/${i}`, message: `"thresholds[${i}]" ${message}`, offset: item.offset, length: item.length });
    if (item.type !== 'object') return bad('must be an object { "model", "score", "threshold" }');
    const extra = Object.keys(value).filter((k) => k !== 'model' && k !== 'score' && k !== 'threshold');
    if (extra.length) return bad(`has unknown key(s) ${extra.join(', ')} (known: model, score, threshold)`);
    if (typeof value.model !== 'string' || typeof value.score !== 'string') return bad('needs "model" and "score" names');
    if (typeof value.threshold !== 'number' || !Number.isFinite(value.threshold)) return bad('needs a finite number "threshold"');
    if (out.some((t) => t.model === value.model && t.score === value.score)) return bad(`repeats ${value.model} / ${value.score}`);
    out.push({ model: value.model, score: value.score, threshold: value.threshold });
  });
  return out;
}

/** A label map named in the config is relative to it, like every other path. */
function withResolvedLabelMap(p: RunOptions['preprocess'], base: string): RunOptions['preprocess'] {
  return p && typeof p.labelMap === 'string' ? { ...p, labelMap: path.resolve(base, p.labelMap) } : p;
}

/** "Invalid JSON at line 3, column 22: property name expected": the CLI prints messages without an editor to point. */
function syntaxMessage(text: string, e: ParseError): string {
  const before = text.slice(0, e.offset).split('\n');
  const what = printParseErrorCode(e.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return `Invalid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}: ${what}`;
}

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': return Object.fromEntries((node.children ?? []).map((p) => [String(p.children![0].value), nodeValue(p.children![1])]));
    case 'array': return (node.children ?? []).map(nodeValue);
    default: return node.value;
  }
}

/** Paths of the options that lie outside `root` (the extension asks before reading them, or writing the cache there). */
export function pathsOutside(options: RunOptions, root: string): string[] {
  const all = [...options.models, options.id, ...(options.ood ?? []), options.calib, options.fit, options.cache?.dir].filter((p): p is string => !!p && !/^(noise|attack):/.test(p));
  const r = path.resolve(root);
  return all.filter((p) => {
    const rel = path.relative(r, path.resolve(p));
    return rel.startsWith('..') || path.isAbsolute(rel);
  });
}
