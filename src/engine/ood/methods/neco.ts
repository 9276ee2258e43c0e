// NECO (Ben Ammar et al., ICLR 2024), from neural collapse: ID features concentrate in the low-dimensional span of
// the class means, OOD features are nearly orthogonal to it. The ID score is the share of a feature's norm inside
// the principal subspace of the fit features, ‖P h‖ / ‖h‖; negated here so that higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { ClassScatter, principalSplit, sqDist } from '../class-stats';
import { vimDim } from './vim';
import { project, rowSq } from '../../linalg/rows';
import { freshName } from '../../linalg/kept';

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
  create: ({ d, k, params, dense }) => {
    const dim = Math.min(d, params.dim > 0 ? Math.floor(params.dim) : vimDim(d));
    const scatter = new ClassScatter(d, 0, dense);
    let mu: Float64Array = new Float64Array(d);
    let scale = new Float64Array(d).fill(1);
    let P: { name: string; r: number } | null = null;
    return {
      fit: ({ features, n }) => scatter.addBatch(features!, n, null),
      async finish() {
        const N = scatter.count;
        if (!N) return;
        mu = scatter.mean(0)!;
        const cov = await scatter.covariance('total');
        if (params.standardize) {
          // sklearn's _is_constant_feature: variance within rounding of zero keeps scale 1.
          const eps = Number.EPSILON;
          for (let j = 0; j < d; j++) {
            const v = cov[j * d + j];
            scale[j] = v <= N * eps * v + (N * mu[j] * eps) ** 2 ? 1 : Math.sqrt(v);
          }
          for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) cov[p * d + q] /= scale[p] * scale[q];
        }
        const { top } = await principalSplit(dense, cov, d, dim);
        P = { name: freshName('neco'), r: top.length / d };
        await dense.put(P.name, top, P.r, d);
      },
      async score({ features, logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        if (!P || !features) return out;
        const ok = (i: number) => finiteRow(features, i, d) && (!params.maxlogit || finiteRow(logits, i, k));
        // Centred, scaled features; the standardized fit features have mean 0, so h̃ − μ̃ = (h − μ)/σ.
        const c = new Float64Array(n * d);
        for (let i = 0; i < n; i++) if (ok(i)) for (let j = 0; j < d; j++) c[i * d + j] = (features[i * d + j] - mu[j]) / scale[j];
        const inside = rowSq(await project(dense, c, n, d, P.name, P.r), n, P.r);
        for (let i = 0; i < n; i++) {
          if (!ok(i)) continue;
          const den = params.standardize ? sqDist(c, i * d, null, d) : sqDist(features, i * d, null, d);
          if (!(den > 0)) continue;
          let r = Math.sqrt(inside[i] / den);
          if (params.maxlogit) { let m = -Infinity; for (let t = 0; t < k; t++) m = Math.max(m, logits[i * k + t]); r *= m; }
          out[i] = -r;
        }
        return out;
      },
    };
  },
};
