// Attack images as model inputs: each spec gets them as it gets noise images (the spec's writer on H×W×C pixels),
// converted first (channels, PIL resize and crop) for a member whose input differs from the attacked one's.
import { modelPixels } from '../image/pipeline';
import type { PreprocessSpec, SampleWriter } from '../image/preprocess';
import { SampleStatus, type DecodeResult } from '../image/decode-messages';
import type { AttackPlan, AttackResult } from './spec';

export function attackImage(r: AttackResult, index: number): Uint8Array {
  const size = r.height * r.width * r.channels;
  return r.pixels.subarray(index * size, (index + 1) * size);
}

/** Pixels of attack image `index` at the spec's size and channels. */
export function attackPixelsFor(r: AttackResult, index: number, spec: PreprocessSpec): Uint8Array {
  const data = attackImage(r, index);
  if (spec.height === r.height && spec.width === r.width && spec.channels === r.channels) return data;
  return modelPixels({ data, width: r.width, height: r.height, channels: r.channels }, spec).data;
}

/** A batch of an attack split, shaped as the decoding threads return a batch (every sample decoded). */
export function attackBatch(
  plan: AttackPlan,
  groups: readonly { spec: PreprocessSpec; writer: SampleWriter }[],
  start: number,
  n: number,
  reuse: (Float32Array | undefined)[],
): DecodeResult {
  const r = plan.result;
  if (!r) throw new Error('attack split scored before its search ran');
  const tensors = groups.map((g, gi) => {
    const size = g.spec.channels * g.spec.height * g.spec.width;
    const old = reuse[gi];
    const t = old && old.length >= n * size ? old : new Float32Array(n * size);
    for (let j = 0; j < n; j++) g.writer(attackPixelsFor(r, start + j, g.spec), t, j);
    return t;
  });
  return { id: -1, tensors, status: new Uint8Array(n).fill(SampleStatus.Ok), reasons: {} };
}
