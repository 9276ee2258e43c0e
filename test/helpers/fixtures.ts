// Builds image folders, models and .npy files in temp directories for tests.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { after } from 'node:test';

/** Temp folders for a whole test file: each call makes one, and all are removed when the file's tests end. */
export function scratchDirs(): (prefix: string) => Promise<string> {
  const made: string[] = [];
  after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return async (prefix) => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

export function tempDir(prefix = 'oodlens-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pixel values for image `i`: distinct per image and per position. */
export function pixels(i: number, h: number, w: number, c: number): Uint8Array {
  const px = new Uint8Array(h * w * c);
  for (let j = 0; j < px.length; j++) px[j] = (i * 37 + j * 11 + ((i * j) % 7) * 19) % 256;
  return px;
}

export async function writePng(file: string, px: Uint8Array, h: number, w: number, c: 1 | 2 | 3 | 4): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: c } }).png().toFile(file);
}

/** An ImageFolder tree: `classes` sub-folders, `perClass` PNGs each; returns the pixels written per file. */
export async function imageFolder(root: string, classes: string[], perClass: number, h: number, w: number, c: 1 | 3 = 1, seed = 0): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let i = seed;
  for (const cls of classes) {
    for (let j = 0; j < perClass; j++, i++) {
      const file = path.join(root, cls, `${String(j).padStart(3, '0')}.png`);
      const px = pixels(i, h, w, c);
      await writePng(file, px, h, w, c);
      out.set(file, px);
    }
  }
  return out;
}

export function writeFile(file: string, data: Uint8Array | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

/** A little-endian .npy (format 1.0) of float32 or int64 values. */
export function npy(shape: number[], data: ArrayLike<number>, dtype: '<f4' | '<i8' = '<f4'): Uint8Array {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const bytes = dtype === '<f4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + data.length * bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) {
    if (dtype === '<f4') view.setFloat32(i * 4, data[i], true);
    else view.setBigInt64(i * 8, BigInt(data[i]), true);
  }
  return out;
}

/** Logits of the test linear model (W row-major [k, d]) on features x. */
export function linear(W: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>): number[] {
  const k = b.length;
  const d = x.length;
  return Array.from({ length: k }, (_, i) => {
    let s = b[i];
    for (let j = 0; j < d; j++) s += W[i * d + j] * x[j];
    return s;
  });
}

/** Deterministic weights in [-1, 1). */
export function weights(n: number, seed = 1): Float32Array {
  const w = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    w[i] = (s / 2147483648) * 2 - 1;
  }
  return w;
}
