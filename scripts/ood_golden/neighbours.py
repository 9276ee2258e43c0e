#!/usr/bin/python3
"""Golden scores for the methods that compare a sample with a bank of fit samples: nnguide and relation.

Written from the papers' definitions in float64 numpy (dense matrices, full sorts), independently of the
TypeScript scans. Scores are negated where the paper's are higher = more in-distribution.

  NNGuide (Park et al., ICCV 2023): s(x) = logsumexp(z); bank = normalized fit features h_i/||h_i||, each
  times its own s(x_i); guidance G(x) = mean of the k largest inner products <h/||h||, s_i h_i/||h_i||>;
  paper score s(x)·G(x), written here as -s(x)·G(x). The paper draws alpha = 1% of the training set at random;
  here the bank is every m-th fit row (m = round(1/alpha)) from the first, or min(k, N) rows at floor(j·N/M)
  when that gives fewer than k.
  Relation (Kim et al., NeurIPS 2023): edge r_i = max(0, cos(h, h_i)) · softmax(z)·softmax(z_i), edges
  <= thres cut, score = -sum r_i^pow (the paper's 1/(sum + 1e-6) in the same order).

Zero feature rows normalize to zero. Usage (repository root): scripts/ood_golden/neighbours.py
  → test/fixtures/ood/{nnguide,nnguide-stride,relation,relation-pow2}.json
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cases, softmax64, write  # noqa: E402


def logsumexp64(z):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def unit(h):
    h = np.asarray(h, dtype=np.float64)
    n = np.sqrt((h * h).sum(axis=1, keepdims=True))
    return np.divide(h, n, out=np.zeros_like(h), where=n > 0)


def valid(h, z):
    return np.isfinite(h).all(axis=1) & np.isfinite(z).all(axis=1)


def nnguide(hf, zf, ht, zt, k=10, alpha=0.01):
    ok = valid(hf, zf)
    hf, zf = hf[ok], zf[ok]
    n = len(hf)
    m = max(1, int(np.floor(1 / alpha + 0.5)))
    sel = np.arange(0, n, m)
    if len(sel) < min(k, n):
        M = min(k, n)
        sel = (np.arange(M) * n) // M
    bank = unit(hf[sel]) * logsumexp64(zf[sel])[:, None]
    kk = min(k, len(sel))
    sims = unit(ht) @ bank.T
    guidance = np.sort(sims, axis=1)[:, -kk:].mean(axis=1)
    out = -logsumexp64(zt) * guidance
    out[~valid(ht, zt)] = np.nan
    return out


def relation(hf, zf, ht, zt, pow=1, thres=0.03):
    ok = valid(hf, zf)
    hf, zf = hf[ok], zf[ok]
    r = np.maximum(unit(ht) @ unit(hf).T, 0) * (softmax64(zt) @ softmax64(zf).T)
    out = -np.where(r > thres, r ** pow, 0).sum(axis=1)
    out[~valid(ht, zt)] = np.nan
    return out


def arrays(c):
    d, k = c['d'], c['k']
    f, t = c['fit'], c['test']
    return (f['features'].reshape(-1, d), f['logits'].reshape(-1, k), t['features'].reshape(-1, d), t['logits'].reshape(-1, k))


if __name__ == '__main__':
    for name, fn, params in [
        ('nnguide', nnguide, {'k': 10, 'alpha': 0.01}),
        ('nnguide-stride', nnguide, {'k': 5, 'alpha': 0.1}),
        ('relation', relation, {'pow': 1, 'thres': 0.03}),
        ('relation-pow2', relation, {'pow': 2, 'thres': 0.03}),
    ]:
        scored = [(c, fn(*arrays(c), **params)) for c in cases()]
        path = write(name, params, scored)
        print(path)
