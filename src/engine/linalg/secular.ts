// Eigen-decomposition of diag(d) + ρ·z·zᵀ (d strictly increasing, ρ > 0, no z_i negligible: what deflation leaves),
// the core of Cuppen's divide and conquer. Roots of the secular equation f(λ) = 1 + ρ·Σ z_i²/(d_i − λ) by a
// safeguarded rational iteration in the spirit of LAPACK's dlaed4 (Li, "Solving secular equations stably and
// efficiently", 1993), with λ = d_o + τ measured from the nearer pole d_o so that every d_i − λ = (d_i − d_o) − τ is
// accurate to a few ulps; eigenvectors from Gu & Eisenstat's recomputed ẑ (SIAM J. Matrix Anal. Appl. 16, 1995),
// which makes them numerically orthogonal however close the roots are.

const EPS = Number.EPSILON;
/** A cap only: the rational steps converge in a handful (4–5 on average, under 20 in stress cases), and a step that
 * would leave the bracket is replaced by bisection. */
const MAX_ITERATIONS = 100;

/**
 * Returns the eigenvalues λ_0 < … < λ_{K−1} and writes the unit eigenvector of λ_j into column j of `u` (K×K,
 * row-major), its entry for pole i in row rowOf[i]: the caller's order for the product that follows.
 */
export function secularEigen(d: Float64Array, z: Float64Array, rho: number, rowOf: Int32Array, u: Float64Array): Float64Array {
  const K = d.length;
  const w = new Float64Array(K);
  for (let i = 0; i < K; i++) w[i] = rho * z[i] * z[i];
  // λ_j = base[j] + tau[j], base[j] its nearer pole; d_i − λ_j is always formed as (d_i − base[j]) − tau[j].
  const base = new Float64Array(K);
  const tau = new Float64Array(K);
  const delta = new Float64Array(K);
  const product = new Float64Array(K).fill(1); // Löwner's products, accumulated root by root
  for (let j = 0; j < K; j++) {
    secularRoot(d, w, j, delta, base, tau);
    const dj = d[j];
    for (let i = 0; i < j; i++) product[i] *= delta[i] / (d[i] - dj);
    product[j] *= delta[j];
    for (let i = j + 1; i < K; i++) product[i] *= delta[i] / (d[i] - dj);
  }
  const zhat = lownerZ(z, product);
  const norm = new Float64Array(K); // of column j, ẑ_i/(d_i − λ_j) over i
  for (let i = 0; i < K; i++) {
    const row = rowOf[i] * K;
    for (let j = 0; j < K; j++) {
      const v = zhat[i] / (d[i] - base[j] - tau[j]);
      u[row + j] = v;
      norm[j] += v * v;
    }
  }
  for (let j = 0; j < K; j++) norm[j] = 1 / Math.sqrt(norm[j]);
  for (let r = 0; r < K; r++) for (let j = 0; j < K; j++) u[r * K + j] *= norm[j];
  const lambda = new Float64Array(K);
  for (let j = 0; j < K; j++) lambda[j] = base[j] + tau[j];
  return lambda;
}

/**
 * λ_j, in (d_j, d_{j+1}) or, for the last, in (d_{K−1}, d_{K−1} + ρ‖z‖²). The sign of f at the interval's middle
 * tells which pole is nearer (f increases from −∞ to +∞ between poles); that pole becomes the origin. Sets base[j]
 * and tau[j] and writes delta[i] = d_i − λ_j.
 */
function secularRoot(d: Float64Array, w: Float64Array, j: number, delta: Float64Array, base: Float64Array, tau: Float64Array): void {
  const K = d.length;
  let origin = j;
  let lo = 0;
  let hi: number;
  if (j < K - 1) {
    const half = (d[j + 1] - d[j]) / 2;
    let f = 1;
    for (let i = 0; i < K; i++) f += w[i] / (d[i] - d[j] - half);
    hi = half;
    if (f < 0) {
      origin = j + 1;
      lo = -half;
      hi = 0;
    }
  } else {
    hi = 0;
    for (let i = 0; i < K; i++) hi += w[i]; // f(d_{K−1} + ρ‖z‖²) ≥ 0
  }
  base[j] = d[origin];
  for (let i = 0; i < K; i++) delta[i] = d[i] - base[j];
  const t = iterate(delta, w, j, lo, hi, origin === j ? hi : lo);
  for (let i = 0; i < K; i++) delta[i] -= t;
  tau[j] = t;
}

/**
 * The root τ in (lo, hi) of f(τ) = 1 + Σ w_i/(delta_i − τ), starting from `tau`. Each step fits
 * c + b/(δ_j − x) + B/(δ_{j+1} − x) to f (the poles below j and above it each lumped into one, matching value and
 * slope: Li's "middle way") and takes its root; a step leaving the bracket is replaced by bisection. Stops once |f|
 * is within its own rounding error.
 */
function iterate(delta: Float64Array, w: Float64Array, j: number, lo: number, hi: number, tau: number): number {
  const K = delta.length;
  const last = j === K - 1;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    let psi = 0, dpsi = 0, phi = 0, dphi = 0;
    for (let i = 0; i <= j; i++) {
      const r = 1 / (delta[i] - tau);
      const t = w[i] * r;
      psi += t;
      dpsi += t * r;
    }
    for (let i = j + 1; i < K; i++) {
      const r = 1 / (delta[i] - tau);
      const t = w[i] * r;
      phi += t;
      dphi += t * r;
    }
    const f = 1 + psi + phi;
    if (Math.abs(f) <= 8 * EPS * (1 + phi - psi + Math.abs(tau) * (dpsi + dphi))) break;
    if (f < 0) lo = tau;
    else hi = tau;
    const dp = delta[j] - tau; // < 0
    let eta: number;
    if (last) {
      const c = f - dpsi * dp; // f ≈ c + dpsi·dp²/(dp − η)
      eta = c > 0 ? dp + (dpsi * dp * dp) / c : NaN;
    } else {
      const dq = delta[j + 1] - tau; // > 0
      const c = f - dpsi * dp - dphi * dq;
      const a1 = c * (dp + dq) + dpsi * dp * dp + dphi * dq * dq;
      const a0 = dp * dq * f;
      const disc = Math.sqrt(Math.abs(a1 * a1 - 4 * c * a0));
      eta = a1 <= 0 ? (a1 - disc) / (2 * c) : (2 * a0) / (a1 + disc); // the root of c·η² − a1·η + a0 in (dp, dq)
    }
    let next = tau + eta;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (next === tau) break;
    tau = next;
  }
  return tau;
}

/**
 * Gu–Eisenstat: the ẑ for which the computed λ are the exact eigenvalues of diag(d) + ẑ·ẑᵀ (up to the common
 * factor ρ, which the eigenvectors' normalization removes), ẑ_i² = −(d_i − λ_i)·Π_{j≠i} (d_i − λ_j)/(d_i − d_j)
 * (`product`, as LAPACK's dlaed3 forms it), with z's signs. By interlacing every factor is positive and
 * d_i − λ_i < 0.
 */
function lownerZ(z: Float64Array, product: Float64Array): Float64Array {
  const zhat = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const r = Math.sqrt(Math.max(0, -product[i]));
    zhat[i] = z[i] < 0 ? -r : r;
  }
  return zhat;
}
