// Mahalanobis (Lee et al. 2018): class-conditional Gaussians with a shared (tied) covariance,
// score = min over fitted classes c of (h − μ_c)ᵀ Σ⁺ (h − μ_c). Σ = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ over
// labelled fit rows (maximum likelihood, as sklearn's EmpiricalCovariance); Σ⁺ drops eigenvalues ≤ d·eps·λmax, so
// collinear or constant features are fine. Unlabelled rows are not fitted; if none is labelled, every fit row
// counts as one class (the distance to the global mean).
import { finiteRow, type MethodSpec } from '../method';
import { ClassScatter, whitening } from '../class-stats';
import { centredRows, nearestMean, project, Scratch } from '../../linalg/rows';
import { freshName } from '../../linalg/kept';

export const mahalanobis: MethodSpec = {
  name: 'mahalanobis',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: {},
  formula: 'min_c (h − μ_c)ᵀ Σ⁺ (h − μ_c), shared ML covariance, pseudo-inverse',
  source: 'Lee et al. 2018 (no input preprocessing, penultimate layer only, as OpenOOD v1.5 mds)',
  create: ({ d, k, dense }) => {
    const K = Math.max(1, k);
    const scatter = new ClassScatter(d, K, dense);
    const scratch = new Scratch();
    let fitted: { P: string; r: number; M: Float64Array; Mname: string; used: number; mu0: Float64Array } | null = null;
    return {
      fit: ({ features, labels, n }) => scatter.addBatch(features!, n, labels),
      async finish() {
        if (!scatter.count) return;
        const labelled = [...Array(K).keys()].filter((c) => scatter.sums.counts[c] > 0);
        const classes = labelled.length ? labelled : [K];
        const { proj, rank } = await whitening(dense, await scatter.covariance(labelled.length ? 'within' : 'total'), d);
        // Means and queries are projected relative to the overall mean μ₀, which keeps the values small.
        const mu0 = scatter.mean(K)!;
        const diffs = new Float64Array(classes.length * d);
        classes.forEach((c, ci) => {
          const m = scatter.mean(c)!;
          for (let j = 0; j < d; j++) diffs[ci * d + j] = m[j] - mu0[j];
        });
        const P = freshName('mds');
        await dense.put(P, proj, rank, d);
        const M = await project(dense, diffs, classes.length, d, P, rank);
        await dense.put(`${P}M`, M.slice(), classes.length, rank);
        fitted = { P, r: rank, M, Mname: `${P}M`, used: classes.length, mu0 };
      },
      async score({ features, n }) {
        if (!fitted || !features) return new Float64Array(n).fill(NaN);
        const f = fitted;
        const { rows, ok } = centredRows(features, 0, n, d, f.mu0, (i) => finiteRow(features, i, d), scratch);
        const out = f.r ? await nearestMean(dense, await project(dense, rows, n, d, f.P, f.r), n, f.r, f.M, f.Mname, f.used) : new Float64Array(n);
        for (let i = 0; i < n; i++) if (!ok[i]) out[i] = NaN;
        return out;
      },
    };
  },
};
