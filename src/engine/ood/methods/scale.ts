// SCALE (Xu et al., ICLR 2024): ASH-S's sharpening factor without its pruning — every activation is kept and the
// whole feature row is scaled by exp(Σh / Σ top-k(h)), which separates ID from OOD by the activations' shape alone.
import type { MethodSpec } from '../method';
import { percentileParam, scaleShaping, shapedEnergyDetector } from '../shaping';

export const scale: MethodSpec = {
  name: 'scale',
  needs: { features: true, lastLayer: true, fit: false },
  defaults: { percentile: 85 },
  formula: '−logsumexp(W·h·exp(Σh / Σtop_k(h)) + b), k = d − round(d·percentile/100)',
  source:
    'Xu et al. 2024, "Scaling for Training Time and Post-hoc Out-of-distribution Detection Enhancement", on the ' +
    'pooled features (as OpenOOD v1.5\'s ScaleNet); defaults from OpenOOD v1.5 configs/postprocessors/scale.yml ' +
    '(percentile 85). An all-zero row keeps exponent 0 (torch gives NaN)',
  create: ({ layer, params, dense }) => shapedEnergyDetector(layer, scaleShaping(percentileParam('scale', params, 'percentile')), dense),
};
