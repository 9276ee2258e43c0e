// Small ONNX graphs built in memory for onnxruntime to run the engine's dense products with its own kernels (MLAS:
// blocked, vectorized, multithreaded), instead of JavaScript loops.
import { onnx } from 'onnx-proto';

const FLOAT = 1;
const DOUBLE = 11;
const INT = 2; // AttributeProto.INT

function tensorInput(name: string, elemType: number, dims: string[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } } };
}

function encode(graph: onnx.IGraphProto): Uint8Array {
  const model: onnx.IModelProto = { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'ood-lens', graph };
  return onnx.ModelProto.encode(model).finish();
}

/** C = op(A)·op(B) in float64 (Gemm with alpha 1 and no C input). */
export function gemmGraph(transA: boolean, transB: boolean): Uint8Array {
  return encode({
    name: 'gemm',
    node: [{
      opType: 'Gemm', input: ['A', 'B'], output: ['C'],
      attribute: [{ name: 'transA', type: INT, i: transA ? 1 : 0 }, { name: 'transB', type: INT, i: transB ? 1 : 0 }],
    }],
    input: [tensorInput('A', DOUBLE, transA ? ['k', 'm'] : ['m', 'k']), tensorInput('B', DOUBLE, transB ? ['n', 'k'] : ['k', 'n'])],
    output: [tensorInput('C', DOUBLE, ['m', 'n'])],
  });
}

/**
 * For float32 queries Q [m, d] and a bank B [N, d]: the K largest of Q·Bᵀ per row, with their bank indices. The
 * m×N similarity matrix stays inside onnxruntime.
 */
export function nearestGraph(): Uint8Array {
  return encode({
    name: 'nearest',
    node: [
      { opType: 'Gemm', input: ['Q', 'B'], output: ['S'], attribute: [{ name: 'transB', type: INT, i: 1 }] },
      { opType: 'TopK', input: ['S', 'K'], output: ['values', 'indices'], attribute: [{ name: 'axis', type: INT, i: 1 }, { name: 'largest', type: INT, i: 1 }, { name: 'sorted', type: INT, i: 1 }] },
    ],
    input: [tensorInput('Q', FLOAT, ['m', 'd']), tensorInput('B', FLOAT, ['N', 'd']), { name: 'K', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 1 }] } } } }],
    output: [tensorInput('values', FLOAT, ['m', 'K']), { name: 'indices', type: { tensorType: { elemType: 7, shape: { dim: [{ dimParam: 'm' }, { dimParam: 'K' }] } } } }],
  });
}
