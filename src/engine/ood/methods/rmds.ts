// Relative Mahalanobis distance (Ren et al. 2021): the class-conditional Mahalanobis distance (class means, shared
// within-class covariance) minus the distance under one background Gaussian fitted to the whole fit split, which
// cancels the directions every ID class shares. min_k (MD_k − MD_0) is already higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { ClassScatter, projectedSq } from '../class-stats';
import { whitening } from '../../scores/linalg';

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
  create: ({ d, k }) => {
    const scatter = new ClassScatter(d, k);
    let P: Float64Array = new Float64Array(0); // within-class whitening rows
    let P0: Float64Array = new Float64Array(0); // background whitening rows
    let Pmu: Float64Array[] = []; // P(μ_c − μ₀) per fitted class: projecting h − μ₀ keeps the values small
    let mu0: Float64Array | null = null;
    return {
      fit({ features, labels, n }) {
        for (let i = 0; i < n; i++) if (finiteRow(features!, i, d)) scatter.add(features!, i * d, labels[i]);
      },
      finish() {
        const means = [...Array(k).keys()].map((c) => scatter.mean(c)).filter((m): m is Float64Array => m !== null);
        if (!means.length) return;
        P = whitening(scatter.covariance('within'), d).proj;
        P0 = whitening(scatter.covariance('total'), d).proj;
        mu0 = scatter.mean(k);
        const r = P.length / d;
        Pmu = means.map((m) => {
          const v = new Float64Array(r);
          for (let t = 0; t < r; t++) for (let j = 0; j < d; j++) v[t] += P[t * d + j] * (m[j] - mu0![j]);
          return v;
        });
      },
      score({ features, n }) {
        const out = new Float64Array(n).fill(NaN);
        const r = P.length / d;
        const z = new Float64Array(r);
        for (let i = 0; i < n; i++) {
          if (!features || !mu0 || !finiteRow(features, i, d)) continue;
          for (let t = 0; t < r; t++) {
            let v = 0;
            for (let j = 0; j < d; j++) v += P[t * d + j] * (features[i * d + j] - mu0[j]);
            z[t] = v;
          }
          let best = Infinity;
          for (const m of Pmu) {
            let s = 0;
            for (let t = 0; t < r; t++) { const e = z[t] - m[t]; s += e * e; }
            best = Math.min(best, s);
          }
          out[i] = best - projectedSq(P0, features, i * d, mu0, d);
        }
        return out;
      },
    };
  },
};
