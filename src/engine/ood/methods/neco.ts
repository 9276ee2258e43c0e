// NECO (Ben Ammar et al., ICLR 2024), from neural collapse: ID features concentrate in the low-dimensional span of
// the class means, OOD features are nearly orthogonal to it. The ID score is the share of a feature's norm inside
// the principal subspace of the fit features, ‖P h‖ / ‖h‖; negated here so that higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { ClassScatter, principalSplit, projectedSq, sqDist } from '../class-stats';
import { vimDim } from '../../scores/feature-scores';

export const neco: MethodSpec = {
  name: 'neco',
  needs: { features: true, lastLayer: false, fit: true },
  // dim 0 = ViM's rule; standardize 1 = per-feature z-scores before the PCA; maxlogit 1 = × max z (transformers).
  defaults: { dim: 0, standardize: 1, maxlogit: 0 },
  formula: '−‖P(h̃ − μ̃)‖ / ‖h̃‖, h̃ = (h − μ)/σ on the fit split, P = top-dim principal components of h̃',
  source:
    'Ben Ammar et al. 2024, "NECO: NEural Collapse Based Out-of-distribution detection" (not in OpenOOD v1.5; the ' +
    'authors\' code standardizes features, sklearn StandardScaler with scale 1 for constant ones, before a centred ' +
    'PCA, and multiplies by the max logit for ViT/Swin/DeiT only: maxlogit = 0 by default, as their ResNets). dim by ' +
    'feature size as ViM (the paper tunes it per model), capped at the fit\'s rank (no arbitrary split of a null ' +
    'space); every fit row, labels unused; NaN where h̃ = 0',
  create: ({ d, k, params }) => {
    const dim = Math.min(d, params.dim > 0 ? Math.floor(params.dim) : vimDim(d));
    const scatter = new ClassScatter(d, 0);
    let mu: Float64Array = new Float64Array(d);
    let scale = new Float64Array(d).fill(1);
    let P: Float64Array | null = null;
    return {
      fit({ features, n }) {
        for (let i = 0; i < n; i++) if (finiteRow(features!, i, d)) scatter.add(features!, i * d, -1);
      },
      finish() {
        const N = scatter.count;
        if (!N) return;
        mu = scatter.mean(0)!;
        const cov = scatter.covariance('total');
        if (params.standardize) {
          // sklearn's _is_constant_feature: variance within rounding of zero keeps scale 1.
          const eps = Number.EPSILON;
          for (let j = 0; j < d; j++) {
            const v = cov[j * d + j];
            scale[j] = v <= N * eps * v + (N * mu[j] * eps) ** 2 ? 1 : Math.sqrt(v);
          }
          for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) cov[p * d + q] /= scale[p] * scale[q];
        }
        P = principalSplit(cov, d, dim).top;
      },
      score({ features, logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        const c = new Float64Array(d);
        for (let i = 0; i < n; i++) {
          if (!P || !features || !finiteRow(features, i, d) || (params.maxlogit && !finiteRow(logits, i, k))) continue;
          // Centred, scaled feature; the standardized fit features have mean 0, so h̃ − μ̃ = (h − μ)/σ.
          for (let j = 0; j < d; j++) c[j] = (features[i * d + j] - mu[j]) / scale[j];
          const den = params.standardize ? sqDist(c, 0, null, d) : sqDist(features, i * d, null, d);
          if (!(den > 0)) continue;
          let r = Math.sqrt(projectedSq(P, c, 0, null, d) / den);
          if (params.maxlogit) { let m = -Infinity; for (let t = 0; t < k; t++) m = Math.max(m, logits[i * k + t]); r *= m; }
          out[i] = -r;
        }
        return out;
      },
    };
  },
};
