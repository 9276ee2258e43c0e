// The model a session is made from: the user's file by path, or, when tensors inside the graph must be read
// (features, pre-softmax logits), an in-memory copy with those tensors added as outputs. The file is never changed.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

export interface SessionModel {
  model: string | Uint8Array;
  /** Where onnxruntime finds external data files for a model given as bytes. */
  externalDataDir?: string;
}

/**
 * Adds graph outputs by appending a second ModelProto that holds only them: protobuf merges a repeated field of an
 * embedded message by appending, so onnxruntime reads the original graph with the extra outputs. Nothing of the
 * original is decoded and re-encoded, so fields this parser does not know (newer ONNX versions) survive.
 */
export async function sessionModel(file: string, addedOutputs: string[]): Promise<SessionModel> {
  if (addedOutputs.length === 0) return { model: file };
  const original = await fs.readFile(file);
  const extra = onnx.ModelProto.encode({ graph: { output: addedOutputs.map((name) => ({ name })) } }).finish();
  const bytes = new Uint8Array(original.length + extra.length);
  bytes.set(original, 0);
  bytes.set(extra, original.length);
  return { model: bytes, externalDataDir: path.dirname(path.resolve(file)) };
}
