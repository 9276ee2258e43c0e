// Reading float tensors out of ONNX protobufs (initializers and Constant nodes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

const DT = onnx.TensorProto.DataType;

/**
 * Bytes of a tensor stored in an external data file (`location` relative to the model's folder, optional
 * `offset`/`length`), as exports over 2 GB and `save_as_external_data` write them; null when unreadable.
 */
function externalBytes(t: onnx.ITensorProto, modelDir: string | undefined): Uint8Array | null {
  if (!modelDir) return null;
  const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value ?? undefined;
  const location = entry('location');
  if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) return null;
  const offset = Number(entry('offset') ?? 0);
  const file = path.join(modelDir, location);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const length = entry('length') !== undefined ? Number(entry('length')) : fs.fstatSync(fd).size - offset;
    const out = new Uint8Array(length);
    return fs.readSync(fd, out, 0, length, offset) === length ? out : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** IEEE half and bfloat16 bit patterns to float32. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
const bf16ToFloat = (h: number): number => new Float32Array(new Uint32Array([h << 16]).buffer)[0];

/**
 * Values of a FLOAT, DOUBLE, FLOAT16 or BFLOAT16 tensor as float32 (typed fields, little-endian raw_data, or an
 * external data file beside the model when `modelDir` is given); null for other types or unreadable data.
 */
export function floatValues(t: onnx.ITensorProto, modelDir?: string): Float32Array | null {
  const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
  const raw = external ? externalBytes(t, modelDir) : t.rawData && t.rawData.length ? t.rawData : null;
  if (external && !raw) return null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const read = (bytes: number, get: (at: number) => number, typed: ArrayLike<number> | null | undefined): Float32Array => {
    if (!view) return Float32Array.from(typed ?? []);
    const out = new Float32Array(view.byteLength / bytes);
    for (let i = 0; i < out.length; i++) out[i] = get(i * bytes);
    return out;
  };
  switch (t.dataType) {
    case DT.FLOAT: return read(4, (at) => view!.getFloat32(at, true), t.floatData);
    case DT.DOUBLE: return read(8, (at) => view!.getFloat64(at, true), t.doubleData);
    // Without raw_data, halves are stored as their bit patterns in int32_data.
    case DT.FLOAT16: return read(2, (at) => halfToFloat(view!.getUint16(at, true)), (t.int32Data ?? []).map(halfToFloat));
    case DT.BFLOAT16: return read(2, (at) => bf16ToFloat(view!.getUint16(at, true)), (t.int32Data ?? []).map(bf16ToFloat));
    default: return null;
  }
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
