import { promises as fs } from 'node:fs';
import { onnx } from 'onnx-proto';
import { UserError } from '../util/errors';

/** ONNX TensorProto element types we name in messages. */
export const ELEM_TYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

export interface TensorSignature {
  name: string;
  elemType: number;
  /** Fixed sizes as numbers; symbolic or unknown dimensions as their name or '?'. */
  shape: (number | string)[];
}

export interface OnnxSummary {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  metadata: Record<string, string>;
  opsetVersion: number;
  /** The decoded graph, for finding the final linear layer and tensors to expose. */
  graph: onnx.IGraphProto;
}

function signature(v: onnx.IValueInfoProto): TensorSignature {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    elemType: t?.elemType ?? 0,
    shape: dims.map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || '?')),
  };
}

/** Parses the model's protobuf for what onnxruntime does not expose: custom metadata and initializer-free inputs. */
export async function readOnnxSummary(file: string): Promise<OnnxSummary> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`Model file not found: ${file}`);
    if (code === 'EISDIR') throw new UserError(`Model ${file} is a folder, not an .onnx file`);
    throw new UserError(`Cannot read model ${file}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code ?? e}`);
  }
  if (buf.length === 0) throw new UserError(`Not an ONNX model (empty file): ${file}`);
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(buf);
  } catch {
    throw new UserError(`Not an ONNX model: ${file}`);
  }
  if (!model.graph || (model.graph.node?.length ?? 0) === 0) throw new UserError(`Not an ONNX model (no graph): ${file}`);
  const initializers = new Set((model.graph.initializer ?? []).map((i) => i.name));
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  return {
    inputs: (model.graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(signature),
    outputs: (model.graph.output ?? []).map(signature),
    metadata,
    opsetVersion: opset == null ? 0 : Number(opset),
    graph: model.graph,
  };
}
