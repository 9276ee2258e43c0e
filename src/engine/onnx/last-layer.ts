// Finds the final linear layer that produces a model's logits: its input is the penultimate feature vector every
// feature-based detector uses, and its W, b serve ViM. Works on any export, not only models that name a
// `features` output.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { constantTensors, dimsOf, floatValues } from './tensors';

export interface LastLayer {
  /** Row-major [k, d]: logits = W·features + b. */
  W: Float32Array;
  b: Float32Array;
  k: number;
  d: number;
}

export interface FinalLinear {
  /** The node's name (or its op and output when unnamed), for the report. */
  node: string;
  op: 'Gemm' | 'MatMul';
  /** The tensor entering the layer: the features. */
  input: string;
  /** W, b when they are constant float tensors of the file; null otherwise. */
  layer: LastLayer | null;
}

/** Ops between the linear layer and the logits that keep the [N, K] values as they are. */
const PASS_THROUGH = new Set(['Identity', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast']);

export function readLastLayer(modelPath: string, logitsOutput: string): LastLayer | null {
  const model = onnx.ModelProto.decode(fs.readFileSync(modelPath));
  return model.graph ? findFinalLinear(model.graph, logitsOutput, path.dirname(modelPath))?.layer ?? null : null;
}

export function lastLayerOf(graph: onnx.IGraphProto, logitsOutput: string): LastLayer | null {
  return findFinalLinear(graph, logitsOutput)?.layer ?? null;
}

/**
 * Follows `logits` back through value-preserving ops (Identity, Flatten, Reshape, Squeeze, Unsqueeze, Cast) to a
 * Gemm (transA = 0; transB, alpha and beta applied) or a MatMul with a constant [d, k] weight, optionally followed
 * by Add with a constant [k] / [1, k] bias. Null when the logits come from anything else. `modelDir` lets weights
 * stored as external data be read.
 */
export function findFinalLinear(graph: onnx.IGraphProto, logits: string, modelDir?: string): FinalLinear | null {
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) producer.set(o, node);
  const consts = constantTensors(graph);
  const nodeOf = (name: string): onnx.INodeProto | undefined => {
    let node = producer.get(name);
    while (node && PASS_THROUGH.has(node.opType ?? '') && node.input?.[0]) node = producer.get(node.input[0]);
    return node;
  };
  const label = (n: onnx.INodeProto) => n.name || `${n.opType}→${n.output?.[0]}`;
  const values = (t: onnx.ITensorProto | undefined) => (t ? floatValues(t, modelDir) : null);

  const last = nodeOf(logits);
  if (!last) return null;
  if (last.opType === 'Gemm' && last.input?.[0]) {
    return { node: label(last), op: 'Gemm', input: last.input[0], layer: fromGemm(last, consts, values) };
  }
  if (last.opType === 'MatMul' && last.input?.[0] && consts.has(last.input[1] ?? '')) {
    return { node: label(last), op: 'MatMul', input: last.input[0], layer: fromMatMul(last, null, consts, values) };
  }
  if (last.opType === 'Add') {
    const [x, y] = last.input ?? [];
    for (const [biasName, other] of [[y, x], [x, y]]) {
      const bias = consts.get(biasName);
      const mm = other ? nodeOf(other) : undefined;
      if (bias && mm?.opType === 'MatMul' && mm.input?.[0] && consts.has(mm.input[1] ?? '')) {
        return { node: label(mm), op: 'MatMul', input: mm.input[0], layer: fromMatMul(mm, bias, consts, values) };
      }
    }
  }
  return null;
}

type Values = (t: onnx.ITensorProto | undefined) => Float32Array | null;

function attr(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function fromGemm(node: onnx.INodeProto, consts: Map<string, onnx.ITensorProto>, values: Values): LastLayer | null {
  const [, bName, cName] = node.input ?? [];
  const bT = consts.get(bName);
  if (!bT || Number(attr(node, 'transA')?.i ?? 0) !== 0) return null;
  const transB = Number(attr(node, 'transB')?.i ?? 0) !== 0;
  const alpha = attr(node, 'alpha')?.f ?? 1;
  const beta = attr(node, 'beta')?.f ?? 1;
  const B = values(bT);
  const dims = dimsOf(bT);
  if (!B || dims.length !== 2) return null;
  const [k, d] = transB ? dims : [dims[1], dims[0]];
  const W = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) W[c * d + j] = alpha * (transB ? B[c * d + j] : B[j * k + c]);
  const b = new Float32Array(k);
  if (cName) {
    const cv = values(consts.get(cName));
    if (!cv || (cv.length !== k && cv.length !== 1)) return null;
    for (let c = 0; c < k; c++) b[c] = beta * (cv.length === 1 ? cv[0] : cv[c]);
  }
  return { W, b, k, d };
}

function fromMatMul(node: onnx.INodeProto, biasT: onnx.ITensorProto | null, consts: Map<string, onnx.ITensorProto>, values: Values): LastLayer | null {
  const wT = consts.get(node.input?.[1] ?? '');
  const Wt = values(wT);
  if (!wT || !Wt || dimsOf(wT).length !== 2) return null;
  const [d, k] = dimsOf(wT);
  const W = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) W[c * d + j] = Wt[j * k + c];
  const b = new Float32Array(k);
  if (biasT) {
    const bv = values(biasT);
    if (!bv || bv.length !== k) return null;
    b.set(bv);
  }
  return { W, b, k, d };
}
