// Reads a little-endian float32 or int64 .npy file (C order) as it is, without the float64 copy the engine's
// general reader makes: the features benchmark loads arrays of hundreds of megabytes.
import { closeSync, openSync, readSync } from 'node:fs';

/** The header of an open .npy file: shape, dtype, and where the data starts. */
function header(fd: number, file: string): { shape: number[]; descr: string; start: number } {
  const head = Buffer.alloc(4096);
  readSync(fd, head, 0, head.length, 0);
  const major = head[6];
  const headerLen = major >= 2 ? head.readUInt32LE(8) : head.readUInt16LE(8);
  const start = (major >= 2 ? 12 : 10) + headerLen;
  const text = head.subarray(major >= 2 ? 12 : 10, start).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1] ?? '';
  if (/'fortran_order':\s*True/.test(text)) throw new Error(`${file}: Fortran order`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(text)?.[1] ?? '').split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  return { shape, descr, start };
}

/** The shape of a .npy file, from its header alone. */
export function npyShape(file: string): number[] {
  const fd = openSync(file, 'r');
  try {
    return header(fd, file).shape;
  } finally {
    closeSync(fd);
  }
}

export function readNpyRaw(file: string): { shape: number[]; data: Float32Array | BigInt64Array } {
  // Read in pieces: readFileSync stops at 2 GiB, and an ImageNet-sized fit split is larger.
  const fd = openSync(file, 'r');
  try {
    const { shape, descr, start } = header(fd, file);
    if (descr !== '<f4' && descr !== '<i8') throw new Error(`${file}: dtype ${descr} (expected <f4 or <i8)`);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = descr === '<f4' ? new Float32Array(count) : new BigInt64Array(count);
    // Views of at most 256 MB: one Uint8Array over more than 4 GiB is beyond V8's typed-array length.
    for (let at = 0; at < data.byteLength; ) at += readSync(fd, new Uint8Array(data.buffer, at, Math.min(1 << 28, data.byteLength - at)), 0, Math.min(1 << 28, data.byteLength - at), start + at);
    return { shape, data };
  } finally {
    closeSync(fd);
  }
}

export const f32 = (file: string): { shape: number[]; data: Float32Array } => readNpyRaw(file) as { shape: number[]; data: Float32Array };

export function labels(file: string): Int32Array {
  const { data } = readNpyRaw(file);
  return Int32Array.from(data as BigInt64Array, Number);
}
