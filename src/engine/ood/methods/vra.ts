// VRA (Xu et al., NeurIPS 2023): the variationally optimal activation edit suppresses both abnormally low and
// abnormally high activations and keeps (or lifts by γ) the intermediate ones; ReAct is its high-side half.
import type { MethodSpec } from '../method';
import { ActivationLog, percentileParam, shapedEnergyDetector, type Shaping } from '../shaping';

/** h < α → 0 (zero_low = 1, the paper) or α (zero_low = 0, OpenOOD v1.5); α ≤ h ≤ β → h + γ; h > β → β. */
function vraShaping(low: number, high: number, gamma: number, zeroLow: boolean): Shaping {
  const log = new ActivationLog();
  let alpha = NaN, beta = NaN;
  return {
    fit: (h, n, d) => log.push(h, n, d),
    finish() { [alpha, beta] = log.percentiles([low, high]); },
    apply(h, i, d, out) {
      for (let j = 0; j < d; j++) {
        const x = h[i * d + j];
        out[j] = x < alpha ? (zeroLow ? 0 : alpha) : x > beta ? beta : x + gamma;
      }
    },
  };
}

export const vra: MethodSpec = {
  name: 'vra',
  needs: { features: true, lastLayer: true, fit: true },
  defaults: { percentile_high: 90, percentile_low: 10, gamma: 0, zero_low: 1 },
  formula: '−logsumexp(W·g(h) + b), g = 0 below α, h + γ in [α, β], β above; α, β percentiles of all fit activations',
  source:
    'Xu et al. 2023, "VRA: Variational Rectified Activation for Out-of-distribution Detection" (VRA; γ > 0 is VRA+); ' +
    'defaults from OpenOOD v1.5 configs/postprocessors/vra.yml (percentile_low 10, percentile_high 90, over all fit ' +
    'activations flattened as OpenOOD). OpenOOD\'s postprocessor clips low activations up to α instead of zeroing ' +
    'them as the paper does: zero_low = 0 reproduces it',
  create: ({ layer, params, dense }) => {
    const low = percentileParam('vra', params, 'percentile_low');
    const high = percentileParam('vra', params, 'percentile_high');
    return shapedEnergyDetector(layer, vraShaping(low, high, params.gamma, params.zero_low !== 0), dense);
  },
};
