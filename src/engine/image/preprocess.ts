import type { Interpolation } from './pil';

/**
 * How an image becomes a model input, in the order torchvision, timm and Hugging Face apply it on PIL images:
 * converted to the model's channels (PIL's convert), resized (PIL's resampling), centre-cropped to H×W, multiplied
 * by `rescale` (1/255, or 1 for raw 0..255 pixels), then optionally (x − mean) / std per channel, written in the
 * model's layout.
 */
export interface PreprocessSpec {
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  /** The model's input size, which the crop produces. */
  height: number;
  width: number;
  /**
   * Before the crop: null = straight to H×W, aspect ignored (torchvision's Resize((H, W))); `shorter` = the shorter
   * side to N, aspect kept (Resize(N)); `width`/`height` = exactly that size (timm's non-square crop_pct).
   */
  resize: { shorter: number } | { width: number; height: number } | null;
  interpolation: Interpolation;
  /** Centre-crop offsets: 'round' as torchvision and timm (round half to even), 'floor' as Hugging Face. */
  cropRounding: 'round' | 'floor';
  rescale: number;
  mean: number[] | null;
  std: number[] | null;
  /** Apply EXIF orientation (as a viewer and Hugging Face's load_image do; torchvision's loader does not). */
  exif: boolean;
  /**
   * JPEGs only: decode at 1/2, 1/4 or 1/8 scale when the resize target allows (DCT-domain downscaling, as PIL's
   * draft does) and resample with libvips. Faster, but not PIL's pixels (see decode.ts for the measured difference).
   */
  jpegDraft?: boolean;
}

export function specKey(s: PreprocessSpec): string {
  return JSON.stringify([s.layout, s.channels, s.height, s.width, s.resize, s.interpolation, s.cropRounding, s.rescale, s.mean, s.std, s.exif, s.jpegDraft === true]);
}

/** Writes one H×W image whose pixels already have the model's channels into `out` at sample `index`. */
export type SampleWriter = (px: Uint8Array, out: Float32Array, index: number) => void;

export function makeSampleWriter(spec: PreprocessSpec): SampleWriter {
  const { height: H, width: W, channels: C } = spec;
  const hw = H * W;
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const std = spec.std ? spec.std[c] ?? spec.std[0] : 1;
    const mean = spec.mean ? spec.mean[c] ?? spec.mean[0] : 0;
    scale[c] = spec.rescale / std;
    shift[c] = mean / std;
  }
  // One loop per channel count with the constants hoisted: this runs for every pixel of every image.
  if (C === 1) {
    const k = scale[0], b = shift[0];
    return (px, out, index) => {
      const base = index * hw;
      for (let i = 0; i < hw; i++) out[base + i] = px[i] * k - b;
    };
  }
  const [k0, k1, k2] = scale, [b0, b1, b2] = shift;
  // Offsets of channels 0..2 of pixel i: base + i·step + c·plane.
  const nchw = spec.layout === 'NCHW';
  const step = nchw ? 1 : 3, plane = nchw ? hw : 1;
  return (px, out, index) => {
    const base = index * hw * 3;
    for (let i = 0, s = 0, o = base; i < hw; i++, s += 3, o += step) {
      out[o] = px[s] * k0 - b0;
      out[o + plane] = px[s + 1] * k1 - b1;
      out[o + 2 * plane] = px[s + 2] * k2 - b2;
    }
  };
}

/** The default preprocessing for an input of H×W: straight resize (bilinear), [0, 1] pixels, EXIF applied. */
export function plainSpec(layout: PreprocessSpec['layout'], channels: 1 | 3, height: number, width: number): PreprocessSpec {
  return { layout, channels, height, width, resize: null, interpolation: 'bilinear', cropRounding: 'round', rescale: 1 / 255, mean: null, std: null, exif: true };
}
