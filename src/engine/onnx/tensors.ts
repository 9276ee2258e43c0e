// Reading float tensors out of ONNX protobufs (initializers and Constant nodes).
import { onnx } from 'onnx-proto';

const DT = onnx.TensorProto.DataType;

/** Values of a FLOAT or DOUBLE tensor as float32 (float_data/double_data or little-endian raw_data); null otherwise. */
export function floatValues(t: onnx.ITensorProto): Float32Array | null {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return null;
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  if (t.dataType === DT.FLOAT) {
    if (!raw) return Float32Array.from(t.floatData ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (t.dataType === DT.DOUBLE) {
    if (!raw) return Float32Array.from(t.doubleData ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 8);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  return null;
}

/** Constant tensors by name: graph initializers plus the `value` of Constant nodes. */
export function constantTensors(graph: onnx.IGraphProto): Map<string, onnx.ITensorProto> {
  const out = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) out.set(t.name, t);
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant' || !node.output?.[0]) continue;
    const value = node.attribute?.find((a) => a.name === 'value')?.t;
    if (value) out.set(node.output[0], value);
  }
  return out;
}

export function dimsOf(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map((x) => Number(x));
}
