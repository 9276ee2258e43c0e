// ReAct (Sun et al., NeurIPS 2021): clipping the penultimate activations at a high percentile of their ID values
// removes the few abnormally large activations that OOD inputs trigger, then scores the energy of the logits.
import type { MethodSpec } from '../method';
import { percentileParam, reactShaping, shapedEnergyDetector } from '../shaping';

export const react: MethodSpec = {
  name: 'react',
  needs: { features: true, lastLayer: true, fit: true },
  defaults: { percentile: 90 },
  formula: '−logsumexp(W·min(h, c) + b), c = percentile-th percentile of all fit activations (flattened)',
  source:
    'Sun et al. 2021, "ReAct: Out-of-distribution Detection With Rectified Activations"; defaults from OpenOOD v1.5 ' +
    'configs/postprocessors/react.yml (percentile 90; c over the fit split where OpenOOD uses its ID validation split)',
  create: ({ layer, params, dense }) => shapedEnergyDetector(layer, reactShaping(percentileParam('react', params, 'percentile')), dense),
};
