// The smooth reliability curve relplot draws (prepare_rel_diagram): E[y | f] estimated by the reflected Gaussian
// smoother at the smECE bandwidth σ, Σ K·y / (Σ K + 1e-4), on an even mesh of [0, 1]; and a percentile bootstrap band
// (samples resampled with replacement, σ kept fixed, as relplot's bagged smoothers do).
import { mulberry32, quantile } from './ood-metrics';
import { linspace01, ReflectedSmoother } from './smece';

export const SMOOTH_BOOTSTRAP_RESAMPLES = 100;

export interface SmoothReliabilityOptions {
  /** Mesh points on [0, 1] (default 200, relplot's plot_mesh_pts). */
  points?: number;
  /** Bootstrap resamples (default 100; relplot uses 200). 0 gives no band. */
  resamples?: number;
  /** mulberry32 seed (default 0). */
  seed?: number;
  /** Central coverage of the band (default 0.95, relplot's). */
  level?: number;
}

export interface SmoothReliability {
  sigma: number;
  /** Mesh (confidence). */
  x: number[];
  /** Smoothed accuracy of the full sample at each mesh point (relplot draws the bootstrap mean instead). */
  accuracy: number[];
  /** Band: the (1 − level)/2 and (1 + level)/2 quantiles of the bootstrap curves; empty when resamples = 0. */
  lower: number[];
  upper: number[];
  resamples: number;
  level: number;
  /** Kernel density of the confidences at each mesh point (Σ K / n), to show where the curve has data. */
  density: number[];
}

function curve(k: ReflectedSmoother, y: ArrayLike<number>, ones: Float64Array, t: Float64Array, rows?: Uint32Array): { mu: Float64Array; dens: Float64Array } {
  const ys = k.smooth(y, t, rows);
  const dens = k.smooth(ones, t, rows);
  const mu = new Float64Array(t.length);
  for (let e = 0; e < t.length; e++) mu[e] = ys[e] / (dens[e] + 1e-4);
  return { mu, dens };
}

export function smoothReliability(conf: Float64Array, correct: ArrayLike<number>, sigma: number, opts: SmoothReliabilityOptions = {}): SmoothReliability {
  const n = conf.length;
  const level = opts.level ?? 0.95;
  if (n === 0) return { sigma, x: [], accuracy: [], lower: [], upper: [], resamples: 0, level, density: [] };
  const R = opts.resamples ?? SMOOTH_BOOTSTRAP_RESAMPLES;
  const t = linspace01(opts.points ?? 200);
  const k = new ReflectedSmoother(conf, sigma);
  const ones = new Float64Array(n).fill(1);
  const full = curve(k, correct, ones, t);
  const boot = new Float64Array(t.length * R); // mesh-major
  const rand = mulberry32(opts.seed ?? 0);
  const rows = new Uint32Array(n);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(rand() * n);
    const { mu } = curve(k, correct, ones, t, rows);
    for (let e = 0; e < t.length; e++) boot[e * R + r] = mu[e];
  }
  const lower: number[] = [];
  const upper: number[] = [];
  for (let e = 0; R && e < t.length; e++) {
    const v = boot.subarray(e * R, (e + 1) * R).sort();
    lower.push(quantile(v, (1 - level) / 2));
    upper.push(quantile(v, (1 + level) / 2));
  }
  return {
    sigma, x: Array.from(t), accuracy: Array.from(full.mu), lower, upper, resamples: R, level,
    density: Array.from(full.dens, (d) => d / n),
  };
}
