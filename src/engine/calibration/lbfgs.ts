// Compact L-BFGS (Nocedal & Wright, Alg. 7.4) with a backtracking Armijo line search; the curvature pair of a
// step is skipped when sᵀy ≤ 0, so the inverse-Hessian estimate stays positive definite without a Wolfe search.

export interface LbfgsOptions {
  /** History pairs (default 10). */
  memory?: number;
  maxIterations?: number;
  /** Stop when max |gradient| ≤ gradTol (default 1e-9). */
  gradTol?: number;
  /** …or when an iteration lowers f by less than relTol·max(1, |f|) (default 1e-14). */
  relTol?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

/** Minimizes f; `fg(x, grad)` returns f(x) and writes ∇f(x) into grad. */
export function lbfgs(fg: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10;
  const maxIt = opts.maxIterations ?? 1000;
  const gradTol = opts.gradTol ?? 1e-9;
  const relTol = opts.relTol ?? 1e-14;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const d = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let stored = 0;
  let head = 0; // next slot to overwrite
  let f = fg(x, g);

  let it = 0;
  for (; it < maxIt; it++) {
    if (maxAbs(g) <= gradTol) return { x, f, iterations: it, converged: true };
    // Two-loop recursion: d = −H g.
    d.set(g);
    for (let c = 0; c < stored; c++) {
      const s = (head - 1 - c + m) % m;
      alpha[s] = rho[s] * dot(S[s], d);
      axpy(-alpha[s], Y[s], d);
    }
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      scale(d, dot(S[last], Y[last]) / dot(Y[last], Y[last]));
    } else {
      scale(d, 1 / Math.max(1, Math.sqrt(dot(g, g))));
    }
    for (let c = stored - 1; c >= 0; c--) {
      const s = (head - 1 - c + m) % m;
      axpy(alpha[s] - rho[s] * dot(Y[s], d), S[s], d);
    }
    scale(d, -1);
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      d.set(g);
      scale(d, -1 / Math.max(1, Math.sqrt(dot(g, g))));
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = NaN;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) return { x, f, iterations: it, converged: false };
    const s = S[head];
    const y = Y[head];
    for (let i = 0; i < n; i++) { s[i] = xNew[i] - x[i]; y[i] = gNew[i] - g[i]; }
    const sy = dot(s, y);
    if (sy > 1e-300) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(m, stored + 1);
    }
    const decrease = f - fNew;
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    if (decrease <= relTol * Math.max(1, Math.abs(f)) && maxAbs(g) <= Math.sqrt(gradTol)) return { x, f, iterations: it + 1, converged: true };
  }
  return { x, f, iterations: it, converged: maxAbs(g) <= gradTol };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}
function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= a;
}
function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
