// Writes small ONNX models from TypeScript so tests need no Python or checked-in binaries.
import { onnx } from 'onnx-proto';

export type ElemType = 'float' | 'int64' | 'bfloat16';

export interface ValueSpec {
  name: string;
  /** Numbers are fixed dims, strings are symbolic (dim_param), e.g. ['N', 1, 4, 4]. */
  shape: (number | string)[];
  elemType?: ElemType;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  data: Float32Array | number[];
  elemType?: ElemType;
  /** Store floats in raw_data (little endian) instead of float_data; both occur in real exports. */
  raw?: boolean;
}

export type AttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Plain numbers are INT attributes; use { float: x } / { floats: [...] } for float ones. */
  attributes?: Record<string, AttributeValue>;
}

const ELEM: Record<ElemType, number> = { float: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64, bfloat16: onnx.TensorProto.DataType.BFLOAT16 };

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM[v.elemType ?? 'float'],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function tensor(t: TensorSpec): onnx.ITensorProto {
  const elemType = t.elemType ?? 'float';
  const out: onnx.ITensorProto = { name: t.name, dims: t.dims, dataType: ELEM[elemType] };
  if (elemType === 'int64') {
    out.int64Data = Array.from(t.data);
  } else if (t.raw) {
    const f = Float32Array.from(t.data);
    const bytes = new Uint8Array(f.length * 4);
    const view = new DataView(bytes.buffer);
    f.forEach((x, i) => view.setFloat32(i * 4, x, true));
    out.rawData = bytes;
  } else {
    out.floatData = Array.from(t.data);
  }
  return out;
}

function attribute(name: string, v: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.FLOAT, f: v.float };
}

/** A general model: opset 13, ir_version 8. */
export function buildModel(
  nodes: NodeSpec[],
  inputs: ValueSpec[],
  outputs: ValueSpec[],
  initializers: TensorSpec[] = [],
  metadata: Record<string, string> = {},
): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'ood-lens-tests',
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'test',
      node: nodes.map((n, i) => ({
        opType: n.op,
        name: n.name ?? `${n.op}_${i}`,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
      initializer: initializers.map(tensor),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export interface LinearModelOptions {
  inputName?: string;
  /** Batch dim first, e.g. ['N', 1, 4, 4] (NCHW) or ['N', 4, 4, 1] (NHWC); the rest must be numbers. */
  inputShape: (number | string)[];
  /** NHWC inputs are transposed to NCHW before Flatten, so W always indexes features in C,H,W order. */
  layout?: 'NCHW' | 'NHWC';
  /** Row-major [k, d], d = product of the non-batch input dims. */
  W: Float32Array | number[];
  b: Float32Array | number[];
  /** Also output `features` = the flattened (C,H,W-ordered) input. */
  features?: boolean;
  /**
   * Apply Softmax so `outputName` holds probabilities; 'exp-log' computes them as Exp(LogSoftmax(x)), which hides
   * the logits from the pre-softmax lookup (so the probability detection is what reads them).
   */
  softmax?: boolean | 'exp-log';
  outputName?: string;
  /** 'matmul' writes MatMul(x, Wᵀ) + Add(b) with a [d, k] weight instead of Gemm(transB=1). */
  linearOp?: 'gemm' | 'matmul';
  /** Store weights in raw_data instead of float_data. */
  rawWeights?: boolean;
  metadata?: Record<string, string>;
}

/** input → [Transpose] → Flatten → Gemm(W, b) → [Softmax] → logits (plus optional `features`). */
export function buildLinearModel(o: LinearModelOptions): Uint8Array {
  const inputName = o.inputName ?? 'input';
  const outputName = o.outputName ?? 'logits';
  const dims = o.inputShape.slice(1);
  if (!dims.every((x): x is number => typeof x === 'number')) throw new Error('non-batch input dims must be numbers');
  const d = dims.reduce((a, x) => a * x, 1);
  const k = o.b.length;
  if (o.W.length !== k * d) throw new Error(`W has ${o.W.length} values, expected k*d = ${k}*${d}`);

  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  let flatIn = inputName;
  if (o.layout === 'NHWC') {
    nodes.push({ op: 'Transpose', inputs: [inputName], outputs: ['nchw'], attributes: { perm: [0, 3, 1, 2] } });
    flatIn = 'nchw';
  }
  const flat = o.features ? 'features' : 'flat';
  nodes.push({ op: 'Flatten', inputs: [flatIn], outputs: [flat], attributes: { axis: 1 } });
  const linearOut = o.softmax ? 'linear' : outputName;
  if (o.linearOp === 'matmul') {
    const Wt = new Float32Array(d * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) Wt[j * k + i] = o.W[i * d + j];
    inits.push({ name: 'W', dims: [d, k], data: Wt, raw: o.rawWeights }, { name: 'b', dims: [k], data: o.b, raw: o.rawWeights });
    nodes.push({ op: 'MatMul', inputs: [flat, 'W'], outputs: ['mm'] }, { op: 'Add', inputs: ['mm', 'b'], outputs: [linearOut] });
  } else {
    inits.push({ name: 'W', dims: [k, d], data: o.W, raw: o.rawWeights }, { name: 'b', dims: [k], data: o.b, raw: o.rawWeights });
    nodes.push({ op: 'Gemm', inputs: [flat, 'W', 'b'], outputs: [linearOut], attributes: { transB: 1 } });
  }
  if (o.softmax === 'exp-log') {
    nodes.push({ op: 'LogSoftmax', inputs: ['linear'], outputs: ['log_probs'], attributes: { axis: 1 } }, { op: 'Exp', inputs: ['log_probs'], outputs: [outputName] });
  } else if (o.softmax) {
    nodes.push({ op: 'Softmax', inputs: ['linear'], outputs: [outputName], attributes: { axis: 1 } });
  }

  const batch = o.inputShape[0];
  const outputs: ValueSpec[] = [{ name: outputName, shape: [batch, k] }];
  if (o.features) outputs.push({ name: 'features', shape: [batch, d] });
  return buildModel(nodes, [{ name: inputName, shape: o.inputShape }], outputs, inits, o.metadata ?? {});
}
