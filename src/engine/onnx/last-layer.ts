// Reads the final linear layer (W, b) that produces a model's logits, for ViM's origin and virtual logit.
import * as fs from 'node:fs';
import { onnx } from 'onnx-proto';
import { constantTensors, dimsOf, floatValues } from './tensors';

export interface LastLayer {
  /** Row-major [k, d]: logits = W·features + b. */
  W: Float32Array;
  b: Float32Array;
  k: number;
  d: number;
}

/**
 * Follows `logitsOutput` back through Identity nodes to a Gemm (transA = 0; transB, alpha and beta applied) or a
 * MatMul with a constant [d, k] weight, optionally followed by Add with a constant [k] / [1, k] bias. Null when the
 * logits come from anything else, or the weights are not constant float tensors stored in the file.
 */
export function readLastLayer(modelPath: string, logitsOutput: string): LastLayer | null {
  const model = onnx.ModelProto.decode(fs.readFileSync(modelPath));
  return model.graph ? lastLayerOf(model.graph, logitsOutput) : null;
}

export function lastLayerOf(graph: onnx.IGraphProto, logitsOutput: string): LastLayer | null {
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) producer.set(o, node);
  const consts = constantTensors(graph);
  const nodeOf = (name: string): onnx.INodeProto | undefined => {
    let node = producer.get(name);
    while (node?.opType === 'Identity' && node.input?.[0]) node = producer.get(node.input[0]);
    return node;
  };

  const last = nodeOf(logitsOutput);
  if (!last) return null;
  if (last.opType === 'Gemm') return fromGemm(last, consts);
  if (last.opType === 'MatMul') return fromMatMul(last, null, consts);
  if (last.opType === 'Add') {
    const [x, y] = last.input ?? [];
    for (const [biasName, other] of [[y, x], [x, y]]) {
      const bias = consts.get(biasName);
      const mm = other ? nodeOf(other) : undefined;
      if (bias && mm?.opType === 'MatMul') return fromMatMul(mm, bias, consts);
    }
  }
  return null;
}

function attr(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function fromGemm(node: onnx.INodeProto, consts: Map<string, onnx.ITensorProto>): LastLayer | null {
  const [, bName, cName] = node.input ?? [];
  const bT = consts.get(bName);
  if (!bT || Number(attr(node, 'transA')?.i ?? 0) !== 0) return null;
  const transB = Number(attr(node, 'transB')?.i ?? 0) !== 0;
  const alpha = attr(node, 'alpha')?.f ?? 1;
  const beta = attr(node, 'beta')?.f ?? 1;
  const B = floatValues(bT);
  const dims = dimsOf(bT);
  if (!B || dims.length !== 2) return null;
  const [k, d] = transB ? dims : [dims[1], dims[0]];
  const W = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) W[c * d + j] = alpha * (transB ? B[c * d + j] : B[j * k + c]);
  const b = new Float32Array(k);
  if (cName) {
    const C = consts.get(cName);
    const cv = C && floatValues(C);
    if (!cv || (cv.length !== k && cv.length !== 1)) return null;
    for (let c = 0; c < k; c++) b[c] = beta * (cv.length === 1 ? cv[0] : cv[c]);
  }
  return { W, b, k, d };
}

function fromMatMul(node: onnx.INodeProto, biasT: onnx.ITensorProto | null, consts: Map<string, onnx.ITensorProto>): LastLayer | null {
  const wT = consts.get(node.input?.[1] ?? '');
  const Wt = wT && floatValues(wT);
  if (!wT || !Wt || dimsOf(wT).length !== 2) return null;
  const [d, k] = dimsOf(wT);
  const W = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) W[c * d + j] = Wt[j * k + c];
  const b = new Float32Array(k);
  if (biasT) {
    const bv = floatValues(biasT);
    if (!bv || bv.length !== k) return null;
    b.set(bv);
  }
  return { W, b, k, d };
}
