#!/usr/bin/python3
"""Golden scores for the activation-shaping family: react, ash (ASH-S), scale, dice, vra.

Written from the papers' definitions in float64 numpy, independently of the TypeScript code; hyper-parameters are
OpenOOD v1.5's defaults (configs/postprocessors/<method>.yml). Every method scores the energy −logsumexp(z) of the
logits recomputed from shaped features (DICE: from masked weights), higher = more OOD. Fit-split thresholds are
percentiles (numpy 'linear') of the fit features; fit rows with a non-finite feature are left out.

  react  Sun et al. 2021: h ← min(h, c), c = 90th percentile of all fit activations (flattened).
  ash    Djurisic et al. 2023, ASH-S@90 on the pooled features: keep the k = d − round(0.9·d) largest entries
         (ties: lowest index first), zero the rest, multiply the kept ones by exp(Σh / Σkept).
  scale  Xu et al. 2024, SCALE@85: h ← h · exp(Σh / Σ top-k(h)), k = d − round(0.85·d).
  dice   Sun & Li 2022, p = 90: contributions V = mean_fit(h) ⊙ W; W ← W · [V > 90th percentile of V].
  vra    Xu et al. 2023, VRA: h ← 0 below α, h + γ within [α, β], β above; α, β the 10th / 90th percentiles of
         all fit activations (flattened, as OpenOOD v1.5); γ = 0. `vra(..., zero_low=False)` is OpenOOD v1.5's
         clip(min=α, max=β) instead.
For ASH-S / SCALE, Σkept = 0 (only all-zero rows of post-ReLU features) takes the sharpening exponent as 0.

Usage (repository root): scripts/ood_golden/shaping.py  → test/fixtures/ood/{react,ash,scale,dice,vra}.json
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cases, write  # noqa: E402


def energy(z):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    return -(m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))


def linear(c, h):
    return h @ np.asarray(c['W'], np.float64).reshape(c['k'], c['d']).T + np.asarray(c['b'], np.float64)


def fit_rows(c):
    h = np.asarray(c['fit']['features'], np.float64).reshape(-1, c['d'])
    return h[np.isfinite(h).all(axis=1)]


def test_rows(c):
    return np.asarray(c['test']['features'], np.float64).reshape(-1, c['d'])


def react(c, percentile=90):
    clip = np.percentile(fit_rows(c).ravel(), percentile)
    return energy(linear(c, np.minimum(test_rows(c), clip)))


def _top_k_mask(x, percentile):
    d = x.shape[0]
    k = d - int(np.round(d * percentile / 100.0))
    keep = np.zeros(d, dtype=bool)
    keep[np.argsort(-x, kind='stable')[:k]] = True
    return keep


def _exponent(total, kept):
    return 0.0 if kept == 0 else total / kept


def ash_s(c, percentile=90):
    out = []
    for x in test_rows(c):
        keep = _top_k_mask(x, percentile)
        pruned = np.where(keep, x, 0.0)
        out.append(pruned * np.exp(_exponent(x.sum(), pruned.sum())))
    return energy(linear(c, np.array(out)))


def scale(c, percentile=85):
    out = []
    for x in test_rows(c):
        keep = _top_k_mask(x, percentile)
        out.append(x * np.exp(_exponent(x.sum(), x[keep].sum())))
    return energy(linear(c, np.array(out)))


def dice(c, p=90):
    W = np.asarray(c['W'], np.float64).reshape(c['k'], c['d'])
    contrib = fit_rows(c).mean(axis=0)[None, :] * W
    masked = W * (contrib > np.percentile(contrib, p))
    return energy(test_rows(c) @ masked.T + np.asarray(c['b'], np.float64))


def vra(c, percentile_high=90, percentile_low=10, gamma=0.0, zero_low=True):
    acts = fit_rows(c).ravel()
    lo, hi = np.percentile(acts, percentile_low), np.percentile(acts, percentile_high)
    h = test_rows(c)
    shaped = np.where(h > hi, hi, h + gamma)
    shaped = np.where(h < lo, 0.0 if zero_low else lo, shaped)
    return energy(linear(c, shaped))


if __name__ == '__main__':
    all_cases = cases()
    for name, fn, params in [
        ('react', react, {'percentile': 90}),
        ('ash', ash_s, {'percentile': 90}),
        ('scale', scale, {'percentile': 85}),
        ('dice', dice, {'p': 90}),
        ('vra', vra, {'percentile_high': 90, 'percentile_low': 10, 'gamma': 0, 'zero_low': 1}),
    ]:
        kw = {k: v for k, v in params.items() if k != 'zero_low'}
        if 'zero_low' in params:
            kw['zero_low'] = bool(params['zero_low'])
        print(write(name, params, [(c, fn(c, **kw)) for c in all_cases]))
