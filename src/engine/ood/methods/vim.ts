// Virtual-logit matching (Wang et al. 2022). Origin u = −W⁺b; principal subspace = the top `dim` eigenvectors of
// (1/N) Σ (h − u)(h − u)ᵀ on the fit split; residual = the part of h − u in the orthogonal complement; α = mean
// max-logit / mean ‖residual‖ over the fit split. The paper's ID score is logsumexp(z) − α‖residual‖; its negation
// α‖residual‖ − logsumexp(z) is reported, so higher = more OOD.
import type { LastLayer } from '../../onnx/last-layer';
import type { Dense } from '../../linalg/dense';
import { finiteRow, energyOf, type MethodSpec } from '../method';
import { principalSplit } from '../class-stats';
import { rankTolerance } from '../../scores/linalg';
import { blockRows, GramAccumulator, projectedSqRows, Scratch, symmetricScaled } from '../../linalg/rows';
import { freshName } from '../../linalg/kept';
import { RowStore } from '../stats';

/** Principal-subspace size used by ViM for feature width d (OpenOOD's per-network choices, generalized). */
export function vimDim(d: number): number {
  return d >= 1500 ? 1000 : d >= 768 ? 512 : Math.floor(d / 2);
}

const origins = new WeakMap<LastLayer, Promise<Float64Array>>();

/** u = −W⁺b (ViM's origin) = −Wᵀ(WWᵀ)⁺b for k ≤ d, else −(WᵀW)⁺Wᵀb; the Gram matrix is a product on `dense`. */
export function originOf(dense: Dense, layer: LastLayer): Promise<Float64Array> {
  let u = origins.get(layer);
  if (!u) origins.set(layer, (u = computeOrigin(dense, layer)));
  return u;
}

async function computeOrigin(dense: Dense, layer: LastLayer): Promise<Float64Array> {
  const { W, b, k, d } = layer;
  const W64 = Float64Array.from(W);
  const small = k <= d;
  const m = small ? k : d;
  const G = await dense.gemm(W64, W64, m, small ? d : k, m, small ? { transB: true } : { transA: true });
  const y = small ? Float64Array.from(b) : await dense.gemm(W64, Float64Array.from(b), d, k, 1, { transA: true });
  const { values, vectors } = await dense.eigh(symmetricScaled(G, m, 1), m);
  const tol = rankTolerance(values, m);
  const v = new Float64Array(m); // G⁺y
  for (let t = 0; t < m; t++) {
    if (values[t] <= tol) continue;
    let c = 0;
    for (let j = 0; j < m; j++) c += vectors[j * m + t] * y[j];
    c /= values[t];
    for (let j = 0; j < m; j++) v[j] += c * vectors[j * m + t];
  }
  if (!small) return v.map((x) => -x);
  const u = await dense.gemm(W64, v, d, k, 1, { transA: true });
  return u.map((x) => -x);
}

export const vim: MethodSpec = {
  name: 'vim',
  needs: { features: true, lastLayer: true, fit: true },
  // dim 0 = the rule ⌊D/2⌋ below 768, 512 up to 1,499, 1,000 above (OpenOOD's per-network choices, generalized).
  defaults: { dim: 0 },
  formula: 'α‖h^{P⊥}‖ − logsumexp(z), origin −W⁺b, α = Σ max z / Σ ‖h^{P⊥}‖ on the fit split',
  source: 'Wang et al. 2022, "ViM: Out-Of-Distribution with Virtual-logit Matching"; dim by feature size (OpenOOD v1.5 vim.yml sets 256 for 512-d, 1000 for 2048-d)',
  create: ({ d, layer, params, dense }) => {
    if (!layer) throw new Error('vim needs the last layer (W, b)');
    const k = layer.k;
    const dim = Math.min(d, params.dim > 0 ? Math.floor(params.dim) : vimDim(d));
    const S = new GramAccumulator(d, dense);
    const scratch = new Scratch();
    // The fit rows are kept (float32) until finish: α needs their residuals, which need the subspace first.
    const kept = new RowStore(d);
    let u: Float64Array | null = null;
    let maxLogitSum = 0;
    let fitted: { basis: string; r: number; alpha: number } | null = null;
    const residualNorms = async (x: Float32Array, n: number, ok: (i: number) => boolean) =>
      (await projectedSqRows(dense, x, n, d, u, fitted!.basis, fitted!.r, ok, scratch)).map(Math.sqrt);
    return {
      async fit({ features, logits, n }) {
        u ??= await originOf(dense, layer);
        for (let i = 0; i < n; i++) {
          if (!finiteRow(features!, i, d) || !finiteRow(logits, i, k)) continue;
          let mx = -Infinity;
          for (let c = 0; c < k; c++) mx = Math.max(mx, logits[i * k + c]);
          maxLogitSum += mx;
          S.push(features!, i * d, u);
          kept.push(features!.subarray(i * d, (i + 1) * d), 1);
          if (S.full) await S.flush();
        }
      },
      async finish() {
        const N = kept.rows;
        if (!N) return;
        const { rest } = await principalSplit(dense, symmetricScaled(await S.total(), d, N), d, dim);
        fitted = { basis: freshName('vim'), r: rest.length / d, alpha: NaN };
        await dense.put(fitted.basis, rest, fitted.r, d);
        const rows = kept.view();
        let resSum = 0;
        const step = blockRows(d);
        for (let from = 0; from < N; from += step) {
          const m = Math.min(step, N - from);
          for (const v of await residualNorms(rows.subarray(from * d, (from + m) * d), m, () => true)) resSum += v;
        }
        fitted.alpha = maxLogitSum / N / (resSum / N);
      },
      async score({ features, logits, n }) {
        if (!fitted || !features) return new Float64Array(n).fill(NaN);
        const ok = (i: number) => finiteRow(features, i, d) && finiteRow(logits, i, k);
        const res = await residualNorms(features, n, ok);
        return res.map((r, i) => (ok(i) ? fitted!.alpha * r + energyOf(logits, i * k, k) : NaN));
      },
    };
  },
};
