/**
 * How an image becomes a model input: channels converted, resized to H×W, scaled to [0,1], then optional
 * per-channel (x − mean) / std, written in the model's layout.
 */
export interface PreprocessSpec {
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  height: number;
  width: number;
  /** stretch: resize to H×W ignoring aspect; center-crop: resize the shorter side, then crop the centre. */
  fit: 'stretch' | 'center-crop';
  mean: number[] | null;
  std: number[] | null;
}

export function specKey(s: PreprocessSpec): string {
  return JSON.stringify([s.layout, s.channels, s.height, s.width, s.fit, s.mean, s.std]);
}

/**
 * Makes the writer of one H×W image with `srcChannels` interleaved channels into `out` at sample `index`.
 * Gray from colour uses ITU-R 601-2 luma (L = 0.299 R + 0.587 G + 0.114 B), as PIL's convert('L') and
 * torchvision's Grayscale do; alpha is dropped (not composited), as PIL's convert('RGB') does.
 */
export type SampleWriter = (px: Uint8Array, srcChannels: number, out: Float32Array, index: number) => void;

export function makeSampleWriter(spec: PreprocessSpec): SampleWriter {
  const { height: H, width: W, channels: C } = spec;
  const hw = H * W;
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const std = spec.std ? spec.std[c] ?? spec.std[0] : 1;
    const mean = spec.mean ? spec.mean[c] ?? spec.mean[0] : 0;
    scale[c] = 1 / 255 / std;
    shift[c] = mean / std;
  }
  const nchw = spec.layout === 'NCHW';
  // One loop per source kind with the constants hoisted: this runs for every pixel of every image.
  if (C === 1) {
    const k = scale[0], b = shift[0];
    return (px, srcChannels, out, index) => {
      const base = index * hw;
      if (srcChannels >= 3) {
        for (let i = 0, s = 0; i < hw; i++, s += srcChannels) out[base + i] = ((px[s] * 299 + px[s + 1] * 587 + px[s + 2] * 114) / 1000) * k - b;
      } else {
        for (let i = 0, s = 0; i < hw; i++, s += srcChannels) out[base + i] = px[s] * k - b;
      }
    };
  }
  const [k0, k1, k2] = scale, [b0, b1, b2] = shift;
  // Offsets of channels 0..2 of pixel i: base + i·step + c·plane.
  const step = nchw ? 1 : 3, plane = nchw ? hw : 1;
  return (px, srcChannels, out, index) => {
    const base = index * hw * 3;
    const colour = srcChannels >= 3;
    for (let i = 0, s = 0, o = base; i < hw; i++, s += srcChannels, o += step) {
      const r = px[s], g = colour ? px[s + 1] : r, bl = colour ? px[s + 2] : r;
      out[o] = r * k0 - b0;
      out[o + plane] = g * k1 - b1;
      out[o + 2 * plane] = bl * k2 - b2;
    }
  };
}
