// NNGuide (Park et al., ICCV 2023): the energy confidence s(x) = logsumexp(z), guided by the mean of the k largest
// inner products between the L2-normalized query feature and a bank of normalized fit features, each scaled by its
// own confidence. The paper's s(x)·G(x) is higher = more ID; it is negated here.
import { energyOf, finiteRow, type MethodSpec } from '../method';
import { RowStore } from '../stats';
import { invNorm, topKMean } from '../neighbours';
import { freshName } from '../../linalg/kept';

export const nnguide: MethodSpec = {
  name: 'nnguide',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: { k: 10, alpha: 0.01 },
  formula: '−s(x) · mean of the k largest ĥ·(s_i ĥ_i) over the bank, s = logsumexp(z), ĥ = h/‖h‖',
  source:
    'Park et al. 2023, "Nearest Neighbor Guidance for Out-of-Distribution Detection": k = 10 and a bank of α = 1% of the ' +
    'training set drawn at random, each normalized feature scaled by its energy confidence (the paper\'s setting, ' +
    'as its authors\' code roomo7time/nnguide runs it). OpenOOD v1.5 (nnguide.yml) uses K = 100 and the first batches of its train ' +
    'loader until they pass 1%, and adds 1e-10 to every coordinate after normalizing. Here: every m-th valid fit ' +
    'row, m = round(1/α), from the first (deterministic), labels ignored; when that gives fewer than k rows, ' +
    'min(k, N) rows evenly spaced over the fit split; exact full scan; −(paper score) so higher = more OOD',
  create: ({ d, k: classes, params, dense }) => {
    if (!(params.k >= 1) || !(params.alpha > 0)) throw new Error(`nnguide needs k ≥ 1 and alpha > 0 (got k = ${params.k}, alpha = ${params.alpha})`);
    const k = Math.floor(params.k);
    const m = Math.max(1, Math.round(1 / params.alpha));
    // Candidates: every m-th valid row, plus all of the first k·m in case the split is too small for k strided rows.
    const store = new RowStore(d);
    const index: number[] = [];
    const conf: number[] = [];
    let seen = 0;
    const bank = freshName('nnguide');
    let scale = new Float64Array(0); // s_i / ‖h_i‖
    let N = 0;
    return {
      fit({ features, logits, n }) {
        for (let i = 0; i < n; i++) {
          if (!features || !finiteRow(features, i, d) || !finiteRow(logits, i, classes)) continue;
          const at = seen++;
          if (at % m !== 0 && at >= k * m) continue;
          store.push(features.subarray(i * d, (i + 1) * d), 1);
          index.push(at);
          conf.push(-energyOf(logits, i * classes, classes));
        }
      },
      async finish() {
        let rows: number[] = [];
        for (let p = 0; p < index.length; p++) if (index[p] % m === 0) rows.push(p);
        const M = Math.min(k, seen);
        // Fewer than k strided rows means seen < k·m, so every row was kept and position = fit index.
        if (rows.length < M) rows = Array.from({ length: M }, (_, j) => Math.floor((j * seen) / M));
        const all = store.view();
        N = rows.length;
        const B = new Float64Array(N * d);
        scale = new Float64Array(N);
        rows.forEach((p, t) => {
          for (let j = 0; j < d; j++) B[t * d + j] = all[p * d + j];
          scale[t] = conf[p] * invNorm(all, p * d, d);
        });
        await dense.put(bank, B, N, d);
      },
      async score({ features, logits, n }) {
        const out = new Float64Array(n);
        if (!features || N === 0) return out.fill(NaN);
        const kk = Math.min(k, N);
        const heap = new Float64Array(kk);
        const step = Math.max(1, Math.floor(2 ** 22 / N));
        for (let from = 0; from < n; from += step) {
          const nq = Math.min(step, n - from);
          const dot = await dense.gemm(Float64Array.from(features.subarray(from * d, (from + nq) * d)), bank, nq, d, N, { transB: true });
          for (let i = 0; i < nq; i++) {
            const r = from + i;
            if (!finiteRow(features, r, d) || !finiteRow(logits, r, classes)) { out[r] = NaN; continue; }
            const o = i * N;
            for (let t = 0; t < N; t++) dot[o + t] *= scale[t];
            const guidance = topKMean(dot, o, N, kk, heap) * invNorm(features, r * d, d);
            out[r] = energyOf(logits, r * classes, classes) * guidance;
          }
        }
        return out;
      },
    };
  },
};
