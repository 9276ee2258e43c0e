// fDBD (Liu & Qin, ICML 2024): the mean distance in feature space from h to the decision boundaries between its
// predicted class and every other class, |z_ŷ − z_c| / ‖w_ŷ − w_c‖ in closed form for a linear last layer, divided
// by ‖h − μ‖ (μ the mean fit feature). Far from every boundary = ID, so the score is negated: higher = more OOD.
import { finiteRow, type MethodSpec } from '../method';
import { argmaxRow, fitMean, sqDist } from '../class-stats';

export const fdbd: MethodSpec = {
  name: 'fdbd',
  needs: { features: true, lastLayer: true, fit: true },
  // distance 1: divide by ‖h − μ‖ (the paper); 0: by ‖h‖ (the alternative OpenOOD's sweep offers).
  defaults: { distance: 1 },
  formula: '−(1/(C−1)) Σ_{c≠ŷ} |z_ŷ − z_c| / ‖w_ŷ − w_c‖ / ‖h − μ‖, ŷ = argmax z',
  source:
    'Liu & Qin 2024, "Fast Decision Boundary based Out-of-Distribution Detector" (distance_as_normalizer = True, as ' +
    'OpenOOD v1.5 fdbd.yml; the mean over the C − 1 boundaries as the paper, where OpenOOD sums, a constant factor). ' +
    'μ over every fit row, labels unused; classes with w_c = w_ŷ have no boundary and add 0; NaN when the ' +
    'normalizer is 0 or C = 1',
  create: ({ d, k, layer, params, dense }) => {
    if (!layer) throw new Error('fdbd needs the last layer (W)');
    const W = layer.W;
    const fitted = fitMean(d);
    // 1/‖w_a − w_c‖ for every pair, from the Gram matrix W·Wᵀ (one product); pairs whose squared distance is small
    // next to ‖w_a‖² + ‖w_c‖² (where the expansion cancels) are measured directly.
    let inv = new Float64Array(0);
    const pairs = async () => {
      const W64 = Float64Array.from(W);
      const G = await dense.gemm(W64, W64, k, d, k, { transB: true });
      inv = new Float64Array(k * k);
      for (let a = 0; a < k; a++) {
        for (let c = 0; c < k; c++) {
          const scale = G[a * k + a] + G[c * k + c];
          let sq = scale - 2 * G[a * k + c];
          if (!(sq > 1e-3 * scale)) sq = sqDist(W, a * d, W.subarray(c * d, (c + 1) * d), d);
          inv[a * k + c] = sq > 0 ? 1 / Math.sqrt(sq) : 0;
        }
      }
    };
    return {
      fit: fitted.fit,
      async finish() {
        fitted.finish();
        await pairs();
      },
      score({ features, logits, n }) {
        const out = new Float64Array(n).fill(NaN);
        const mu = fitted.mean();
        for (let i = 0; i < n; i++) {
          if (!mu || k < 2 || !features || !finiteRow(features, i, d) || !finiteRow(logits, i, k)) continue;
          const a = argmaxRow(logits, i * k, k);
          let s = 0;
          for (let c = 0; c < k; c++) if (c !== a) s += Math.abs(logits[i * k + a] - logits[i * k + c]) * inv[a * k + c];
          const norm = Math.sqrt(sqDist(features, i * d, params.distance ? mu : null, d));
          if (norm > 0) out[i] = -s / (k - 1) / norm;
        }
        return out;
      },
    };
  },
};
