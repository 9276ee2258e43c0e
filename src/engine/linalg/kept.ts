// Matrices a detector uses in every batch (a final layer's W), handed to the dense engine once and named there.
import type { LastLayer } from '../onnx/last-layer';
import type { Dense } from './dense';

const names = new WeakMap<Dense, WeakMap<object, Promise<string>>>();
let counter = 0;

/** Keeps `make()` (rows×cols float64) on `dense` once per `key` object; resolves to its name there. */
export function kept(dense: Dense, key: object, rows: number, cols: number, make: () => Float64Array): Promise<string> {
  let byKey = names.get(dense);
  if (!byKey) names.set(dense, (byKey = new WeakMap()));
  let name = byKey.get(key);
  if (!name) {
    const id = `m${counter++}`;
    name = dense.put(id, make(), rows, cols).then(() => id);
    byKey.set(key, name);
  }
  return name;
}

/** A final layer's W [k, d] as float64 on the dense engine. */
export const keptWeights = (dense: Dense, layer: LastLayer): Promise<string> => kept(dense, layer.W, layer.k, layer.d, () => Float64Array.from(layer.W));

/** A fresh name for a matrix a detector keeps on the dense engine. */
export const freshName = (prefix: string): string => `${prefix}${counter++}`;
