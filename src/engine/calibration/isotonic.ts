// Top-label isotonic regression (Zadrozny & Elkan 2002) of correctness on confidence, as sklearn's
// IsotonicRegression(out_of_bounds='clip') fits and predicts it:
// - samples sorted by confidence; equal confidences merged into one point (weight = count, value = their mean);
// - pool-adjacent-violators with weights, increasing: a block is pooled with the next when its mean is ≥ the next's;
// - interior breakpoints whose value equals both neighbours' are dropped (they change no prediction);
// - prediction: c clipped to [x₀, x_last], then linear interpolation between breakpoints (numpy.interp's
//   slope·(c − x_s) + y_s with slope = (y_{s+1} − y_s)/(x_{s+1} − x_s)).

export interface IsotonicFit {
  /** Breakpoints, x strictly increasing. */
  x: number[];
  y: number[];
}

export function fitIsotonic(conf: Float64Array, correct: ArrayLike<number>): IsotonicFit {
  const n = conf.length;
  if (n === 0) throw new RangeError('isotonic regression needs calibration samples');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => conf[a] - conf[b]);
  const ux: number[] = [], sy: number[] = [], w: number[] = [];
  for (const i of order) {
    if (ux.length && ux[ux.length - 1] === conf[i]) {
      sy[sy.length - 1] += correct[i];
      w[w.length - 1]++;
    } else {
      ux.push(conf[i]);
      sy.push(correct[i]);
      w.push(1);
    }
  }
  // Blocks on a stack: weighted sum, weight, and the index of their first point.
  const bSum: number[] = [], bW: number[] = [], bStart: number[] = [];
  for (let j = 0; j < ux.length; j++) {
    bSum.push(sy[j]);
    bW.push(w[j]);
    bStart.push(j);
    while (bSum.length > 1 && bSum[bSum.length - 2] / bW[bW.length - 2] >= bSum[bSum.length - 1] / bW[bW.length - 1]) {
      bSum[bSum.length - 2] += bSum.pop()!;
      bW[bW.length - 2] += bW.pop()!;
      bStart.pop();
    }
  }
  const fitted = new Array<number>(ux.length);
  bStart.forEach((start, b) => {
    const end = b + 1 < bStart.length ? bStart[b + 1] : ux.length;
    fitted.fill(bSum[b] / bW[b], start, end);
  });
  const keep = fitted.map((v, j) => j === 0 || j === fitted.length - 1 || v !== fitted[j - 1] || v !== fitted[j + 1]);
  return { x: ux.filter((_, j) => keep[j]), y: fitted.filter((_, j) => keep[j]) };
}

/** Segment of c (already clipped): the number of breakpoints x₁..x_last at or below c, at most M − 2. */
export function isotonicSegment(x: ArrayLike<number>, c: number): number {
  let lo = 1;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= c) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo - 1, x.length - 2);
}

export function applyIsotonic(f: IsotonicFit, c: number): number {
  const M = f.x.length;
  if (M === 1) return f.y[0];
  const cc = Math.min(Math.max(c, f.x[0]), f.x[M - 1]);
  const s = isotonicSegment(f.x, cc);
  const slope = (f.y[s + 1] - f.y[s]) / (f.x[s + 1] - f.x[s]);
  return slope * (cc - f.x[s]) + f.y[s];
}
