#!/usr/bin/python3
"""Golden scores for the methods built on fit-split class or subspace statistics: klm, she, rmds, residual, neco,
nci, fdbd. Each is written from its paper's definition in float64 numpy (whole-matrix, two-pass statistics and
numpy.linalg.eigh), independently of the TypeScript code; every score is oriented higher = more OOD.

Conventions shared with the engine (see each method's `source`): argmax takes the first maximum; logits are the
given ones (not recomputed from W·h + b); rows labelled -1 are left out of class statistics only; covariances are
maximum likelihood (1/N); pseudo-inverses drop eigenvalues <= d*eps*lambda_max (scipy.linalg.pinvh's cut-off);
subspace sizes follow ViM's rule (floor(D/2) below 768, 512 up to 1499, 1000 above), capped at the covariance's
rank.

Usage (repository root): scripts/ood_golden/class_stats.py  → test/fixtures/ood/{klm,she,rmds,residual,neco,nci,fdbd}.json
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cases, softmax64, write  # noqa: E402

EPS = np.finfo(np.float64).eps


def subspace_dim(d):
    return 1000 if d >= 1500 else 512 if d >= 768 else d // 2


def eig_desc(C):
    vals, vecs = np.linalg.eigh(C)
    order = np.argsort(-vals, kind='stable')
    return vals[order], vecs[:, order]


def principal(C, dim):
    """Top-dim eigenvectors (columns) and the rest; never more than the rank (eigenvalues > d*eps*max): a split
    inside a null space would be arbitrary, so all of it stays in the residual."""
    vals, vecs = eig_desc(C)
    kept = min(dim, int(np.sum(vals > C.shape[0] * EPS * np.abs(vals).max())))
    return vecs[:, :kept], vecs[:, kept:]


def pinv_sym(C):
    vals, vecs = eig_desc(C)
    keep = vals > C.shape[0] * EPS * np.abs(vals).max()
    return (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T


def ml_cov(X):
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)


def klm(zf, zt):
    """Hendrycks et al. 2022: d_k = mean posterior of the fit rows predicted k; score min_k KL(p || d_k)."""
    pf, pt = softmax64(zf), softmax64(zt)
    pred = zf.argmax(axis=1)
    templates = [pf[pred == c].mean(axis=0) for c in range(zf.shape[1]) if (pred == c).any()]
    out = []
    for p in pt:
        kls = [np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / t), 0.0)) for t in templates]
        out.append(min(kls))
    return np.array(out)


def she(hf, zf, yf, ht, zt):
    """Zhang et al. 2023: pattern S_c = mean feature of the fit rows labelled c and predicted c; ID score h . S_pred."""
    k = zf.shape[1]
    correct = (yf >= 0) & (zf.argmax(axis=1) == yf)
    S = [hf[correct & (yf == c)].mean(axis=0) if (correct & (yf == c)).any() else None for c in range(k)]
    out = []
    for h, c in zip(ht, zt.argmax(axis=1)):
        out.append(np.nan if S[c] is None else -(h @ S[c]))
    return np.array(out)


def rmds(hf, yf, ht):
    """Ren et al. 2021: min_k MD_k(x) - MD_0(x); class means + shared within-class covariance on labelled rows,
    background Gaussian on every fit row."""
    lab = yf >= 0
    classes = [c for c in np.unique(yf[lab])]
    means = {c: hf[yf == c].mean(axis=0) for c in classes}
    centred = np.concatenate([hf[yf == c] - means[c] for c in classes])
    prec = pinv_sym(centred.T @ centred / len(centred))
    mu0 = hf.mean(axis=0)
    prec0 = pinv_sym(ml_cov(hf))
    md = np.stack([np.einsum('ij,jk,ik->i', ht - means[c], prec, ht - means[c]) for c in classes], axis=1)
    md0 = np.einsum('ij,jk,ik->i', ht - mu0, prec0, ht - mu0)
    return md.min(axis=1) - md0


def residual(hf, ht, W, b):
    """Wang et al. 2022 (ViM paper's Residual): ||(x - u) projected off the top-dim eigenvectors of
    E[(x - u)(x - u)^T]||, u = -pinv(W) b."""
    u = -np.linalg.pinv(W) @ b
    X = hf - u
    _, NS = principal(X.T @ X / len(X), subspace_dim(hf.shape[1]))
    return np.linalg.norm((ht - u) @ NS, axis=1)


def neco(hf, ht, zt, maxlogit=False):
    """Ben Ammar et al. 2024 (authors' code: StandardScaler, then PCA): -||P_dim (s(x) - mean s)|| / ||s(x)||."""
    n = len(hf)
    mu, var = hf.mean(axis=0), hf.var(axis=0)
    constant = var <= n * EPS * var + (n * mu * EPS) ** 2  # sklearn's _is_constant_feature
    scale = np.where(constant, 1.0, np.sqrt(var))
    sf, st = (hf - mu) / scale, (ht - mu) / scale
    centre = sf.mean(axis=0)
    P, _ = principal(ml_cov(sf), subspace_dim(hf.shape[1]))
    ratio = np.linalg.norm((st - centre) @ P, axis=1) / np.linalg.norm(st, axis=1)
    return -(ratio * zt.max(axis=1) if maxlogit else ratio)


def nci(hf, ht, zt, W, alpha):
    """Liu & Qin 2024: ID score w_pred . (x - mu_G) / ||x - mu_G|| + alpha ||x||_1."""
    mu = hf.mean(axis=0)
    w = W[zt.argmax(axis=1)]
    c = ht - mu
    return -(np.sum(w * c, axis=1) / np.linalg.norm(c, axis=1) + alpha * np.abs(ht).sum(axis=1))


def fdbd(hf, ht, zt, W):
    """Liu & Qin 2024: ID score mean over c != pred of |z_pred - z_c| / ||w_pred - w_c||, over ||x - mu||."""
    mu = hf.mean(axis=0)
    k = zt.shape[1]
    out = []
    for h, z in zip(ht, zt):
        a = int(np.argmax(z))
        dist = [abs(z[a] - z[c]) / np.linalg.norm(W[a] - W[c]) for c in range(k) if c != a]
        out.append(-np.mean(dist) / np.linalg.norm(h - mu))
    return np.array(out)


def main():
    params = {'klm': {}, 'she': {}, 'rmds': {}, 'residual': {'dim': 0}, 'neco': {'dim': 0, 'standardize': 1, 'maxlogit': 0},
              'nci': {'alpha': 0.0001}, 'fdbd': {'distance': 1}}
    scored = {m: [] for m in params}
    for c in cases():
        d, k = c['d'], c['k']
        f64 = lambda a, w: np.asarray(a, dtype=np.float64).reshape(-1, w)  # noqa: E731
        hf, zf, ht, zt = f64(c['fit']['features'], d), f64(c['fit']['logits'], k), f64(c['test']['features'], d), f64(c['test']['logits'], k)
        yf = np.asarray(c['fit']['labels'])
        W, b = f64(c['W'], d), np.asarray(c['b'], dtype=np.float64)
        scored['klm'].append((c, klm(zf, zt)))
        scored['she'].append((c, she(hf, zf, yf, ht, zt)))
        scored['rmds'].append((c, rmds(hf, yf, ht)))
        scored['residual'].append((c, residual(hf, ht, W, b)))
        scored['neco'].append((c, neco(hf, ht, zt)))
        scored['nci'].append((c, nci(hf, ht, zt, W, params['nci']['alpha'])))
        scored['fdbd'].append((c, fdbd(hf, ht, zt, W)))
    for m, s in scored.items():
        print(write(m, params[m], s))


if __name__ == '__main__':
    main()
