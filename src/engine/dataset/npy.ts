// NumPy .npy files (format 1.x–3.x, C order, numeric dtypes), read in pieces straight into the typed array the
// engine keeps: 1,000,000 × 1,000 float32 logits are 4 GB, and a float64 copy on the way would double that.
import { promises as fs } from 'node:fs';
import { UserError } from '../util/errors';

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

export interface NpyHeader {
  shape: number[];
  /** e.g. 'f4', 'i8' */
  dtype: string;
  littleEndian: boolean;
  /** Byte offset of the data. */
  start: number;
}

/** Reads a .npy header; refuses Fortran order, unknown dtypes and files shorter than their shape. */
export async function npyHeader(file: string): Promise<NpyHeader> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    throw new UserError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const head = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead < 10 || head.toString('latin1', 0, 6) !== '\x93NUMPY') throw new UserError(`Not a .npy file: ${file}`);
    const major = head[6];
    const headerLen = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    const at = major === 1 ? 10 : 12;
    const text = head.toString('latin1', at, Math.min(bytesRead, at + headerLen));
    const descr = /'descr':\s*'([<>|=])([a-z])(\d+)'/.exec(text);
    const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(text);
    if (!descr || !shapeMatch) throw new UserError(`Unreadable .npy header in ${file}`);
    if (/'fortran_order':\s*True/.test(text)) throw new UserError(`${file} is stored in Fortran order; save it with np.ascontiguousarray`);
    const dtype = descr[2] + descr[3];
    if (!DTYPES[dtype]) throw new UserError(`${file} has dtype ${dtype}; OOD Lens reads float and integer arrays`);
    const shape = shapeMatch[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    const h = { shape, dtype, littleEndian: descr[1] !== '>', start: at + headerLen };
    const need = shape.reduce((a, b) => a * b, 1) * DTYPES[dtype].bytes;
    const { size } = await handle.stat();
    if (size - h.start < need) throw new UserError(`${file} is truncated (${size - h.start} of ${need} data bytes)`);
    return h;
  } finally {
    await handle.close();
  }
}

/** Bytes read per piece; also the largest Uint8Array view made over the output (V8 caps a view's length). */
const PIECE = 64 * 1024 * 1024;

/** Reads the array into `out` (one value per element), converting piece by piece. */
async function readInto(file: string, h: NpyHeader, out: Float32Array | Int32Array): Promise<void> {
  const dt = DTYPES[h.dtype];
  const handle = await fs.open(file, 'r');
  try {
    if (h.dtype === 'f4' && h.littleEndian && out instanceof Float32Array) {
      // The bytes are already the output's: read them in place.
      for (let at = 0; at < out.byteLength; ) {
        const len = Math.min(PIECE, out.byteLength - at);
        const { bytesRead } = await handle.read(new Uint8Array(out.buffer, out.byteOffset + at, len), 0, len, h.start + at);
        if (bytesRead === 0) throw new UserError(`${file} is truncated`);
        at += bytesRead;
      }
      return;
    }
    const buf = Buffer.alloc(Math.min(PIECE, out.length * dt.bytes) - (Math.min(PIECE, out.length * dt.bytes) % dt.bytes));
    for (let i = 0; i < out.length; ) {
      const len = Math.min(buf.length, (out.length - i) * dt.bytes);
      const { bytesRead } = await handle.read(buf, 0, len, h.start + i * dt.bytes);
      if (bytesRead < len) throw new UserError(`${file} is truncated`);
      const view = new DataView(buf.buffer, buf.byteOffset, len);
      for (let o = 0; o < len; o += dt.bytes) out[i++] = dt.read(view, o, h.littleEndian);
    }
  } finally {
    await handle.close();
  }
}

/** A numeric .npy file as float32 (what models output and the engine keeps). */
export async function readNpyFloat32(file: string): Promise<{ shape: number[]; data: Float32Array }> {
  const h = await npyHeader(file);
  const data = new Float32Array(h.shape.reduce((a, b) => a * b, 1));
  await readInto(file, h, data);
  return { shape: h.shape, data };
}

/** An integer .npy file (class indices) as int32. */
export async function readNpyInt32(file: string): Promise<{ shape: number[]; data: Int32Array }> {
  const h = await npyHeader(file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  if (!h.dtype.startsWith('f')) {
    const data = new Int32Array(count);
    await readInto(file, h, data);
    return { shape: h.shape, data };
  }
  // Labels saved as floats: accepted when every value is a whole number.
  const f = new Float32Array(count);
  await readInto(file, h, f);
  const bad = f.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0) throw new UserError(`${file}: label ${bad} is ${f[bad]}; labels must be class indices (integers)`);
  return { shape: h.shape, data: Int32Array.from(f) };
}
