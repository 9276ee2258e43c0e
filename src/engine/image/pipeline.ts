// Decoded pixels → the model's H×W pixels, with PIL's own arithmetic at every step (see pil.ts), so that a model
// scored here sees what it saw in its owner's torchvision, timm or Hugging Face evaluation.
import { centerCrop, cropRect, resizePil, shorterSideSize, toGray, toRgb, type Pixels } from './pil';
import type { PreprocessSpec } from './preprocess';

/** The size an image of w×h is resized to before the crop. */
export function resizeTarget(w: number, h: number, spec: PreprocessSpec): [number, number] {
  const r = spec.resize;
  if (r === null) return [spec.width, spec.height];
  if ('shorter' in r) return shorterSideSize(w, h, r.shorter);
  return [r.width, r.height];
}

/**
 * Channels first (gray is made before resizing, as `Grayscale()` after PIL's RGB loader does), then the resize,
 * then the centre crop. Returns H×W pixels with `spec.channels` channels. A crop inside the resized image is
 * resampled alone (the pixels it drops are never computed); one that needs padding crops the whole resized image.
 */
export function modelPixels(img: Pixels, spec: PreprocessSpec): Pixels {
  let p = spec.channels === 1 ? (img.channels === 1 ? img : toGray(img)) : img.channels === 3 ? img : toRgb(img);
  const [rw, rh] = resizeTarget(p.width, p.height, spec);
  const crop = cropRect(rw, rh, spec.width, spec.height, spec.cropRounding);
  const inside = crop.x >= 0 && crop.y >= 0 && crop.x + crop.width <= rw && crop.y + crop.height <= rh;
  if (rw !== p.width || rh !== p.height) p = resizePil(p, rw, rh, spec.interpolation, inside ? crop : undefined);
  if (p.width !== spec.width || p.height !== spec.height) p = centerCrop(p, spec.width, spec.height, spec.cropRounding);
  return p;
}
