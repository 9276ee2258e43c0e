// Conversions between the engine's float32 batches and the element types models take and give.
import type { Tensor } from 'onnxruntime-node';
import { halfToFloat } from '../onnx/tensors';

type Ort = typeof import('onnxruntime-node');

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, rounding to nearest even (as numpy's astype(float16) and torch's .half() do). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** The batch as the tensor type the model's input takes (uint8 inputs get the raw 0..255 pixels). */
export function inputTensor(ort: Ort, type: 'float32' | 'float16' | 'uint8', data: Float32Array, dims: number[]): Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  if (type === 'uint8') return new ort.Tensor('uint8', Uint8Array.from(data, (v) => Math.round(v)), dims);
  const half = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) half[i] = floatToHalf(data[i]);
  return new ort.Tensor('float16', half, dims);
}

/** An output as float32 (float16 decoded from its bits, integers converted). */
export function toFloat32(t: Tensor): Float32Array {
  const d = t.data as ArrayLike<number | bigint>;
  if (d instanceof Float32Array) return d;
  const out = new Float32Array(d.length);
  if (t.type === 'float16') for (let i = 0; i < d.length; i++) out[i] = halfToFloat(d[i] as number);
  else for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

/** Global average pooling of [n, C, ...spatial] to [n, C] (channels first, the ONNX convention). */
export function poolFeatures(data: Float32Array, dims: number[]): Float32Array {
  const [n, c] = dims;
  const area = data.length / (n * c);
  const out = new Float32Array(n * c);
  for (let i = 0; i < n * c; i++) {
    let sum = 0;
    for (let j = i * area, end = j + area; j < end; j++) sum += data[j];
    out[i] = sum / area;
  }
  return out;
}
