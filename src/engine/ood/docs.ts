// The documentation made from the registry: the README's table of methods and the lists of score names in the
// JSON Schema and the VS Code setting. test/unit/ood-docs.test.ts checks them (UPDATE_DOCS=1 rewrites them).
import { LOGIT_SCORES } from '../scores/logit-scores';
import { METHODS } from './registry';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function needsText(n: { features: boolean; lastLayer: boolean; fit: boolean }): string {
  return [n.features ? 'features' : 'logits', n.lastLayer && 'W, b', n.fit && 'fit split'].filter(Boolean).join(', ');
}

function defaultsText(d: Record<string, number>): string {
  const e = Object.entries(d);
  return e.length ? e.map(([k, v]) => `${k} = ${v}`).join(', ') : '—';
}

/** The README table: name, score, needs, defaults, source. */
export function methodsTable(): string {
  const rows = METHODS.map((m) => `| \`${m.name}\` | ${cell(m.formula)} | ${needsText(m.needs)} | ${defaultsText(m.defaults)} | ${cell(m.source)} |`);
  return ['| `--scores` | score (higher = more OOD) | needs | defaults (`--param`) | source |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Every score name a run knows, logit scores first. */
export function scoreNames(): string[] {
  return [...LOGIT_SCORES, ...METHODS.map((m) => m.name)];
}
