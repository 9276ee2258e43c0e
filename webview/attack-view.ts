// `attack:N[:member]` splits in the panel and the HTML report: how often the search fooled its member, and the
// fraction of the attack inputs every model's scores and the ensemble rule flag at the deployment threshold.
import type { AttackRow } from '../src/engine/report/types';
import { fmt, h, table } from './dom';

export const ATTACK_CONVENTIONS =
  'Inputs start as uniform noise and are searched without gradients (random noise squares kept when the member\'s max softmax rises) until that member\'s max softmax reaches the target. ' +
  'Flagged: the fraction of the attack inputs above each score\'s deployment threshold; the ensemble rule flags KL > 10× the ID mean or members that disagree.';

function attackTables(a: AttackRow): HTMLElement {
  const models = [...new Set(a.flagged.map((f) => f.model))];
  const scores = [...new Set(a.flagged.map((f) => f.score))];
  const cell = (m: string, s: string) => {
    const f = a.flagged.find((x) => x.model === m && x.score === s);
    return f ? fmt(f.fraction) : '—';
  };
  const rule = a.ensembleRule ? ` The ensemble rule flags ${a.ensembleRule.either} of ${a.ensembleRule.n} (${fmt(a.ensembleRule.fraction)}): KL ${a.ensembleRule.kl}, disagreement ${a.ensembleRule.disagree}.` : '';
  return h('div', { class: 'attack', 'data-split': a.split },
    h('p', {}, `"${a.split}" (${a.source}) attacks ${a.member}: ${a.success} of ${a.count} inputs (${fmt(a.successRate)}) reached max softmax ≥ ${a.target}, ` +
      `mean ${fmt(a.meanConfidence)}, in ${a.stepsUsed} of ${a.steps} steps (${a.evaluations} evaluations, ${a.seconds.toFixed(1)} s, seed ${a.seed})${a.cancelled ? ', cancelled' : ''}.${rule}`),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': `Attack inputs flagged, ${a.split}` },
      table(`attack-table-${a.split}`, `Fraction of "${a.split}" flagged at each score's deployment threshold`, ['model', ...scores], models.map((m) => [m, ...scores.map((s) => cell(m, s))]))));
}

export function attackSection(rows: AttackRow[] | undefined): HTMLElement | null {
  if (!rows?.length) return null;
  return h('section', { id: 'attack-section', 'aria-labelledby': 'attack-heading' },
    h('h2', { id: 'attack-heading' }, 'Confident-fooling attack'), ...rows.map(attackTables),
    h('p', { class: 'conventions-line' }, ATTACK_CONVENTIONS));
}
