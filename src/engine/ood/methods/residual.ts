// Residual (Wang et al. 2022, the ViM paper's feature-only baseline): the norm of the part of h − u outside the
// principal subspace of the fit features, with u = −W⁺b the origin of the logit space; higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { principalSplit } from '../class-stats';
import { originOf, vimDim } from './vim';
import { GramAccumulator, projectedSqRows, Scratch, symmetricScaled } from '../../linalg/rows';
import { freshName } from '../../linalg/kept';

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
  create: ({ d, layer, params, dense }) => {
    if (!layer) throw new Error('residual needs the last layer (W, b)');
    const dim = Math.min(d, params.dim > 0 ? Math.floor(params.dim) : vimDim(d));
    const S = new GramAccumulator(d, dense); // Σ (h − u)(h − u)ᵀ
    const scratch = new Scratch();
    let u: Float64Array | null = null;
    let N = 0;
    let basis: { name: string; r: number } | null = null; // complement eigenvectors, as rows
    return {
      async fit({ features, n }) {
        u ??= await originOf(dense, layer);
        for (let i = 0; i < n; i++) {
          if (!finiteRow(features!, i, d)) continue;
          S.push(features!, i * d, u);
          N++;
          if (S.full) await S.flush();
        }
      },
      async finish() {
        if (!N) return;
        const cov = symmetricScaled(await S.total(), d, N);
        const { rest } = await principalSplit(dense, cov, d, dim);
        basis = { name: freshName('residual'), r: rest.length / d };
        await dense.put(basis.name, rest, basis.r, d);
      },
      async score({ features, n }) {
        if (!basis || !features || !u) return new Float64Array(n).fill(NaN);
        const sq = await projectedSqRows(dense, features, n, d, u, basis.name, basis.r, (i) => finiteRow(features, i, d), scratch);
        return sq.map(Math.sqrt);
      },
    };
  },
};
