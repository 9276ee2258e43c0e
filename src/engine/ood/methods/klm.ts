// KL matching (Hendrycks et al., ICML 2022): one posterior template per class, the mean softmax of the fit rows the
// model predicts as that class (no labels needed, so unlabelled fit rows count too); a row's score is its smallest
// KL divergence to any template, already higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { softmaxInto } from '../../util/rows';
import { GroupMeans, argmaxRow } from '../class-stats';
import { freshName } from '../../linalg/kept';

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
  create: ({ k, dense }) => {
    const sums = new GroupMeans(k, k);
    const p = new Float64Array(k);
    const logp = new Float64Array(k);
    let logTemplates: Float64Array[] = [];
    const L = freshName('klm'); // the log templates as rows, −∞ replaced by −1e300 for the product
    let maxAbsLog = 0;
    /** KL(p ‖ d) over the classes with p > 0 (0·log 0 = 0, even against a template's exact 0). */
    const kl = (logd: Float64Array) => {
      let s = 0;
      for (let c = 0; c < k; c++) if (p[c] > 0) s += p[c] * (logp[c] - logd[c]);
      return s;
    };
    return {
      fit({ logits, n }) {
        for (let i = 0; i < n; i++) {
          if (!finiteRow(logits, i, k)) continue;
          softmaxRow(logits, i * k, k, p, logp);
          sums.add(argmaxRow(logits, i * k, k), p, 0);
        }
      },
      async finish() {
        logTemplates = [];
        for (let c = 0; c < k; c++) {
          const d = sums.mean(c);
          if (d) logTemplates.push(d.map(Math.log));
        }
        const rows = new Float64Array(logTemplates.length * k);
        logTemplates.forEach((t, r) => t.forEach((v, c) => {
          rows[r * k + c] = Math.max(v, -1e300);
          if (Number.isFinite(v)) maxAbsLog = Math.max(maxAbsLog, Math.abs(v));
        }));
        if (logTemplates.length) await dense.put(L, rows, logTemplates.length, k);
      },
      async score({ logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        const T = logTemplates.length;
        if (!T) return out;
        // KL(p ‖ d_c) = Σ p log p − Σ p log d_c: the second term for every template is one product, which ranks
        // them; the templates within its rounding bound of the best are measured again term by term.
        const P = new Float64Array(n * k);
        for (let i = 0; i < n; i++) if (finiteRow(logits, i, k)) softmaxInto(logits, i * k, k, P, i * k);
        const cross = await dense.gemm(P, L, n, k, T, { transB: true });
        const slack = 8 * (k + 2) * Number.EPSILON * maxAbsLog;
        for (let i = 0; i < n; i++) {
          if (!finiteRow(logits, i, k)) continue;
          softmaxRow(logits, i * k, k, p, logp);
          let best = Infinity;
          for (let t = 0; t < T; t++) best = Math.min(best, -cross[i * T + t]);
          let exact = Infinity;
          for (let t = 0; t < T; t++) if (-cross[i * T + t] <= best + slack + 1e-15 * Math.abs(best)) exact = Math.min(exact, kl(logTemplates[t]));
          // A template with an exact 0 where p > 0 is infinitely far, though its clamped product looked close.
          if (!Number.isFinite(exact)) for (const t of logTemplates) exact = Math.min(exact, kl(t));
          out[i] = exact;
        }
        return out;
      },
    };
  },
};
