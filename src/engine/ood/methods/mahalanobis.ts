// Mahalanobis (Lee et al. 2018), class-conditional Gaussians with a shared covariance; see MahalanobisDetector.
import { MahalanobisDetector } from '../../scores/feature-scores';
import type { MethodSpec } from '../method';

export const mahalanobis: MethodSpec = {
  name: 'mahalanobis',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: {},
  formula: 'min_c (h − μ_c)ᵀ Σ⁺ (h − μ_c), shared ML covariance, pseudo-inverse',
  source: 'Lee et al. 2018 (no input preprocessing, penultimate layer only, as OpenOOD v1.5 mds)',
  create: ({ d, k }) => {
    const det = new MahalanobisDetector(d, Math.max(1, k));
    return {
      fit: (b) => det.add(b.features!, b.labels, b.n),
      finish: () => det.finish(),
      score: (b) => det.score(b.features!, b.n),
    };
  },
};
