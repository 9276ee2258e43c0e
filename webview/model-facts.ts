// What the run fed each model and read from it: preprocessing (with the source of each value), the tensors used
// as logits and features, and the checks a user should see before trusting the numbers.
import type { ModelInfo } from '../src/engine/report/types';
import { h } from './dom';

function resizeText(p: NonNullable<ModelInfo['preprocess']>): string {
  const r = p.resize;
  const how = r === null ? `resize to ${p.crop[1]}×${p.crop[0]}` : 'shorter' in r ? `shorter side to ${r.shorter}, centre crop ${p.crop[1]}×${p.crop[0]}` : `resize to ${r.width}×${r.height}, centre crop ${p.crop[1]}×${p.crop[0]}`;
  return `${how} (${p.interpolation}, PIL)`;
}

function normText(p: NonNullable<ModelInfo['preprocess']>): string {
  const scale = Math.abs(p.rescale - 1 / 255) < 1e-12 ? '/255' : p.rescale === 1 ? 'raw 0..255' : `×${p.rescale}`;
  return p.mean ? `${scale}, mean [${p.mean.join(', ')}], std [${(p.std ?? []).join(', ')}]` : `${scale}, no mean/std`;
}

/** One line per model: the facts, then its checks; every value is text (names are never parsed as HTML). */
export function modelFacts(models: ModelInfo[]): HTMLElement | null {
  const rows = models.filter((m) => m.preprocess || m.outputs.features);
  if (rows.length === 0) return null;
  return h('details', { id: 'model-inputs' },
    h('summary', {}, 'Model inputs and outputs'),
    h('ul', {}, ...rows.map((m) => {
      const p = m.preprocess;
      const o = m.outputs;
      const parts = [
        p && `${resizeText(p)}; ${normText(p)}${p.exif ? '' : '; EXIF ignored'}`,
        p && `sources: ${Object.entries(p.sources).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `logits: ${o.logits}${o.logitsOf ? ` (input of the Softmax giving ${o.logitsOf})` : ''}`,
        o.features && `features: ${o.features} (${o.featuresSource === 'final-linear' ? 'input of the final linear layer' : o.featuresSource ?? 'output'}${o.featuresPooled ? ', averaged over H×W' : ''})`,
        m.fixedBatch && `fixed batch ${m.fixedBatch}`,
        m.inputType && m.inputType !== 'float32' && `${m.inputType} input`,
        m.cpuCheck && `${m.executionProvider} vs CPU on the first batch: max |Δlogit| ${m.cpuCheck.maxAbsLogitDiff.toExponential(1)}`,
        m.normalizationCheck && `normalization check on ${m.normalizationCheck.samples} ID images: [0,1] ${(100 * m.normalizationCheck.accuracy.none).toFixed(1)}%, ImageNet ${(100 * m.normalizationCheck.accuracy.imagenet).toFixed(1)}%, Inception ${(100 * m.normalizationCheck.accuracy.inception).toFixed(1)}%`,
      ].filter((x): x is string => typeof x === 'string' && x.length > 0);
      return h('li', {}, h('strong', {}, m.name), ': ', parts.join(' · '));
    })));
}
