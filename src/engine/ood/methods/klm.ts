// KL matching (Hendrycks et al., ICML 2022): one posterior template per class, the mean softmax of the fit rows the
// model predicts as that class (no labels needed, so unlabelled fit rows count too); a row's score is its smallest
// KL divergence to any template, already higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { softmaxInto } from '../../util/rows';
import { GroupMeans, argmaxRow } from '../class-stats';

/** Softmax of one logit row in float64, and log p computed as z − logsumexp(z) (exact where p underflows). */
function softmaxRow(z: ArrayLike<number>, off: number, k: number, p: Float64Array, logp: Float64Array): void {
  const lse = softmaxInto(z, off, k, p);
  for (let c = 0; c < k; c++) logp[c] = z[off + c] - lse;
}

export const klm: MethodSpec = {
  name: 'klm',
  needs: { features: false, lastLayer: false, fit: true },
  defaults: {},
  formula: 'min_c KL(softmax(z) ‖ d_c), d_c = mean softmax of the fit rows predicted as c',
  source:
    'Hendrycks et al. 2022, "Scaling Out-of-Distribution Detection for Real-World Settings" (templates grouped by ' +
    'predicted class, min over templates, as OpenOOD v1.5 klm; classes never predicted on the fit split have no ' +
    'template, where OpenOOD puts a one-hot one that only an exactly one-hot posterior could match; pytorch-ood ' +
    'instead groups templates by label and scores the KL to the predicted class\'s template only)',
  create: ({ k }) => {
    const sums = new GroupMeans(k, k);
    const p = new Float64Array(k);
    const logp = new Float64Array(k);
    let logTemplates: Float64Array[] = [];
    return {
      fit({ logits, n }) {
        for (let i = 0; i < n; i++) {
          if (!finiteRow(logits, i, k)) continue;
          softmaxRow(logits, i * k, k, p, logp);
          sums.add(argmaxRow(logits, i * k, k), p, 0);
        }
      },
      finish() {
        logTemplates = [];
        for (let c = 0; c < k; c++) {
          const d = sums.mean(c);
          if (d) logTemplates.push(d.map(Math.log));
        }
      },
      score({ logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        for (let i = 0; i < n; i++) {
          if (!finiteRow(logits, i, k)) continue;
          softmaxRow(logits, i * k, k, p, logp);
          let best = Infinity;
          for (const logd of logTemplates) {
            let kl = 0;
            // 0·log 0 = 0: classes with p = 0 add nothing, even against a template's exact 0.
            for (let c = 0; c < k; c++) if (p[c] > 0) kl += p[c] * (logp[c] - logd[c]);
            best = Math.min(best, kl);
          }
          if (logTemplates.length) out[i] = best;
        }
        return out;
      },
    };
  },
};
