import { promises as fs } from 'node:fs';
import { UserError } from '../util/errors';

export interface NpyArray {
  shape: number[];
  /** Values converted to float64 (labels and float arrays alike). */
  data: Float64Array;
}

const DTYPES: Record<string, { bytes: number; read(v: DataView, o: number, le: boolean): number }> = {
  f4: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le) },
  f2: { bytes: 2, read: (v, o, le) => half(v.getUint16(o, le)) },
  i1: { bytes: 1, read: (v, o) => v.getInt8(o) },
  u1: { bytes: 1, read: (v, o) => v.getUint8(o) },
  i2: { bytes: 2, read: (v, o, le) => v.getInt16(o, le) },
  i4: { bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
  i8: { bytes: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u4: { bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  u8: { bytes: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Reads a NumPy .npy file (format 1.x–3.x, C order, numeric dtypes). */
export async function readNpy(file: string): Promise<NpyArray> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new UserError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new UserError(`Not a .npy file: ${file}`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shapeMatch) throw new UserError(`Unreadable .npy header in ${file}`);
  if (fortran) throw new UserError(`${file} is stored in Fortran order; save it with np.ascontiguousarray`);
  const dtype = DTYPES[descr[2] + descr[3]];
  if (!dtype) throw new UserError(`${file} has dtype ${descr[2]}${descr[3]}; OOD Lens reads float and integer arrays`);
  const shape = shapeMatch[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length - offset < count * dtype.bytes) throw new UserError(`${file} is truncated (${buf.length - offset} of ${count * dtype.bytes} data bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset + offset, count * dtype.bytes);
  const le = descr[1] !== '>';
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, i * dtype.bytes, le);
  return { shape, data };
}
