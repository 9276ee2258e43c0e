// Energy-bounded learning for OOD detection (Liu et al., NeurIPS 2020), restricted to the last layer:
//   L(W, b) = CE(ID) + λ·( mean_in relu(E(x_in) − m_in)² + mean_out relu(m_out − E(x_out))² ) + l2/2·‖W − W₀‖²
// with z = W·h + b on penultimate features h and E = −T·logsumexp(z/T). The last term (not in the paper, which
// fine-tunes a whole network for a few epochs) keeps the refit near the trained layer; l2 = 0 is the paper's loss.

/** Features of the labelled fit split (the in-distribution term) and of the outlier set. */
export interface EnergyData {
  d: number;
  k: number;
  fit: Float32Array;
  nFit: number;
  /** Class index per fit row; rows with −1 (or out of range) count in the energy term but not in the CE. */
  labels: Int32Array;
  outliers: Float32Array;
  nOut: number;
}

export interface EnergyLossOptions {
  lambda: number;
  mIn: number;
  mOut: number;
  T: number;
  /** Pull toward W₀ (biases are not pulled). */
  l2: number;
  /** The trained layer, row-major [k, d]. */
  W0: Float32Array;
}

/** The parts of L at one point, each already averaged. */
export interface LossParts {
  ce: number;
  energyIn: number;
  energyOut: number;
  total: number;
}

/** E(z) = −T·logsumexp(z/T) of one row; softmax(z/T) is written into `p` when given. */
export function energyOf(z: ArrayLike<number>, off: number, k: number, T: number, p?: Float64Array): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, z[off + c] / T);
  let s = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(z[off + c] / T - m);
    if (p) p[c] = e;
    s += e;
  }
  if (p) for (let c = 0; c < k; c++) p[c] /= s;
  return -T * (m + Math.log(s));
}

/**
 * The objective over x = [W (k·d, row-major), b (k)] as L-BFGS takes it: returns L and writes ∇L into g.
 * `parts` receives the unweighted averages of its terms.
 */
export function energyObjective(data: EnergyData, o: EnergyLossOptions): (x: Float64Array, g: Float64Array, parts?: LossParts) => number {
  const { d, k } = data;
  const nw = k * d;
  const z = new Float64Array(k);
  const p = new Float64Array(k);
  const r = new Float64Array(k);
  const nLabelled = countLabelled(data.labels, data.nFit, k);

  // z = W·h + b for row i of X; then ∂(weight·term)/∂z = r is spread into ∂W and ∂b.
  const logits = (x: Float64Array, X: Float32Array, i: number) => {
    const off = i * d;
    for (let c = 0; c < k; c++) {
      let v = x[nw + c];
      const w = c * d;
      for (let j = 0; j < d; j++) v += x[w + j] * X[off + j];
      z[c] = v;
    }
  };
  const backprop = (g: Float64Array, X: Float32Array, i: number) => {
    const off = i * d;
    for (let c = 0; c < k; c++) {
      const rc = r[c];
      if (rc === 0) continue;
      g[nw + c] += rc;
      const w = c * d;
      for (let j = 0; j < d; j++) g[w + j] += rc * X[off + j];
    }
  };

  return (x, g, parts) => {
    g.fill(0);
    let ce = 0, eIn = 0, eOut = 0;
    const wCe = nLabelled ? 1 / nLabelled : 0;
    const wIn = data.nFit ? o.lambda / data.nFit : 0;
    const wOut = data.nOut ? o.lambda / data.nOut : 0;
    for (let i = 0; i < data.nFit; i++) {
      logits(x, data.fit, i);
      const E = energyOf(z, 0, k, o.T, p);
      const y = data.labels[i];
      const labelled = y >= 0 && y < k;
      r.fill(0);
      if (labelled) {
        // The CE is on softmax(z) whatever T is (T only shapes the energy).
        const lse = logSumExp(z, k);
        ce += lse - z[y];
        for (let c = 0; c < k; c++) r[c] = wCe * (Math.exp(z[c] - lse) - (c === y ? 1 : 0));
      }
      const over = E - o.mIn;
      if (over > 0) {
        eIn += over * over;
        // ∂E/∂z = −softmax(z/T)
        for (let c = 0; c < k; c++) r[c] -= wIn * 2 * over * p[c];
      }
      backprop(g, data.fit, i);
    }
    for (let i = 0; i < data.nOut; i++) {
      logits(x, data.outliers, i);
      const under = o.mOut - energyOf(z, 0, k, o.T, p);
      if (!(under > 0)) continue;
      eOut += under * under;
      for (let c = 0; c < k; c++) r[c] = wOut * 2 * under * p[c];
      backprop(g, data.outliers, i);
    }
    let reg = 0;
    for (let q = 0; q < nw; q++) {
      const dw = x[q] - o.W0[q];
      reg += dw * dw;
      g[q] += o.l2 * dw;
    }
    const avg = { ce: ce * wCe, energyIn: data.nFit ? eIn / data.nFit : 0, energyOut: data.nOut ? eOut / data.nOut : 0 };
    const total = avg.ce + o.lambda * (avg.energyIn + avg.energyOut) + 0.5 * o.l2 * reg;
    if (parts) Object.assign(parts, avg, { total });
    return total;
  };
}

function logSumExp(z: Float64Array, k: number): number {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, z[c]);
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(z[c] - m);
  return m + Math.log(s);
}

function countLabelled(labels: Int32Array, n: number, k: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (labels[i] >= 0 && labels[i] < k) c++;
  return c;
}
