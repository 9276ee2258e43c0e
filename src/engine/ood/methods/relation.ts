// Relation (Kim et al., NeurIPS 2023, "Neural Relation Graph"): how strongly a sample relates to the whole fit
// split. The edge to fit sample i is r_i = max(0, cos(h, h_i)) · p·p_i (feature kernel times the compatibility of
// the softmax vectors, used when the sample has no label); edges ≤ 0.03 are cut and the rest summed. Few or weak
// edges mean OOD: the authors' score is 1/(Σ + 1e-6) and OpenOOD's is Σ (higher = ID); −Σ is used here, the same
// order as the authors' for every Σ ≥ 0 (all r_i are).
import { finiteRow, type MethodSpec } from '../method';
import { softmaxInto } from '../../util/rows';
import { RowStore } from '../stats';
import { invNorm } from '../neighbours';
import { freshName } from '../../linalg/kept';

export const relation: MethodSpec = {
  name: 'relation',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: { pow: 1, thres: 0.03 },
  formula: '−Σ_i r_i^pow over fit rows with r_i > thres, r_i = max(0, cos(h, h_i)) · softmax(z)·softmax(z_i)',
  source:
    'Kim et al. 2023, "Neural Relation Graph: A Unified Framework for Identifying Label Noise and Outlier Data": ' +
    'label-free kernel (cos_p), edges cut at |r| ≤ 0.03 and raised to pow after the cut, as the authors\' code ' +
    '(snu-mllab/Neural-Relation-Graph) and OpenOOD v1.5 (relation.yml: pow = 1; the README\'s OOD runs use pow 1); ' +
    'the whole fit split as the graph, labels ignored; exact x/‖x‖ (OpenOOD adds 1e-10 under the root); ' +
    '−Σ rather than the authors\' 1/(Σ + 1e-6), same order, higher = more OOD',
  create: ({ d, k: classes, params, dense }) => {
    const { pow, thres } = params;
    let feats: RowStore | null = new RowStore(d);
    let logs: RowStore | null = new RowStore(classes);
    const bankH = freshName('relation');
    const bankP = `${bankH}p`;
    let N = 0;
    let inv = new Float64Array(0);
    return {
      fit({ features, logits, n }) {
        for (let i = 0; i < n; i++) {
          if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, classes)) continue;
          feats!.push(features.subarray(i * d, (i + 1) * d), 1);
          logs!.push(logits.subarray(i * classes, (i + 1) * classes), 1);
        }
      },
      async finish() {
        N = feats!.rows;
        const h = feats!.view();
        const z = logs!.view();
        inv = new Float64Array(N);
        const probs = new Float64Array(N * classes);
        for (let t = 0; t < N; t++) {
          inv[t] = invNorm(h, t * d, d);
          softmaxInto(z, t * classes, classes, probs, t * classes);
        }
        if (N) {
          await dense.put(bankH, Float64Array.from(h), N, d);
          await dense.put(bankP, probs, N, classes);
        }
        feats = logs = null;
      },
      async score({ features, logits, n }) {
        const out = new Float64Array(n);
        if (!features || N === 0) return out.fill(NaN);
        const step = Math.max(1, Math.floor(2 ** 22 / N));
        for (let from = 0; from < n; from += step) {
          const nq = Math.min(step, n - from);
          const p = new Float64Array(nq * classes);
          for (let i = 0; i < nq; i++) if (finiteRow(logits, from + i, classes)) softmaxInto(logits, (from + i) * classes, classes, p, i * classes);
          const dot = await dense.gemm(Float64Array.from(features.subarray(from * d, (from + nq) * d)), bankH, nq, d, N, { transB: true });
          const pp = await dense.gemm(p, bankP, nq, classes, N, { transB: true });
          for (let i = 0; i < nq; i++) {
            const r = from + i;
            if (!finiteRow(features, r, d) || !finiteRow(logits, r, classes)) { out[r] = NaN; continue; }
            const iq = invNorm(features, r * d, d);
            let sum = 0;
            for (let t = 0, o = i * N; t < N; t++) {
              const cos = dot[o + t] * iq * inv[t];
              if (cos <= 0) continue;
              const e = cos * pp[o + t];
              if (e > thres) sum += pow === 1 ? e : e ** pow;
            }
            out[r] = -sum;
          }
        }
        return out;
      },
    };
  },
};
