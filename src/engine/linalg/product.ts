// Dispatch for the eigensolver's products: large ones go to the supplied gemm, small ones stay in JavaScript, where a
// call across to onnxruntime (tensor wrapping, a result copy) would cost more than the arithmetic.

import { jsGemmSync, type Gemm, type GemmOptions } from './gemm';

/** Products with fewer multiply-adds than this are computed in JavaScript. */
const SMALL_PRODUCT = 1 << 17;

/** C = op(A)·op(B) (m×n), as `Gemm`; empty shapes give zeros without calling anything. */
export async function product(gemm: Gemm, a: Float64Array, b: Float64Array, m: number, k: number, n: number, opts: GemmOptions = {}): Promise<Float64Array> {
  if (m === 0 || n === 0 || k === 0) return new Float64Array(m * n);
  if (m * k * n < SMALL_PRODUCT) return jsGemmSync(a, b, m, k, n, opts);
  return gemm(a, b, m, k, n, opts);
}
