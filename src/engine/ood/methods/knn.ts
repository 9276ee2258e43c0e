// Deep nearest neighbours (Sun et al. 2022); see KnnDetector.
import { KnnDetector } from '../../scores/feature-scores';
import type { MethodSpec } from '../method';

export const knn: MethodSpec = {
  name: 'knn',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: { k: 50 },
  formula: '‖ĥ − ĥ_(k)‖₂: distance from the L2-normalized h to its k-th nearest normalized fit feature',
  source: 'Sun et al. 2022, "Out-of-Distribution Detection with Deep Nearest Neighbors"; k = 50 (OpenOOD v1.5 knn.yml), whole fit split as the bank',
  create: ({ d, params }) => {
    const det = new KnnDetector(d, params.k);
    return {
      fit: (b) => det.add(b.features!, b.n),
      finish: () => det.finish(),
      score: (b) => det.score(b.features!, b.n),
    };
  },
};
