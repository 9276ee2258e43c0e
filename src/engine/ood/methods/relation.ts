// Relation (Kim et al., NeurIPS 2023, "Neural Relation Graph"): how strongly a sample relates to the whole fit
// split. The edge to fit sample i is r_i = max(0, cos(h, h_i)) · p·p_i (feature kernel times the compatibility of
// the softmax vectors, used when the sample has no label); edges ≤ 0.03 are cut and the rest summed. Few or weak
// edges mean OOD: the authors' score is 1/(Σ + 1e-6) and OpenOOD's is Σ (higher = ID); −Σ is used here, the same
// order as the authors' for every Σ ≥ 0 (all r_i are).
import { finiteRow, type MethodSpec } from '../method';
import { softmaxInto } from '../../util/rows';
import { RowStore } from '../stats';
import { dots, invNorm, QUERY_BLOCK } from '../neighbours';

/** Softmax of logit row i (width k) into out[o..o+k) in float64; returns its largest probability. */
function softmaxMax(z: Float32Array, i: number, k: number, out: Float64Array, o: number): number {
  softmaxInto(z, i * k, k, out, o);
  let pmax = 0;
  for (let c = 0; c < k; c++) pmax = Math.max(pmax, out[o + c]);
  return pmax;
}

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
  create: ({ d, k: classes, params }) => {
    const { pow, thres } = params;
    const feats = new RowStore(d);
    const logs = new RowStore(classes);
    let N = 0;
    let inv = new Float64Array(0);
    let probs = new Float64Array(0);
    return {
      fit({ features, logits, n }) {
        for (let i = 0; i < n; i++) {
          if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, classes)) continue;
          feats.push(features.subarray(i * d, (i + 1) * d), 1);
          logs.push(logits.subarray(i * classes, (i + 1) * classes), 1);
        }
      },
      finish() {
        N = feats.rows;
        const h = feats.view();
        const z = logs.view();
        inv = new Float64Array(N);
        probs = new Float64Array(N * classes);
        for (let t = 0; t < N; t++) {
          inv[t] = invNorm(h, t * d, d);
          softmaxMax(z, t, classes, probs, t * classes);
        }
      },
      score({ features, logits, n }) {
        const out = new Float64Array(n);
        if (!features || N === 0) return out.fill(NaN);
        const bank = feats.view();
        const dot = new Float64Array(QUERY_BLOCK * N);
        const p = new Float64Array(classes);
        for (let from = 0; from < n; from += QUERY_BLOCK) {
          const nq = Math.min(QUERY_BLOCK, n - from);
          dots(features, from, nq, bank, N, d, dot);
          for (let i = 0; i < nq; i++) {
            const r = from + i;
            if (!finiteRow(features, r, d) || !finiteRow(logits, r, classes)) { out[r] = NaN; continue; }
            const iq = invNorm(features, r * d, d);
            const pmax = softmaxMax(logits, r, classes, p, 0);
            let sum = 0;
            for (let t = 0; t < N; t++) {
              const cos = dot[i * N + t] * iq * inv[t];
              // p·p_i ≤ max p, so an edge bounded clearly below the cut needs no compatibility term.
              if (cos <= 0 || cos * pmax < thres * (1 - 1e-9)) continue;
              let pp = 0;
              for (let c = 0, o = t * classes; c < classes; c++) pp += p[c] * probs[o + c];
              const e = cos * pp;
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
