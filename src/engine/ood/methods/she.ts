// SHE, Simplified Hopfield Energy (Zhang et al., ICLR 2023): the stored pattern of each class is the mean feature
// of the fit rows whose label the model predicts correctly; a row's energy is the inner product of its feature with
// the pattern of its predicted class (higher = more ID), negated here so that higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { GroupMeans, argmaxRow } from '../class-stats';

export const she: MethodSpec = {
  name: 'she',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: {},
  formula: '−h · S_ŷ, S_c = mean h of the fit rows labelled c and predicted c, ŷ = argmax z',
  source:
    'Zhang et al. 2023, "Out-of-Distribution Detection based on In-Distribution Data Patterns Memorization with ' +
    'Modern Hopfield Energy" (inner-product metric, as OpenOOD v1.5 she.yml). Unlabelled fit rows are left out; a ' +
    'row predicted as a class with no correctly predicted fit row has no pattern and scores NaN (as OpenOOD, whose ' +
    'pattern is then the mean of nothing)',
  create: ({ d, k }) => {
    const sums = new GroupMeans(d, k);
    let patterns: (Float64Array | null)[] = [];
    return {
      fit({ features, logits, labels, n }) {
        for (let i = 0; i < n; i++) {
          const y = labels[i];
          if (y < 0 || y >= k || !finiteRow(features!, i, d) || !finiteRow(logits, i, k)) continue;
          if (argmaxRow(logits, i * k, k) === y) sums.add(y, features!, i * d);
        }
      },
      finish() {
        patterns = Array.from({ length: k }, (_, c) => sums.mean(c));
      },
      score({ features, logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        for (let i = 0; i < n; i++) {
          if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, k)) continue;
          const S = patterns[argmaxRow(logits, i * k, k)];
          if (!S) continue;
          let e = 0;
          for (let j = 0; j < d; j++) e += features[i * d + j] * S[j];
          out[i] = -e;
        }
        return out;
      },
    };
  },
};
