// Reads a little-endian float32 or int64 .npy file (C order) as it is, without the float64 copy the engine's
// general reader makes: the features benchmark loads arrays of hundreds of megabytes.
import { readFileSync } from 'node:fs';

export function readNpyRaw(file: string): { shape: number[]; data: Float32Array | BigInt64Array } {
  const buf = readFileSync(file);
  const major = buf[6];
  const headerLen = major >= 2 ? buf.readUInt32LE(8) : buf.readUInt16LE(8);
  const start = (major >= 2 ? 12 : 10) + headerLen;
  const header = buf.subarray(major >= 2 ? 12 : 10, start).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + count * (descr === '<f4' ? 4 : 8));
  if (descr === '<f4') return { shape, data: new Float32Array(bytes) };
  if (descr === '<i8') return { shape, data: new BigInt64Array(bytes) };
  throw new Error(`${file}: dtype ${descr} (expected <f4 or <i8)`);
}

export const f32 = (file: string): { shape: number[]; data: Float32Array } => readNpyRaw(file) as { shape: number[]; data: Float32Array };

export function labels(file: string): Int32Array {
  const { data } = readNpyRaw(file);
  return Int32Array.from(data as BigInt64Array, Number);
}
