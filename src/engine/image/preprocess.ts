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
  return (px, srcChannels, out, index) => {
    const base = index * hw * C;
    const colour = srcChannels >= 3;
    for (let i = 0; i < hw; i++) {
      const s = i * srcChannels;
      if (C === 1) {
        const v = colour ? (px[s] * 299 + px[s + 1] * 587 + px[s + 2] * 114) / 1000 : px[s];
        out[base + i] = v * scale[0] - shift[0];
      } else {
        for (let c = 0; c < 3; c++) {
          const v = colour ? px[s + c] : px[s];
          out[nchw ? base + c * hw + i : base + i * 3 + c] = v * scale[c] - shift[c];
        }
      }
    }
  };
}
