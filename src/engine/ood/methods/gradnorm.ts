// GradNorm (Huang et al., NeurIPS 2021) in its analytic last-layer form: the L1 norm of the gradient of
// KL(uniform ‖ softmax) with respect to the last layer's weights, which factorizes as ‖h‖₁ · Σ_c |p_c − 1/C|.
// The paper's score is that norm (higher = more ID); it is negated here, as every score is higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { softmaxInto } from '../../util/rows';

export const gradnorm: MethodSpec = {
  name: 'gradnorm',
  needs: { features: true, lastLayer: false, fit: false },
  defaults: {},
  formula: '−‖h‖₁ · Σ_c |softmax(z)_c − 1/C|',
  source: 'Huang et al. 2021, "On the Importance of Gradients for Detecting Distributional Shifts in the Wild" (T = 1, as OpenOOD)',
  create: ({ d, k }) => ({
    score({ features, logits, n }) {
      const out = new Float64Array(n);
      const p = new Float64Array(k);
      for (let i = 0; i < n; i++) {
        if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, k)) {
          out[i] = NaN;
          continue;
        }
        let l1 = 0;
        for (let j = 0; j < d; j++) l1 += Math.abs(features[i * d + j]);
        softmaxInto(logits, i * k, k, p);
        let g = 0;
        for (let c = 0; c < k; c++) g += Math.abs(p[c] - 1 / k);
        out[i] = -l1 * g;
      }
      return out;
    },
  }),
};
