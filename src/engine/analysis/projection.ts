import type { ProjectionSet } from '../report/types';

/**
 * 2-D PCA for the feature chart: components fitted on the ID sample (power iteration with deflation on the
 * covariance), every split's sample projected onto them.
 */
export function pcaProjection(model: string, idName: string, samples: Map<string, { features: Float64Array; index: number[]; d: number }>): ProjectionSet | null {
  const id = samples.get(idName);
  if (!id || id.index.length < 3) return null;
  const { d } = id;
  const n = id.index.length;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += id.features[i * d + j] / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = id.features[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n - 1;
      cov[b * d + a] = cov[a * d + b];
    }
    trace += cov[a * d + a];
  }
  const comps: Float64Array[] = [];
  const vals: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(d).map((_, i) => 1 + ((i * 7919) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b] * v[b];
        w[a] = s;
      }
      for (const u of comps) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += w[a] * u[a];
        for (let a = 0; a < d; a++) w[a] -= dot * u[a];
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let a = 0; a < d; a++) w[a] /= norm;
      const delta = w.reduce((s, x, a) => s + Math.abs(x - v[a]), 0);
      v = w;
      lambda = norm;
      if (delta < 1e-10) break;
    }
    comps.push(v);
    vals.push(lambda);
  }
  const points: ProjectionSet['points'] = [];
  for (const [split, s] of samples) {
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < s.index.length; i++) {
      let px = 0;
      let py = 0;
      for (let j = 0; j < d; j++) {
        const c = s.features[i * d + j] - mean[j];
        px += c * comps[0][j];
        py += c * comps[1][j];
      }
      x.push(px);
      y.push(py);
    }
    points.push({ split, x, y, index: s.index });
  }
  return { model, explainedVariance: [trace > 0 ? vals[0] / trace : 0, trace > 0 ? vals[1] / trace : 0], points };
}
