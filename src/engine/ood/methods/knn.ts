// Deep nearest neighbours (Sun et al. 2022): the Euclidean distance from the L2-normalized query to its k-th nearest
// L2-normalized fit feature (k = min(k, N)). Exact: the search runs as float32 products on the dense engine and is
// then made exact (see linalg/knn-search.ts). The normalized fit rows (float32, 4·N·d bytes) live on the dense
// thread only. Zero vectors stay zero.
import { finiteRow, type MethodSpec } from '../method';
import { RowStore } from '../stats';
import { invNorm } from '../neighbours';
import { freshName } from '../../linalg/kept';

export const knn: MethodSpec = {
  name: 'knn',
  needs: { features: true, lastLayer: false, fit: true },
  defaults: { k: 50 },
  formula: '‖ĥ − ĥ_(k)‖₂: distance from the L2-normalized h to its k-th nearest normalized fit feature',
  source: 'Sun et al. 2022, "Out-of-Distribution Detection with Deep Nearest Neighbors"; k = 50 (OpenOOD v1.5 knn.yml), whole fit split as the bank',
  create: ({ d, params, dense }) => {
    if (!(params.k >= 1)) throw new Error(`knn needs k ≥ 1 (got ${params.k})`);
    let store: RowStore | null = new RowStore(d);
    let bank: { name: string; rows: number } | null = null;
    const row = new Float32Array(d);
    return {
      fit({ features, n }) {
        for (let i = 0; i < n; i++) {
          if (!finiteRow(features!, i, d)) continue;
          const inv = invNorm(features!, i * d, d);
          for (let j = 0; j < d; j++) row[j] = features![i * d + j] * inv;
          store!.push(row, 1);
        }
      },
      async finish() {
        if (!store || !store.rows) return;
        bank = { name: freshName('knn'), rows: store.rows };
        await dense.put(bank.name, store.view(), bank.rows, d);
        store = null;
      },
      async score({ features, n }) {
        if (!bank || !features) return new Float64Array(n).fill(NaN);
        const sq = await dense.kthNearestSq(features, n, bank.name, Math.min(Math.floor(params.k), bank.rows));
        return sq.map(Math.sqrt);
      },
    };
  },
};
