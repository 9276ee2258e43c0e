// ASH-S (Djurisic et al., ICLR 2023): prune all but the largest activations of each sample, then sharpen the kept
// ones by exp(sum before / sum after) — ID samples, whose mass sits in few large activations, keep a larger energy.
import type { MethodSpec } from '../method';
import { ashShaping, percentileParam, shapedEnergyDetector } from '../shaping';

export const ash: MethodSpec = {
  name: 'ash',
  needs: { features: true, lastLayer: true, fit: false },
  defaults: { percentile: 90 },
  formula: '−logsumexp(W·(top_k(h)·exp(Σh / Σtop_k(h))) + b), k = d − round(d·percentile/100)',
  source:
    'Djurisic et al. 2023, "Extremely Simple Activation Shaping for Out-of-Distribution Detection", ASH-S on the ' +
    'pooled features (as the paper and OpenOOD v1.5 for ResNets); defaults from OpenOOD v1.5 ' +
    'configs/postprocessors/ash.yml (percentile 90). OpenOOD\'s ASHNet applies ASH-B (top-k set to Σh/k); this is ' +
    'the paper\'s ASH-S. An all-zero row keeps exponent 0 (torch gives NaN)',
  create: ({ layer, params, dense }) => shapedEnergyDetector(layer, ashShaping(percentileParam('ash', params, 'percentile')), dense),
};
