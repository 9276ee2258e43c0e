// Relative Mahalanobis distance (Ren et al. 2021): the class-conditional Mahalanobis distance (class means, shared
// within-class covariance) minus the distance under one background Gaussian fitted to the whole fit split, which
// cancels the directions every ID class shares. min_k (MD_k − MD_0) is already higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { ClassScatter, whitening } from '../class-stats';
import { centredRows, nearestMean, project, projectedSqRows, Scratch } from '../../linalg/rows';
import { freshName } from '../../linalg/kept';

export const rmds: MethodSpec = {
  name: 'rmds',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: {},
  formula: 'min_c [(h − μ_c)ᵀ Σ⁺ (h − μ_c)] − (h − μ₀)ᵀ Σ₀⁺ (h − μ₀), ML covariances, pseudo-inverses',
  source:
    'Ren et al. 2021, "A Simple Fix to Mahalanobis Distance for Improving Near-OOD Detection" (as OpenOOD v1.5 rmds: ' +
    'EmpiricalCovariance of class-centred features and of all features). Class Gaussians use labelled fit rows; the ' +
    'background one every fit row ("regardless of labels"); pseudo-inverses drop eigenvalues ≤ d·eps·λmax (scipy ' +
    'pinvh); without any labelled fit row every score is NaN',
  create: ({ d, k, dense }) => {
    const scatter = new ClassScatter(d, k, dense);
    const scratch = new Scratch();
    let fitted: { P: string; r: number; P0: string; r0: number; M: Float64Array; Mname: string; K: number; mu0: Float64Array } | null = null;
    return {
      fit: ({ features, labels, n }) => scatter.addBatch(features!, n, labels),
      async finish() {
        const means = [...Array(k).keys()].map((c) => scatter.mean(c)).filter((m): m is Float64Array => m !== null);
        if (!means.length) return;
        const W = await whitening(dense, await scatter.covariance('within'), d);
        const W0 = await whitening(dense, await scatter.covariance('total'), d);
        const mu0 = scatter.mean(k)!;
        // P(μ_c − μ₀) per fitted class: projecting h − μ₀ keeps the values small.
        const diffs = new Float64Array(means.length * d);
        means.forEach((m, c) => { for (let j = 0; j < d; j++) diffs[c * d + j] = m[j] - mu0[j]; });
        const id = freshName('rmds');
        await dense.put(`${id}P`, W.proj, W.rank, d);
        await dense.put(`${id}P0`, W0.proj, W0.rank, d);
        const M = await project(dense, diffs, means.length, d, `${id}P`, W.rank);
        await dense.put(`${id}M`, M.slice(), means.length, W.rank);
        fitted = { P: `${id}P`, r: W.rank, P0: `${id}P0`, r0: W0.rank, M, Mname: `${id}M`, K: means.length, mu0 };
      },
      async score({ features, n }) {
        if (!fitted || !features) return new Float64Array(n).fill(NaN);
        const f = fitted;
        const ok = (i: number) => finiteRow(features, i, d);
        const { rows } = centredRows(features, 0, n, d, f.mu0, ok, scratch);
        const Z = await project(dense, rows, n, d, f.P, f.r);
        const md = f.r ? await nearestMean(dense, Z, n, f.r, f.M, f.Mname, f.K) : new Float64Array(n);
        const md0 = await projectedSqRows(dense, features, n, d, f.mu0, f.P0, f.r0, ok, scratch);
        return md.map((v, i) => v - md0[i]);
      },
    };
  },
};
