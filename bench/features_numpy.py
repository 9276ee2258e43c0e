#!/usr/bin/python3
"""numpy / scikit-learn baseline of OOD Lens's post-hoc OOD methods that need features, the last layer or a fit.

    /usr/bin/python3 bench/features_numpy.py DATADIR METHOD [--param key=value ...] [--out scores.npy]

DATADIR as bench/features_data.py writes it (fit/, id/, ood/ with features/logits/labels .npy, W.npy, b.npy).
Fits METHOD on the fit split and scores id then ood, the way a competent numpy user (or OpenOOD v1.5's
postprocessors) would: vectorized, float64 wherever OOD Lens computes in float64 (means, covariances, eigh-based
pseudo-inverses, projections, recomputed logits), float32 matmuls for the bank scans of knn, nnguide and relation
(as faiss IndexFlat / torch do), fit passes in chunks of CHUNK rows and scoring in blocks of BLOCK rows so memory
stays bounded. Defaults and conventions are OOD Lens's (src/engine/ood/methods/*.ts), and the scores equal the
float64 golden references (scripts/ood_golden/*.py, scripts/make-golden.py): bench/features_numpy_check.py checks
that. Scores are higher = more OOD; inputs are assumed finite (no NaN row handling).

Prints one JSON line: method, params, fit_s (fit, including reading the fit split from its memory-mapped files),
score_s (id + ood, including reading them), total_s, peak_rss_mb (ru_maxrss: touched pages of the memory-mapped
inputs count), auroc (OOD positive, sklearn roc_auc_score over the finite scores), n_nonfinite, threads (BLAS),
load_1m (the machine's 1-minute load average at the start: timings of a shared machine need it).
--out saves the scores of [id; ood] as float64 .npy.
"""
import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist
from scipy.special import logsumexp, softmax
from sklearn.metrics import roc_auc_score

CHUNK = 4096  # fit rows per pass: a float64 copy of CHUNK × d
BLOCK = 1024  # scored rows per block: BLOCK × (fit rows) float32 similarities for the bank scans
EPS = np.finfo(np.float64).eps


# ----------------------------------------------------------------------------------------- shared helpers

def f64(a):
    return np.asarray(a, dtype=np.float64)


def chunks(n, size=None):
    size = size or CHUNK
    return (slice(s, min(n, s + size)) for s in range(0, n, size))


def mean_rows(X):
    return sum(f64(X[s]).sum(axis=0) for s in chunks(len(X))) / len(X)


def group_sums(X, groups, G, rows=f64):
    """Per-group sums [G, w] of rows(X chunk) (default: X's rows in float64) and counts [G]; rows with a group
    outside 0..G-1 are left out."""
    sums, counts = np.zeros((G, rows(X[:1]).shape[1])), np.zeros(G)
    for s in chunks(len(X)):
        g = np.asarray(groups[s])
        keep = (g >= 0) & (g < G)
        x, g = rows(X[s])[keep], g[keep]
        if not len(g):
            continue
        order = np.argsort(g, kind='stable')
        present, starts, n = np.unique(g[order], return_index=True, return_counts=True)
        sums[present] += np.add.reduceat(x[order], starts, axis=0)
        counts[present] += n
    return sums, counts


def scatter(X, centre, groups=None):
    """Σ (x − c)(x − c)ᵀ in float64 and the row count; c = centre [d], or centre[g] per row when groups are given
    (rows with a group < 0 left out): the two-pass (centred) second moments, chunk by chunk."""
    S, n = np.zeros((X.shape[1], X.shape[1])), 0
    for s in chunks(len(X)):
        if groups is None:
            x = f64(X[s]) - centre
        else:
            g = np.asarray(groups[s])
            x = f64(X[s])[g >= 0] - centre[g[g >= 0]]
        S += x.T @ x
        n += len(x)
    return S, n


def eig_desc(C):
    vals, vecs = np.linalg.eigh(C)
    order = np.argsort(-vals, kind='stable')
    return vals[order], vecs[:, order]


def rank_of(vals):
    """Eigenvalues above d·eps·max|λ| (scipy.linalg.pinvh's cut-off)."""
    return int(np.sum(vals > len(vals) * EPS * np.abs(vals).max()))


def whitening(C):
    """P [d, r] with ‖(x − μ)P‖² = (x − μ)ᵀ C⁺ (x − μ), C⁺ the pinvh pseudo-inverse."""
    vals, vecs = eig_desc(C)
    r = rank_of(vals)
    return vecs[:, :r] / np.sqrt(vals[:r])


def principal(C, dim):
    """Top-dim eigenvectors and the rest, the top never beyond the rank (no split inside a null space)."""
    vals, vecs = eig_desc(C)
    kept = min(dim, rank_of(vals))
    return vecs[:, :kept], vecs[:, kept:]


def subspace_dim(d, dim):
    """dim > 0 as given (at most d), else ViM's rule: ⌊d/2⌋ below 768, 512 up to 1499, 1000 above."""
    return min(d, int(dim)) if dim > 0 else 1000 if d >= 1500 else 512 if d >= 768 else d // 2


def origin(W, b):
    """ViM's u = −W⁺b (numpy.linalg.pinv, as OpenOOD's vim and residual)."""
    return -np.linalg.pinv(W) @ b


def min_sq_dist(z, centres):
    """min_c ‖z − centres_c‖² per row, as ‖z‖² − 2 z·c + ‖c‖² (one matmul)."""
    d2 = (z * z).sum(axis=1)[:, None] - 2 * z @ centres.T + (centres * centres).sum(axis=1)
    return d2.min(axis=1)


def unit(x):
    """Rows over their L2 norms in float64; zero rows stay zero."""
    x = f64(x)
    n = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def unit32(X):
    """unit() of every row of X, as a float32 bank (what a faiss index holds)."""
    out = np.empty(X.shape, np.float32)
    for s in chunks(len(X)):
        out[s] = unit(X[s])
    return out


def energy(z):
    return -logsumexp(f64(z), axis=1)


def top_k_mean(sims, k):
    """Mean of the k largest of each row (np.partition, summed in float64)."""
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].sum(axis=1, dtype=np.float64) / k


def argmax_rows(Z):
    return np.concatenate([np.argmax(Z[s], axis=1) for s in chunks(len(Z))])


def top_k_keep(h, percentile):
    """Mask of the k = d − round(d·percentile/100) largest entries of each row (numpy's half-even round, as
    OpenOOD); ties at the k-th value go to the lowest indices, as a stable descending sort."""
    d = h.shape[1]
    k = d - int(np.round(d * percentile / 100.0))
    if k == 0:
        return np.zeros(h.shape, bool)
    t = np.partition(h, d - k, axis=1)[:, d - k:d - k + 1]  # the k-th largest
    above, tied = h > t, h == t
    return above | (tied & (np.cumsum(tied, axis=1) <= k - above.sum(axis=1, keepdims=True)))


def sharpen(h, percentile, prune):
    """ASH-S (prune: only the top-k kept) or SCALE (whole row), times exp(Σh / Σ top-k); exponent 0 when
    Σ top-k = 0 (an all-zero row, where torch gives NaN), as OOD Lens."""
    kept = np.where(top_k_keep(h, percentile), h, 0.0)
    total, top = h.sum(axis=1), kept.sum(axis=1)
    f = np.exp(np.divide(total, top, out=np.zeros_like(total), where=top != 0))[:, None]
    return (kept if prune else h) * f


# ----------------------------------------------------------------------------------------- methods
# fit_<method>(fit, W, b, p): fit = the fit split {features, logits, labels} (memory-mapped), W [k, d] and b [k]
# in float64, p the parameters; returns score(h, z) for one block of rows (float64, higher = more OOD).

def fit_mahalanobis(fit, W, b, p):
    """Lee et al. 2018 (OOD Lens's MahalanobisDetector, OpenOOD's mds): min_c (h − μ_c)ᵀ Σ⁺ (h − μ_c) with class
    means and one shared ML covariance over the labelled fit rows (label in 0..k−1), Σ⁺ pinvh's pseudo-inverse,
    applied as a whitening P (‖(h − μ_c)P‖²) around the labelled mean; fit classes without rows are skipped."""
    h, k = fit['features'], fit['logits'].shape[1]
    y = np.asarray(fit['labels'])
    sums, counts = group_sums(h, y, k)
    means = sums / np.maximum(counts, 1)[:, None]
    S, n = scatter(h, means, np.where(y < k, y, -1))
    P = whitening(S / n)
    ref = sums.sum(axis=0) / counts.sum()
    centres = (means[counts > 0] - ref) @ P
    return lambda ht, zt: min_sq_dist((f64(ht) - ref) @ P, centres)


def fit_knn(fit, W, b, p):
    """Sun et al. 2022: distance from h/‖h‖ to its k-th nearest normalized fit feature, k = 50, the whole fit
    split as the bank. As faiss IndexFlatL2 (OpenOOD): float32 bank and ‖q‖² + ‖x‖² − 2 q·x (zero rows stay zero),
    the k-th smallest by np.partition; OOD Lens reports the distance, OpenOOD its square (same order)."""
    bank = unit32(fit['features'])
    bank_sq = np.concatenate([(bank[s] * bank[s]).sum(axis=1) for s in chunks(len(bank))])
    k = min(int(p['k']), len(bank))

    def score(ht, zt):
        q = unit(ht).astype(np.float32)
        d2 = (q * q).sum(axis=1)[:, None] + bank_sq - 2 * (q @ bank.T)
        return np.sqrt(np.maximum(f64(np.partition(d2, k - 1, axis=1)[:, k - 1]), 0))
    return score


def fit_vim(fit, W, b, p):
    """Wang et al. 2022 (OpenOOD's vim, sign flipped): α‖(h − u)·NS‖ − logsumexp(z) on the given logits, u = −W⁺b,
    NS the eigenvectors of (1/N) Σ (h − u)(h − u)ᵀ beyond the top dim (ViM's rule; no rank cap, as OOD Lens's
    VimDetector), α = mean max fit logit / mean fit residual norm."""
    h = fit['features']
    u = origin(W, b)
    S, n = scatter(h, u)
    NS = eig_desc(S / n)[1][:, subspace_dim(h.shape[1], p['dim']):]
    residual = lambda x: np.linalg.norm((f64(x) - u) @ NS, axis=1)  # noqa: E731
    res_sum = sum(residual(h[s]).sum() for s in chunks(len(h)))
    max_sum = sum(f64(fit['logits'][s]).max(axis=1).sum() for s in chunks(len(h)))
    alpha = max_sum / res_sum
    return lambda ht, zt: alpha * residual(ht) - logsumexp(f64(zt), axis=1)


def fit_residual(fit, W, b, p):
    """Wang et al. 2022's Residual (OpenOOD's residual): ‖(h − u)·NS‖, u = −W⁺b, NS the eigenvectors of
    (1/N) Σ (h − u)(h − u)ᵀ beyond the top dim (ViM's rule), the top capped at the covariance's rank."""
    h = fit['features']
    u = origin(W, b)
    S, n = scatter(h, u)
    NS = principal(S / n, subspace_dim(h.shape[1], p['dim']))[1]
    return lambda ht, zt: np.linalg.norm((f64(ht) - u) @ NS, axis=1)


def fit_rmds(fit, W, b, p):
    """Ren et al. 2021 (OpenOOD's rmds): min_c MD_c(h) − MD_0(h); class means and a shared within-class ML
    covariance over the labelled fit rows, the background Gaussian (mean, ML covariance) over every fit row;
    pinvh pseudo-inverses as whitenings, both distances taken around the background mean μ₀."""
    h, k = fit['features'], fit['logits'].shape[1]
    y = np.asarray(fit['labels'])
    sums, counts = group_sums(h, y, k)
    means = sums / np.maximum(counts, 1)[:, None]
    P = whitening(np.divide(*scatter(h, means, np.where(y < k, y, -1))))
    mu0 = mean_rows(h)
    P0 = whitening(np.divide(*scatter(h, mu0)))
    centres = (means[counts > 0] - mu0) @ P

    def score(ht, zt):
        x = f64(ht) - mu0
        return min_sq_dist(x @ P, centres) - ((x @ P0) ** 2).sum(axis=1)
    return score


def fit_neco(fit, W, b, p):
    """Ben Ammar et al. 2024 (authors' code: StandardScaler, then PCA): −‖s(h)·P‖ / ‖s(h)‖, s(h) = (h − μ)/σ with
    sklearn's σ = 1 for constant features, P the top-dim principal directions of the standardized fit features
    (ViM's rule, capped at the rank). standardize = 0: σ = 1 and ‖h‖ below; maxlogit = 1: times max z."""
    h = fit['features']
    mu = mean_rows(h)
    S, n = scatter(h, mu)
    var = np.diag(S) / n
    constant = var <= n * EPS * var + (n * mu * EPS) ** 2  # sklearn's _is_constant_feature
    sigma = np.where(constant | (not p['standardize']), 1.0, np.sqrt(var))
    P = principal(S / n / np.outer(sigma, sigma), subspace_dim(h.shape[1], p['dim']))[0]

    def score(ht, zt):
        c = (f64(ht) - mu) / sigma
        ratio = np.linalg.norm(c @ P, axis=1) / np.linalg.norm(c if p['standardize'] else f64(ht), axis=1)
        return -(ratio * f64(zt).max(axis=1) if p['maxlogit'] else ratio)
    return score


def fit_nci(fit, W, b, p):
    """Liu & Qin 2024 (OpenOOD's nci): −[w_ŷ·(h − μ_G)/‖h − μ_G‖ + α‖h‖₁], μ_G the mean fit feature, w_ŷ the
    unnormalized weight row of the predicted class, alpha = 0.0001."""
    mu = mean_rows(fit['features'])

    def score(ht, zt):
        h = f64(ht)
        c = h - mu
        w = W[np.argmax(zt, axis=1)]
        return -((w * c).sum(axis=1) / np.linalg.norm(c, axis=1) + p['alpha'] * np.abs(h).sum(axis=1))
    return score


def fit_fdbd(fit, W, b, p):
    """Liu & Qin 2024 (OpenOOD's fdbd, which sums where the paper averages): −mean_{c≠ŷ} |z_ŷ − z_c| / ‖w_ŷ − w_c‖
    over ‖h − μ‖ (distance = 1; ‖h‖ for 0), μ the mean fit feature, the given logits; ‖w_a − w_c‖ for every pair by
    scipy cdist, a pair with w_a = w_c adding 0."""
    mu = mean_rows(fit['features']) if p['distance'] else 0.0
    D = cdist(W, W)
    inv = np.divide(1.0, D, out=np.zeros_like(D), where=D > 0)

    def score(ht, zt):
        z = f64(zt)
        a = np.argmax(z, axis=1)
        s = (np.abs(z[np.arange(len(z)), a][:, None] - z) * inv[a]).sum(axis=1)
        return -s / (len(W) - 1) / np.linalg.norm(f64(ht) - mu, axis=1)
    return score


def fit_she(fit, W, b, p):
    """Zhang et al. 2023 (OpenOOD's she, inner product): −h·S_ŷ, S_c the mean feature of the labelled fit rows
    predicted as their label c; NaN for a predicted class without such a row."""
    h, k = fit['features'], fit['logits'].shape[1]
    y = np.asarray(fit['labels'])
    sums, counts = group_sums(h, np.where(argmax_rows(fit['logits']) == y, y, -1), k)
    S = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], np.nan)
    return lambda ht, zt: -(f64(ht) * S[np.argmax(zt, axis=1)]).sum(axis=1)


def fit_klm(fit, W, b, p):
    """Hendrycks et al. 2022 (OpenOOD's klm): min_c KL(p ‖ d_c), d_c the mean softmax of the fit rows predicted as
    c (labels unused; classes never predicted have no template); KL = Σ p log p − p·log d_c, all templates in one
    matmul, log p = z − logsumexp(z)."""
    Z = fit['logits']
    sums, counts = group_sums(Z, argmax_rows(Z), Z.shape[1], rows=lambda z: softmax(f64(z), axis=1))
    log_t = np.log(sums[counts > 0] / counts[counts > 0, None])

    def score(ht, zt):
        z = f64(zt)
        logp = z - logsumexp(z, axis=1, keepdims=True)
        q = np.exp(logp)
        return ((q * logp).sum(axis=1)[:, None] - q @ log_t.T).min(axis=1)
    return score


def fit_gradnorm(fit, W, b, p):
    """Huang et al. 2021, analytic last-layer form (OpenOOD's gradnorm, T = 1): −‖h‖₁ · Σ_c |softmax(z)_c − 1/C|;
    nothing to fit."""
    def score(ht, zt):
        return -np.abs(f64(ht)).sum(axis=1) * np.abs(softmax(f64(zt), axis=1) - 1.0 / zt.shape[1]).sum(axis=1)
    return score


def fit_react(fit, W, b, p):
    """Sun et al. 2021 (OpenOOD's react): −logsumexp(W·min(h, c) + b), c the percentile-th (90) np.percentile of
    every fit activation (flattened; OpenOOD takes it on its ID validation split)."""
    c = np.percentile(fit['features'], p['percentile'])
    return lambda ht, zt: energy(np.minimum(f64(ht), c) @ W.T + b)


def fit_ash(fit, W, b, p):
    """Djurisic et al. 2023, ASH-S@90 on the pooled features: −logsumexp(W·(top-k(h)·exp(Σh/Σtop-k)) + b)."""
    return lambda ht, zt: energy(sharpen(f64(ht), p['percentile'], True) @ W.T + b)


def fit_scale(fit, W, b, p):
    """Xu et al. 2024, SCALE@85: −logsumexp(W·(h·exp(Σh/Σtop-k(h))) + b), nothing pruned."""
    return lambda ht, zt: energy(sharpen(f64(ht), p['percentile'], False) @ W.T + b)


def fit_dice(fit, W, b, p):
    """Sun & Li 2022 (OpenOOD's dice): −logsumexp((W ⊙ [V > p-th percentile of V])·h + b), V = mean fit feature ⊙ W
    (p = 90: the top 10 % of the contributions kept)."""
    V = mean_rows(fit['features'])[None, :] * W
    Wm = W * (V > np.percentile(V, p['p']))
    return lambda ht, zt: energy(f64(ht) @ Wm.T + b)


def fit_vra(fit, W, b, p):
    """Xu et al. 2023, VRA: −logsumexp(W·g(h) + b), g = 0 below α (α for zero_low = 0, OpenOOD's clip), h + γ in
    [α, β], β above; α, β the 10th / 90th np.percentile of every fit activation (flattened, as OpenOOD)."""
    lo, hi = np.percentile(fit['features'], [p['percentile_low'], p['percentile_high']])

    def score(ht, zt):
        h = f64(ht)
        g = np.where(h > hi, hi, h + p['gamma'])
        return energy(np.where(h < lo, 0.0 if p['zero_low'] else lo, g) @ W.T + b)
    return score


def fit_nnguide(fit, W, b, p):
    """Park et al. 2023: −s(x) · mean of the k largest ĥ·(s_i ĥ_i) over the bank, s = logsumexp(z), k = 10; bank =
    every m-th fit row from the first, m = round(1/alpha) = 100 (min(k, N) evenly spaced rows when that gives fewer
    than k), as OOD Lens. float32 bank and similarities, as OpenOOD's faiss IndexFlatIP."""
    h, Z, n, k = fit['features'], fit['logits'], len(fit['features']), int(p['k'])
    sel = np.arange(0, n, max(1, int(np.floor(1 / p['alpha'] + 0.5))))
    if len(sel) < min(k, n):
        sel = np.arange(min(k, n)) * n // min(k, n)
    bank = (unit(h[sel]) * logsumexp(f64(Z[sel]), axis=1)[:, None]).astype(np.float32)
    kk = min(k, len(sel))
    return lambda ht, zt: -logsumexp(f64(zt), axis=1) * top_k_mean(unit(ht).astype(np.float32) @ bank.T, kk)


def fit_relation(fit, W, b, p):
    """Kim et al. 2023 (label-free kernel, OpenOOD's relation): −Σ_i r_i^pow over the fit rows with r_i > thres,
    r_i = max(0, cos(h, h_i)) · softmax(z)·softmax(z_i), the whole fit split as the graph (pow 1, thres 0.03).
    float32 normalized-feature and softmax banks and products, as OpenOOD's torch chunks."""
    bank = unit32(fit['features'])
    Z = fit['logits']
    probs = np.empty(Z.shape, np.float32)
    for s in chunks(len(Z)):
        probs[s] = softmax(f64(Z[s]), axis=1)

    def score(ht, zt):
        r = np.maximum(unit(ht).astype(np.float32) @ bank.T, 0)
        r *= softmax(f64(zt), axis=1).astype(np.float32) @ probs.T
        return -np.where(r > p['thres'], r ** p['pow'], 0).sum(axis=1, dtype=np.float64)
    return score


# OOD Lens's defaults (src/engine/ood/methods/<name>.ts).
METHODS = {
    'mahalanobis': (fit_mahalanobis, {}),
    'knn': (fit_knn, {'k': 50}),
    'vim': (fit_vim, {'dim': 0}),
    'gradnorm': (fit_gradnorm, {}),
    'react': (fit_react, {'percentile': 90}),
    'ash': (fit_ash, {'percentile': 90}),
    'scale': (fit_scale, {'percentile': 85}),
    'dice': (fit_dice, {'p': 90}),
    'vra': (fit_vra, {'percentile_high': 90, 'percentile_low': 10, 'gamma': 0, 'zero_low': 1}),
    'klm': (fit_klm, {}),
    'she': (fit_she, {}),
    'rmds': (fit_rmds, {}),
    'residual': (fit_residual, {'dim': 0}),
    'neco': (fit_neco, {'dim': 0, 'standardize': 1, 'maxlogit': 0}),
    'nci': (fit_nci, {'alpha': 0.0001}),
    'fdbd': (fit_fdbd, {'distance': 1}),
    'nnguide': (fit_nnguide, {'k': 10, 'alpha': 0.01}),
    'relation': (fit_relation, {'pow': 1, 'thres': 0.03}),
}


def fit_method(method, fit, W, b, params=None):
    """score(h, z) of `method` fitted on `fit` with its defaults updated by params."""
    fn, defaults = METHODS[method]
    unknown = set(params or {}) - set(defaults)
    if unknown:
        known = ', '.join(defaults) or 'none'
        raise SystemExit(f'{method} has no parameter {", ".join(sorted(unknown))} (has: {known})')
    return fn(fit, f64(W), f64(b), {**defaults, **(params or {})})


# ----------------------------------------------------------------------------------------- command line

def load_split(path):
    return {f.stem: np.load(f, mmap_mode='r') for f in sorted(path.glob('*.npy'))}


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count()
    return next((i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'), os.cpu_count())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('datadir', type=Path)
    ap.add_argument('method', choices=sorted(METHODS))
    ap.add_argument('--param', action='append', default=[], metavar='KEY=VALUE')
    ap.add_argument('--out', type=Path)
    a = ap.parse_args()
    params = {k: float(v) for k, v in (kv.split('=', 1) for kv in a.param)}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    W, b = np.load(a.datadir / 'W.npy'), np.load(a.datadir / 'b.npy')
    score = fit_method(a.method, load_split(a.datadir / 'fit'), W, b, params)
    t1 = time.perf_counter()
    splits = [load_split(a.datadir / name) for name in ('id', 'ood')]
    blocks = [(s['features'][r], s['logits'][r]) for s in splits for r in chunks(len(s['features']), BLOCK)]
    scores = np.concatenate([score(h, z) for h, z in blocks])
    t2 = time.perf_counter()
    is_ood = np.repeat([0, 1], [len(s['features']) for s in splits])
    ok = np.isfinite(scores)
    if a.out:
        np.save(a.out, scores)
    print(json.dumps({
        'method': a.method, 'params': {**METHODS[a.method][1], **params},
        'fit_s': round(t1 - t0, 3), 'score_s': round(t2 - t1, 3), 'total_s': round(t2 - t0, 3),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        'auroc': roc_auc_score(is_ood[ok], scores[ok]), 'n_nonfinite': int((~ok).sum()), 'threads': blas_threads(),
        'load_1m': load,
    }))


if __name__ == '__main__':
    main()
