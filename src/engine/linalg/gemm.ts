// The one dense product the linear algebra is built on. In a run it is onnxruntime's MatMul on float64 (its MLAS
// kernels, multithreaded, off the engine's thread: see dense.ts); jsGemm is the reference for small sizes and tests.

export interface GemmOptions {
  /** Use Aᵀ: a is stored k×m. */
  transA?: boolean;
  /** Use Bᵀ: b is stored n×k. */
  transB?: boolean;
}

/** C (m×n, row-major, float64) = op(A)·op(B), op(A) m×k, op(B) k×n. */
export type Gemm = (a: Float64Array, b: Float64Array, m: number, k: number, n: number, opts?: GemmOptions) => Promise<Float64Array>;

/** Plain float64 product in JavaScript, summed in k order. */
export function jsGemmSync(a: Float64Array, b: Float64Array, m: number, k: number, n: number, opts: GemmOptions = {}): Float64Array {
  const out = new Float64Array(m * n);
  const bt = opts.transB ? b : transpose(b, k, n); // rows of Bᵀ: n×k
  const at = opts.transA ? transpose(a, k, m) : a; // rows of A: m×k
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += at[ai + t] * bt[bj + t];
      out[i * n + j] = s;
    }
  }
  return out;
}

export const jsGemm: Gemm = async (a, b, m, k, n, opts) => jsGemmSync(a, b, m, k, n, opts);

/** The transpose of a rows×cols row-major matrix. */
export function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}
