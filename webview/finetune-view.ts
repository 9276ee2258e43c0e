// `ood-lens finetune` in the panel and the HTML report: the fitted loss, every split before → after, and the energy
// histograms before and after, each with its deployment threshold and its data table.
import type { FinetuneReport, FinetuneStage } from '../src/engine/report/types';
import { type ChartSpec, histogramChart } from './charts';
import { fmt, h, table } from './dom';
import type { Theme } from './theme';

export const FINETUNE_CONVENTIONS =
  'Energy E = −T·logsumexp(z/T), higher = more OOD. The last layer is refitted from the trained W, b by L-BFGS on CE(fit) + λ·(mean relu(E_in − m_in)² + mean relu(m_out − E_out)²) + l2/2·‖W − W₀‖²; ' +
  '"after" is W′·h + b′ on the same features. Outliers trained the layer, so they get no AUROC. The other sections of this report are the model before fine-tuning.';

const STAGE_METRICS: [string, keyof FinetuneStage][] = [['accuracy', 'accuracy'], ['ECE', 'ece'], ['energy AUROC', 'auroc'], ['energy FPR95', 'fpr95'], ['mean energy', 'meanEnergy']];

export function finetuneSection(f: FinetuneReport | undefined): HTMLElement | null {
  if (!f) return null;
  const margin = (v: number, source: string) => `${fmt(v)} (${source === 'default' ? 'from the fit split' : 'given'})`;
  const settings = `Fitted on "${f.fittedOn}" (${f.nLabelled} labelled) with outliers ${f.outliers.source} (${f.outliers.count}) · λ ${fmt(f.lambda)} · T ${fmt(f.T)} · ` +
    `l2 ${fmt(f.l2)} · m_in ${margin(f.mIn, f.marginSource.mIn)} · m_out ${margin(f.mOut, f.marginSource.mOut)} · loss ${fmt(f.loss.before.total)} → ${fmt(f.loss.after.total)} ` +
    `in ${f.iterations} iterations${f.converged ? '' : ' (not converged)'} · ‖ΔW‖/‖W‖ ${fmt(f.weightChange)}${f.out ? ` · written to ${f.out}` : ''}`;
  const head = ['split', 'role', 'n', ...STAGE_METRICS.flatMap(([name]) => [`${name} before`, `${name} after`])];
  const rows = f.splits.map((s) => [s.split, s.role, s.n, ...STAGE_METRICS.flatMap(([, key]) => [fmt(s.before[key]), fmt(s.after[key])])]);
  return h('section', { id: 'finetune-section', 'aria-labelledby': 'finetune-heading' },
    h('h2', { id: 'finetune-heading' }, `Energy fine-tuning of ${f.model}'s last layer`),
    h('p', { id: 'finetune-settings' }, settings),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-labelledby': 'finetune-heading' },
      table('finetune-table', 'Every split before and after fine-tuning', head, rows)),
    h('div', { id: 'finetune-charts', class: 'charts' }),
    h('p', { class: 'conventions-line' }, FINETUNE_CONVENTIONS));
}

/** The energy histograms of the report's splits under the trained and the fine-tuned layer. */
export function finetuneCharts(f: FinetuneReport | undefined, splits: string[], theme: Theme): ChartSpec[] {
  if (!f) return [];
  return (['before', 'after'] as const).map((stage) => {
    const spec = histogramChart(f.histograms[stage], splits, theme);
    return { ...spec, id: `finetune-${stage}`, title: `Energy ${stage} fine-tuning · ${f.model}`, summary: `${stage === 'before' ? 'Before' : 'After'} fine-tuning. ${spec.summary}` };
  });
}
