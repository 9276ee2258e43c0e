// The model a session is made from: the user's file by path, or, when tensors inside the graph must be read
// (features, pre-softmax logits), an in-memory copy with those tensors added as outputs. The file is never changed.
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

export interface SessionModel {
  /** A path, or the bytes of a model. */
  model: string | Uint8Array;
  /** Bytes the worker appends to the file at `model` before making the session. */
  append?: Uint8Array;
  /** Where onnxruntime finds external data files for a model given as bytes. */
  externalDataDir?: string;
}

/**
 * Adds graph outputs by appending a second ModelProto that holds only them: protobuf merges a repeated field of an
 * embedded message by appending, so onnxruntime reads the original graph with the extra outputs. Nothing of the
 * original is decoded and re-encoded, so fields this parser does not know (newer ONNX versions) survive. The
 * inference worker reads the file itself (appendedModel): a read on libuv's pool here would wait behind the
 * decoding threads' sharp jobs, which start while the model loads.
 */
export function sessionModel(file: string, addedOutputs: string[]): SessionModel {
  if (addedOutputs.length === 0) return { model: file };
  const append = onnx.ModelProto.encode({ graph: { output: addedOutputs.map((name) => ({ name })) } }).finish();
  return { model: file, append, externalDataDir: path.dirname(path.resolve(file)) };
}
