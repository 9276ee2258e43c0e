// DICE (Sun & Li, ECCV 2022): keeps only the weights that carry most of the ID contribution to the logits,
// V = mean_fit(h) ⊙ W, and zeroes the rest; OOD inputs lean on the pruned, noisy weights, so their energy drops.
import type { LastLayer } from '../../onnx/last-layer';
import { finiteRow, type MethodSpec } from '../method';
import { identityShaping, percentileParam, shapedEnergy } from '../shaping';
import { percentile } from '../stats';
import { Scratch } from '../../linalg/rows';

export const dice: MethodSpec = {
  name: 'dice',
  needs: { features: true, lastLayer: true, fit: true },
  defaults: { p: 90 },
  formula: '−logsumexp((W ⊙ [V > p-th percentile of V])·h + b), V = mean_fit(h) ⊙ W',
  source:
    'Sun & Li 2022, "DICE: Leveraging Sparsification for Out-of-Distribution Detection"; defaults from OpenOOD v1.5 ' +
    'configs/postprocessors/dice.yml (p 90: the top 10% of contributions kept); mean activation over the fit split ' +
    '(OpenOOD: its train split)',
  create: ({ layer, params, dense }) => {
    if (!layer) throw new Error('dice needs the final linear layer (W, b)');
    const p = percentileParam('dice', params, 'p');
    const { W, k, d } = layer;
    const sum = new Float64Array(d);
    let count = 0;
    let masked: LastLayer | null = null;
    const scratch = new Scratch();
    return {
      fit({ features, n }) {
        if (!features) return;
        for (let i = 0; i < n; i++) {
          if (!finiteRow(features, i, d)) continue;
          for (let j = 0; j < d; j++) sum[j] += features[i * d + j];
          count++;
        }
      },
      finish() {
        if (count === 0) return; // no finite fit row: every score stays NaN
        const v = new Float64Array(k * d);
        for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) v[c * d + j] = (sum[j] / count) * W[c * d + j];
        const t = percentile(v, p);
        masked = { ...layer, W: W.map((w, at) => (v[at] > t ? w : 0)) };
      },
      score: async (b) => (masked ? shapedEnergy(masked, identityShaping, b, dense, scratch) : new Float64Array(b.n).fill(NaN)),
    };
  },
};
