#!/usr/bin/python3
"""Golden values for the calibration estimates: src/engine/metrics/{smece,smooth-reliability,binned-estimators}.ts.

Written in float64 numpy from the published definitions, independently of the TypeScript code (whole-array numpy
here: the full reflected convolution with np.convolve, vectorised binning; the TypeScript evaluates single grid
points with a truncated kernel and loops).

  smece      SmoothECE as relplot 1.0.3 computes it (apple/ml-calibration, src/relplot/metrics.py smooth_ece /
             smECE, kernels.py ReflectedGaussianKernel): at bandwidth s, a grid of M = max(2000, round(20/s))//2 + 1
             points on [0, 1]; every sample's weight split linearly between its two grid points; the grid reflected
             once at each end without repeating the end point; np.convolve 'valid' with the Gaussian pdf sampled at
             linspace(0, 1, M) − 0.5; the M values centred on the original grid; read back by linear interpolation
             at t = linspace(0, 1, max(round(10/s), 200)). Residual r = f − y: r̂ = K·r / (K·1 + 1e-4), smECE_s =
             Σ|r̂|·(K·1 + 1e-4) / Σ(K·1 + 1e-4). Bandwidth: s = 1 if s ≥ smECE_s there, else 10 bisection steps of
             [0, 1] keeping the upper end where s ≥ smECE_s (s < 0.001 counts as "below").
  curve      relplot's smooth reliability curve at that s: K·y / (K·1 + 1e-4) at linspace(0, 1, 200).
  smece_kernel_exact  (informational, not tested) the same average with the exact reflected Gaussian
             Σ_m φ(t − f + 2m) + φ(t + f + 2m), integrated on a fine grid: it counts a sample at exactly 0 or 1
             twice (its mirror image coincides with it), where relplot's grid counts it once.
  ece_debiased  Kumar, Liang & Ma 2019 (verified_calibration, lower_bound_scaling_ce, p = 2, debias, top-label):
             equal-mass edges = midpoints between np.array_split(sorted conf, min(15, n)) chunks, then 1.0, deduplicated;
             bin = searchsorted(edges, conf, 'left') (bins (lo, hi]); sqrt(max(0, Σ_b n_b/N ((c̄_b − ȳ_b)² −
             ȳ_b(1 − ȳ_b)/(n_b − 1)))), bins with n_b < 2 adding 0.
  ece_toplabel  Gupta & Ramdas: Σ over predicted class c and equal-width bin b ((lo, hi], 0 in the first bin) of
             n_cb/N |ȳ_cb − c̄_cb|, 15 bins as numpy.linspace(0, 1, 16).

Inputs are float32 logits, multiples of 1/32 stored ×32 as integers (`logits_x32`; softmax in float64, top label = first maximum) or, for `direct` cases, confidences and
correctness. Usage (repository root): scripts/trust_golden/calibration_estimates.py
  → test/fixtures/trust/calibration_estimates.json
"""
import json
from pathlib import Path

import numpy as np

trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz

OUT = Path(__file__).resolve().parents[2] / 'test' / 'fixtures' / 'trust' / 'calibration_estimates.json'
EPS = 1e-4
BINS = 15


def grid_splat(f, w, m):
    idx = np.clip((f * (m - 1)).astype(np.int64), 0, m - 2)
    frac = f * (m - 1) - idx
    return np.bincount(idx, (1 - frac) * w, minlength=m) + np.bincount(idx + 1, frac * w, minlength=m)


def reflected_smooth(f, w, s, t):
    """Σ_i w_i K(t, f_i) on relplot's grid, read at t."""
    m = max(2000, round(20 / s)) // 2 + 1
    g = np.linspace(0, 1, m)
    ker = np.exp(-(g - 0.5) ** 2 / (2 * s * s)) / (np.sqrt(2 * np.pi) * s)
    v = grid_splat(f, w, m)
    ext = np.concatenate([v[::-1][:-1], v, v[::-1][1:]])
    sm = np.convolve(ext, ker, 'valid')[m // 2: m // 2 + m]
    pos = t * (m - 1)
    i = np.clip(pos.astype(np.int64), 0, m - 2)
    r = (t - i / (m - 1)) * (m - 1)
    return sm[i] * (1 - r) + sm[i + 1] * r


def smece_at(f, y, s):
    t = np.linspace(0, 1, max(round(10 / s), 200))
    dens = reflected_smooth(f, np.ones_like(f), s, t) + EPS
    rh = reflected_smooth(f, f - y, s, t) / dens
    return float(np.sum(np.abs(rh) * dens) / np.sum(dens))


def smece(f, y):
    below = lambda s: s < 0.001 or s < smece_at(f, y, s)  # noqa: E731
    hi, lo = 1.0, 0.0
    if below(hi):
        return smece_at(f, y, hi), hi
    for _ in range(10):
        mid = (hi + lo) / 2
        if below(mid):
            lo = mid
        else:
            hi = mid
    return smece_at(f, y, hi), hi


def smooth_curve(f, y, s):
    t = np.linspace(0, 1, 200)
    return reflected_smooth(f, y, s, t) / (reflected_smooth(f, np.ones_like(f), s, t) + EPS)


def smece_kernel_exact(f, y, s):
    t = np.linspace(0, 1, 20001)
    d = t[:, None]
    phi = lambda x: np.exp(-x * x / (2 * s * s)) / (np.sqrt(2 * np.pi) * s)  # noqa: E731
    k = sum(phi(d - f + 2 * j) + phi(d + f + 2 * j) for j in range(-3, 4))
    dens = k.sum(1)
    rh = (k @ (f - y)) / np.where(dens > 0, dens, 1)
    integrand = np.abs(rh) * dens
    return float(trapezoid(integrand, t) / trapezoid(dens, t))


def ece_debiased(f, y):
    n = len(f)
    chunks = np.array_split(np.sort(f), min(BINS, n))
    edges = sorted({*((a[-1] + b[0]) / 2 for a, b in zip(chunks[:-1], chunks[1:])), 1.0})
    b = np.searchsorted(np.array(edges), f, 'left')
    total = 0.0
    for j in range(len(edges)):
        sel = b == j
        nb = int(sel.sum())
        if nb < 2:
            continue
        ybar = y[sel].mean()
        total += nb / n * ((f[sel].mean() - ybar) ** 2 - ybar * (1 - ybar) / (nb - 1))
    return float(np.sqrt(max(total, 0.0)))


def ece_toplabel(f, y, pred):
    edges = np.linspace(0, 1, BINS + 1)
    b = np.clip(np.searchsorted(edges, f, 'left') - 1, 0, BINS - 1)
    total = 0.0
    for c in np.unique(pred):
        for j in range(BINS):
            sel = (pred == c) & (b == j)
            if sel.any():
                total += sel.sum() / len(f) * abs(y[sel].mean() - f[sel].mean())
    return float(total)


def top_label(logits, labels):
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pred = p.argmax(1)
    return p.max(1), (pred == labels).astype(np.float64), pred


def logit_cases(rng):
    out = []

    def add(name, logits, labels):  # multiples of 1/32: exact in float32 and short in JSON
        out.append((name, (np.round(np.asarray(logits) * 32) / 32).astype(np.float32), np.asarray(labels, np.int64)))

    k, n = 5, 600
    lab = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k)) + 2.5 * np.eye(k)[np.where(rng.random(n) < 0.7, lab, rng.integers(0, k, n))]
    add('overconfident', 1.8 * z, lab)
    rows = rng.normal(0, 2, (6, 4))  # six distinct rows repeated: heavily tied confidences
    pick = rng.integers(0, 6, 240)
    add('tied_confidences', rows[pick], rng.integers(0, 4, 240))
    z = rng.normal(0, 1, (200, 3))
    z[:70] = [0, -800, -800]  # softmax exactly 1.0
    z[70:90] = [-800, 0, -800]
    add('confidence_one', z, rng.integers(0, 3, 200))
    add('tiny_n1', [[0.3, 1.2, -0.5]], [1])
    add('tiny_n2', [[0.3, 1.2, -0.5], [2.0, 0.1, 0.0]], [1, 2])
    add('tiny_n5', rng.normal(0, 1.5, (5, 3)), [0, 1, 2, 0, 1])
    z = rng.normal(0, 1, (300, 4))
    z[:, 3] -= 50  # class 3 is never predicted, though it is a label
    add('class_never_predicted', z, rng.integers(0, 4, 300))
    k, n = 100, 200
    lab = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k))
    z[np.arange(n), lab] += rng.normal(3, 1.5, n)
    add('many_classes', z, lab)
    return out


def direct_cases(rng):
    f = rng.uniform(0.3, 1, 500)
    out = [('random_direct', f, (rng.random(500) < f ** 1.5).astype(np.float64))]
    f = np.round(rng.uniform(0.5, 1, 300), 2)
    f[:50] = 1.0
    out.append(('grid_ties_and_ones', f, (rng.random(300) < f).astype(np.float64)))
    out.append(('all_one_all_correct', np.ones(40), np.ones(40)))
    out.append(('three_points', np.array([0.9, 0.6, 1.0]), np.array([1.0, 0.0, 1.0])))
    f = rng.uniform(0, 1, 400)
    out.append(('calibrated_uniform', f, (rng.random(400) < f).astype(np.float64)))
    return out


def estimates(f, y, pred=None):
    v, s = smece(f, y)
    e = {'smece': v, 'smece_bandwidth': s, 'curve': smooth_curve(f, y, s).tolist(), 'ece_debiased': ece_debiased(f, y),
         'smece_kernel_exact': smece_kernel_exact(f, y, s)}
    if pred is not None:
        e['ece_toplabel'] = ece_toplabel(f, y, pred)
    return e


def main():
    rng = np.random.default_rng(20240916)
    cases = []
    for name, logits, labels in logit_cases(rng):
        f, y, pred = top_label(logits, labels)
        cases.append({'name': name, 'k': logits.shape[1], 'logits_x32': (logits.ravel() * 32).astype(np.int64).tolist(), 'labels': labels.tolist(),
                      'expected': estimates(f, y, pred)})
    for name, f, y in direct_cases(rng):
        cases.append({'name': name, 'confidence': f.tolist(), 'correct': y.tolist(), 'expected': estimates(f, y)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({'generator': 'scripts/trust_golden/calibration_estimates.py', 'cases': cases},
                              separators=(',', ':')) + '\n')
    for c in cases:
        e = c['expected']
        print(f"{c['name']:24s} smece={e['smece']:.6f} σ={e['smece_bandwidth']:.6f} exact={e['smece_kernel_exact']:.6f} "
              f"debiased={e['ece_debiased']:.6f} toplabel={e.get('ece_toplabel', float('nan')):.6f}")
    print(OUT, OUT.stat().st_size, 'bytes')


if __name__ == '__main__':
    main()
