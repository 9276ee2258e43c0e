// Residual (Wang et al. 2022, the ViM paper's feature-only baseline): the norm of the part of h − u outside the
// principal subspace of the fit features, with u = −W⁺b the origin of the logit space; higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { principalSplit, projectedSq } from '../class-stats';
import { originOf } from '../../scores/feature-scores';
import { vimDim } from '../../scores/feature-scores';

export const residual: MethodSpec = {
  name: 'residual',
  needs: { features: true, lastLayer: true, fit: true },
  // dim 0 = ViM's rule: ⌊D/2⌋ below 768, 512 up to 1,499, 1,000 above.
  defaults: { dim: 0 },
  formula: '‖(h − u)^{P⊥}‖, u = −W⁺b, P = top-dim eigenvectors of (1/N) Σ (h − u)(h − u)ᵀ on the fit split',
  source:
    'Wang et al. 2022, "ViM: Out-Of-Distribution with Virtual-logit Matching" (Residual; covariance around u, not ' +
    'the mean, as OpenOOD v1.5 residual: EmpiricalCovariance(assume_centered=True) of h − u). dim by feature size as ' +
    'ViM here (residual.yml\'s 512 was set for 2048-d ResNet-50 features), capped at the fit\'s rank (a split inside ' +
    'a null space would be arbitrary, so all of it counts as residual); every fit row, labels unused',
  create: ({ d, layer, params }) => {
    if (!layer) throw new Error('residual needs the last layer (W, b)');
    const u = originOf(layer.W, layer.b, layer.k, d);
    const dim = Math.min(d, params.dim > 0 ? Math.floor(params.dim) : vimDim(d));
    const S = new Float64Array(d * d); // Σ (h − u)(h − u)ᵀ, upper triangle
    const x = new Float64Array(d);
    let N = 0;
    let basis: Float64Array | null = null; // complement eigenvectors, as rows
    return {
      fit({ features, n }) {
        for (let i = 0; i < n; i++) {
          if (!finiteRow(features!, i, d)) continue;
          for (let j = 0; j < d; j++) x[j] = features![i * d + j] - u[j];
          for (let p = 0; p < d; p++) if (x[p] !== 0) for (let q = p; q < d; q++) S[p * d + q] += x[p] * x[q];
          N++;
        }
      },
      finish() {
        if (!N) return;
        const cov = new Float64Array(d * d);
        for (let p = 0; p < d; p++) for (let q = p; q < d; q++) cov[p * d + q] = cov[q * d + p] = S[p * d + q] / N;
        basis = principalSplit(cov, d, dim).rest;
      },
      score({ features, n }) {
        const out = new Float64Array(n).fill(NaN);
        for (let i = 0; i < n; i++) {
          if (basis && features && finiteRow(features, i, d)) out[i] = Math.sqrt(projectedSq(basis, features, i * d, u, d));
        }
        return out;
      },
    };
  },
};
