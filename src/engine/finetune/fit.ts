// Fits the energy-bounded last layer from the trained W₀, b₀ with L-BFGS.
import { lbfgs } from '../calibration/lbfgs';
import { quantile } from '../metrics/ood-metrics';
import { sortedWithoutNaN } from '../metrics/sort';
import { UserError } from '../util/errors';
import { energyObjective, energyOf, type EnergyData, type LossParts } from './loss';

export const DEFAULT_LAMBDA = 0.1;
export const DEFAULT_T = 1;
export const DEFAULT_L2 = 0.1;
/** m_in is this quantile of the fit split's energies under the trained layer… */
export const M_IN_QUANTILE = 0.95;
/** …and m_out this many energy units above it. */
export const M_OUT_GAP = 5;

export interface FinetuneSettings {
  lambda?: number;
  T?: number;
  l2?: number;
  mIn?: number;
  mOut?: number;
  maxIterations?: number;
}

export interface FinetuneFit {
  W: Float32Array;
  b: Float32Array;
  lambda: number;
  T: number;
  l2: number;
  mIn: number;
  mOut: number;
  /** Where each margin came from. */
  marginSource: { mIn: 'default' | 'given'; mOut: 'default' | 'given' };
  iterations: number;
  converged: boolean;
  loss: { before: LossParts; after: LossParts };
}

/**
 * Default margins from the fit split's energies E = −T·logsumexp(z/T) under the trained layer: m_in = their 95th
 * percentile (the in-distribution term starts by pulling down only the 5% highest), m_out = m_in + 5 (outliers are
 * pushed at least 5 units above nearly all of ID). The paper's −25 / −7 were set for its CIFAR networks.
 */
export function defaultMargins(fitEnergies: Float64Array): { mIn: number; mOut: number } {
  const sorted = sortedWithoutNaN(fitEnergies);
  if (!sorted.length) throw new UserError('The fit split has no finite energies to set the margins from');
  const mIn = quantile(sorted, M_IN_QUANTILE);
  return { mIn, mOut: mIn + M_OUT_GAP };
}

/** Energies of rows of features under the layer (W, b). */
export function energies(X: Float32Array, n: number, d: number, W: ArrayLike<number>, b: ArrayLike<number>, k: number, T: number): Float64Array {
  const z = new Float64Array(k);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let v = b[c];
      for (let j = 0; j < d; j++) v += W[c * d + j] * X[i * d + j];
      z[c] = v;
    }
    out[i] = energyOf(z, 0, k, T);
  }
  return out;
}

export function fitEnergyLayer(data: EnergyData, W0: Float32Array, b0: Float32Array, s: FinetuneSettings = {}): FinetuneFit {
  const lambda = s.lambda ?? DEFAULT_LAMBDA;
  const T = s.T ?? DEFAULT_T;
  const l2 = s.l2 ?? DEFAULT_L2;
  if (!(lambda >= 0) || !(T > 0) || !(l2 >= 0)) throw new UserError(`λ and l2 must be ≥ 0 and T > 0 (got λ=${lambda}, T=${T}, l2=${l2})`);
  const dflt = s.mIn === undefined || s.mOut === undefined ? defaultMargins(energies(data.fit, data.nFit, data.d, W0, b0, data.k, T)) : null;
  const mIn = s.mIn ?? dflt!.mIn;
  const mOut = s.mOut ?? (s.mIn !== undefined ? s.mIn + M_OUT_GAP : dflt!.mOut);
  if (!(mOut > mIn)) throw new UserError(`m_out must lie above m_in (got m_in=${mIn}, m_out=${mOut})`);
  const f = energyObjective(data, { lambda, mIn, mOut, T, l2, W0 });
  const x0 = new Float64Array(W0.length + b0.length);
  x0.set(W0);
  x0.set(b0, W0.length);
  const g = new Float64Array(x0.length);
  const before = {} as LossParts;
  f(x0, g, before);
  const res = lbfgs((x, grad) => f(x, grad), x0, { maxIterations: s.maxIterations ?? 500, gradTol: 1e-7 });
  const after = {} as LossParts;
  f(res.x, g, after);
  return {
    W: Float32Array.from(res.x.subarray(0, W0.length)),
    b: Float32Array.from(res.x.subarray(W0.length)),
    lambda, T, l2, mIn, mOut,
    marginSource: { mIn: s.mIn === undefined ? 'default' : 'given', mOut: s.mOut === undefined ? 'default' : 'given' },
    iterations: res.iterations,
    converged: res.converged,
    loss: { before, after },
  };
}
