// NCI (Liu & Qin, CVPR 2024), from neural collapse: ID features, centred on the global mean, point along the weight
// vector of their predicted class, and OOD features sit nearer the origin. The ID score is the projection of the
// centred feature's direction on w_ŷ plus α‖h‖₁; negated here so that higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { argmaxRow, fitMean, sqDist } from '../class-stats';

export const nci: MethodSpec = {
  name: 'nci',
  needs: { features: true, lastLayer: true, fit: true },
  defaults: { alpha: 0.0001 },
  formula: '−[w_ŷ · (h − μ_G) / ‖h − μ_G‖ + α‖h‖₁], μ_G = mean fit feature, ŷ = argmax z',
  source:
    'Liu & Qin 2024, "Detecting Out-of-distribution through the Lens of Neural Collapse" (alpha = 0.0001 and w_ŷ not ' +
    'normalized, as OpenOOD v1.5 nci.yml and nci_postprocessor by the same authors). μ_G over every fit row, labels ' +
    'unused; NaN where h = μ_G exactly (no direction)',
  create: ({ d, k, layer, params }) => {
    if (!layer) throw new Error('nci needs the last layer (W)');
    const W = layer.W;
    const fitted = fitMean(d);
    return {
      fit: fitted.fit,
      finish: fitted.finish,
      score({ features, logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        const mu = fitted.mean();
        for (let i = 0; i < n; i++) {
          if (!mu || !features || !finiteRow(features, i, d) || !finiteRow(logits, i, k)) continue;
          const off = i * d;
          const w = argmaxRow(logits, i * k, k) * d;
          let dot = 0;
          let l1 = 0;
          for (let j = 0; j < d; j++) { dot += W[w + j] * (features[off + j] - mu[j]); l1 += Math.abs(features[off + j]); }
          const norm = Math.sqrt(sqDist(features, off, mu, d));
          if (norm > 0) out[i] = -(dot / norm + params.alpha * l1);
        }
        return out;
      },
    };
  },
};
