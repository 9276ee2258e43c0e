#!/usr/bin/env python3
"""Golden reference values for the numeric core, from scikit-learn / numpy / scipy.

Run with Debian's interpreter (python3-sklearn, python3-numpy, python3-scipy):
    /usr/bin/python3 scripts/make-golden.py
Deterministic: fixed seeds, inputs are written beside the expected values in test/golden/*.json.
Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them).
"""
import json
import math
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp, log_softmax, softmax
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.neighbors import NearestNeighbors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "golden")


def clean(x):
    """Arrays → lists; non-finite floats → strings; recursively."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return clean(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def dump(name, obj):
    obj = {"generator": "scripts/make-golden.py", "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}, **obj}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(clean(obj), f, separators=(",", ":"))
        f.write("\n")


def f32(a):
    """Round to float32 and back: every TS input is float32 logits or float64 scores stored exactly."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------- OOD metrics


def keep_count(n, pct=95):
    """k = ceil(pct/100 · n) in exact integer arithmetic."""
    return -(-pct * n // 100)


def ood_case(name, id_scores, ood_scores):
    id_all = np.asarray(id_scores, dtype=np.float64)
    ood_all = np.asarray(ood_scores, dtype=np.float64)
    s_id = id_all[~np.isnan(id_all)]
    s_ood = ood_all[~np.isnan(ood_all)]
    case = {"name": name, "id": id_all, "ood": ood_all, "n_id": len(s_id), "n_ood": len(s_ood),
            "n_excluded_id": len(id_all) - len(s_id), "n_excluded_ood": len(ood_all) - len(s_ood)}
    y = np.r_[np.zeros(len(s_id)), np.ones(len(s_ood))]
    s = np.r_[s_id, s_ood]
    if len(s_id) == 0 or len(s_ood) == 0:
        case.update(auroc=np.nan, aupr_out=np.nan, aupr_in=np.nan, fpr95=np.nan, fpr95_threshold=np.nan,
                    fpr95_ood_positive=np.nan, detection_error=np.nan)
        return case
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    t = np.sort(s_id)[keep_count(len(s_id)) - 1]
    case.update(
        auroc=roc_auc_score(y, s),
        aupr_out=average_precision_score(y, s),
        aupr_in=average_precision_score(1 - y, -s),
        fpr95=np.mean(s_ood <= t),
        fpr95_threshold=t,
        fpr95_ood_positive=fpr[np.argmax(tpr >= 0.95)],
        detection_error=np.min(0.5 * (fpr + 1 - tpr)),
        roc_fpr=fpr,
        roc_tpr=tpr,
    )
    return case


def make_ood():
    rng = np.random.default_rng(1)
    cases = [
        ood_case("gaussian", rng.normal(0, 1, 500), rng.normal(1, 1.5, 300)),
        ood_case("heavy_ties", np.round(rng.normal(0, 1, 400) * 2), np.round(rng.normal(0.7, 1, 250) * 2)),
        ood_case("shared_values", np.r_[np.linspace(0, 1, 21), [0.5] * 10], np.r_[np.linspace(0.25, 1.25, 21), [0.5] * 7]),
        ood_case("all_equal", np.full(50, 0.3), np.full(20, 0.3)),
        ood_case("single_each_separated", [1.0], [2.0]),
        ood_case("single_each_reversed", [2.0], [1.0]),
        ood_case("single_each_tied", [1.0], [1.0]),
        ood_case("perfect", rng.uniform(0, 1, 40), rng.uniform(2, 3, 30)),
        ood_case("reversed", rng.uniform(2, 3, 40), rng.uniform(0, 1, 30)),
        ood_case("with_nan", np.r_[rng.normal(0, 1, 60), [np.nan] * 5], np.r_[[np.nan] * 3, rng.normal(0.5, 1, 45)]),
        ood_case("extreme", np.r_[[-1e300, -0.0, 0.0, 1e-300, 5e-324], rng.normal(0, 1e4, 30)],
                 np.r_[[1e300, 0.0, -0.0, -5e-324], rng.normal(1e4, 1e4, 20)]),
        ood_case("float32_large", f32(rng.normal(0, 1, 3000)), f32(rng.standard_t(3, 2000) + 0.8)),
        ood_case("n_id_20", np.arange(20.0), np.arange(20.0) + 0.5),
        ood_case("n_id_21", np.arange(21.0), np.arange(21.0) + 0.5),
        ood_case("empty_ood", rng.normal(0, 1, 10), []),
        ood_case("all_nan_id", [np.nan, np.nan], rng.normal(0, 1, 5)),
    ]
    dump("ood-metrics", {"cases": cases})


# ---------------------------------------------------------------- logit and ensemble scores


def one_minus(p):
    """1 − p_j as Σ_{i≠j} p_i, exact for confident rows (O(k²) per row; fine for golden sizes)."""
    k = p.shape[-1]
    mask = 1 - np.eye(k)
    return p @ mask.T


def gen_score(p, gamma, M):
    q = one_minus(p)
    t = p**gamma * q**gamma
    order = np.argsort(-p, axis=1, kind="stable")[:, :M]
    return np.take_along_axis(t, order, axis=1).sum(axis=1)


def logit_scores(z, energy_t=1.0, gamma=0.1, M=None, odin_t=1000.0):
    n, k = z.shape
    M = min(100, k) if M is None else M
    bad = ~np.isfinite(z).all(axis=1)
    zz = np.where(bad[:, None], 0.0, z)
    lp = log_softmax(zz, axis=1)
    p = np.exp(lp)
    out = {
        "msp": -p.max(axis=1),
        "max_logit": -zz.max(axis=1),
        "entropy": -(p * lp).sum(axis=1),
        "energy": -energy_t * logsumexp(zz / energy_t, axis=1),
        "gen": gen_score(p, gamma, M),
        "odin_t": -np.exp(log_softmax(zz / odin_t, axis=1)).max(axis=1),
    }
    for v in out.values():
        v[bad] = np.nan
    pred = np.where(bad, -1, np.argmax(zz, axis=1))
    conf = np.where(bad, np.nan, p.max(axis=1))
    return out, pred, conf


def logit_inputs(rng):
    z = f32(rng.normal(0, 3, (40, 7)))
    z[0] = [1e4, -1e4, 0, 0, 0, 0, 0]          # extreme confident
    z[1] = [-1e4] * 7                          # all equal, extreme
    z[2] = [2.0, 2.0, 1.0, 0, 0, -1, 5.0 - 3]  # tied max: first argmax
    z[3, 4] = np.nan
    z[4, 0] = np.inf
    z[5] = [30, 0, 0, 0, 0, 0, 0]               # 1 − p ≈ 6e-13
    z[6] = 0.0
    return z


def make_scores():
    rng = np.random.default_rng(2)
    cases = []
    z = logit_inputs(rng)
    out, pred, conf = logit_scores(z)
    cases.append({"name": "mixed_7_classes", "n": z.shape[0], "k": z.shape[1], "logits": z, "opts": {},
                  "scores": out, "prediction": pred, "confidence": conf})
    z2 = f32(rng.normal(0, 2, (30, 250)))
    z2[0, :] = 1.0
    z2[1, :5] = 9.0
    out2, pred2, conf2 = logit_scores(z2)  # M = 100 < 250: partial selection, ties at the boundary in row 0
    cases.append({"name": "wide_250_classes", "n": z2.shape[0], "k": z2.shape[1], "logits": z2, "opts": {},
                  "scores": out2, "prediction": pred2, "confidence": conf2})
    out3, pred3, conf3 = logit_scores(z, energy_t=2.5, gamma=0.5, M=3, odin_t=10.0)
    cases.append({"name": "options", "n": z.shape[0], "k": z.shape[1], "logits": z,
                  "opts": {"energyT": 2.5, "genGamma": 0.5, "genM": 3, "odinT": 10.0},
                  "scores": out3, "prediction": pred3, "confidence": conf3})
    dump("logit-scores", {"cases": cases})

    # Ensemble of 4 members over 6 classes: members share a base so some rows agree, others do not.
    n, k, M = 25, 6, 4
    base = rng.normal(0, 2, (n, k))
    members = [f32(base + rng.normal(0, s, (n, k))) for s in (0.1, 0.5, 1.5, 3.0)]
    members[0][0] = [1e4, -1e4, 0, 0, 0, 0]
    members[1][0] = [-1e4, 1e4, 0, 0, 0, 0]
    members[2][1, 3] = np.nan
    bad = ~np.all([np.isfinite(m).all(axis=1) for m in members], axis=0)
    lps = np.stack([log_softmax(np.where(bad[:, None], 0.0, m), axis=1) for m in members])  # M, n, k
    ps = np.exp(lps)
    lpbar = logsumexp(lps, axis=0) - np.log(M)
    pbar = np.exp(lpbar)
    H = -(pbar * lpbar).sum(axis=1)
    Hm = -(ps * lps).sum(axis=2).mean(axis=0)
    kl = lambda a, b: np.maximum(0, (ps[a] * (lps[a] - lps[b])).sum(axis=1))
    pairs = [(a, b) for a in range(M) for b in range(a + 1, M)]
    kl_mean = np.mean([0.5 * (kl(a, b) + kl(b, a)) for a, b in pairs], axis=0)
    kl_max = np.max([kl(a, b) for a in range(M) for b in range(M) if a != b], axis=0)
    am = np.argmax(lps, axis=2)
    dis = np.mean([am[a] != am[b] for a, b in pairs], axis=0)
    scores = {"msp": -pbar.max(axis=1), "entropy": H, "gen": gen_score(pbar, 0.1, k),
              "mutual_info": np.maximum(0, H - Hm), "kl_mean": kl_mean, "kl_max": kl_max, "disagreement": dis}
    for v in scores.values():
        v[bad] = np.nan
    pred = np.where(bad, -1, np.argmax(pbar, axis=1))
    conf = np.where(bad, np.nan, pbar.max(axis=1))
    lpbar[bad] = np.nan
    dump("ensemble-scores", {"n": n, "k": k, "members": members, "scores": scores, "prediction": pred,
                             "confidence": conf, "meanLogProbs": f32(lpbar)})


# ---------------------------------------------------------------- calibration


def bin_edges(B):
    return np.linspace(0.0, 1.0, B + 1)


def width_bin(edges, x):
    """(lo, hi] bins; 0 joins the first bin."""
    return np.clip(np.searchsorted(edges, x, side="left") - 1, 0, len(edges) - 2)


def ece_from_bins(idx, hit, conf, B, N):
    ece, mce, bins = 0.0, np.nan, []
    for b in range(B):
        sel = idx == b
        c = int(sel.sum())
        bins.append({"count": c, "accuracy": hit[sel].mean() if c else None, "confidence": conf[sel].mean() if c else None})
        if c:
            gap = abs(hit[sel].sum() / c - conf[sel].sum() / c)
            ece += c / N * gap
            mce = gap if np.isnan(mce) else max(mce, gap)
    return ece, mce, bins


def calibration_case(name, z, y, B=15):
    n, k = z.shape
    unl = y == -1
    invalid = (y < -1) | (y >= k)
    nonfinite = ~np.isfinite(z).all(axis=1) & ~unl & ~invalid
    use = ~unl & ~invalid & ~nonfinite
    zz, yy = z[use], y[use]
    N = len(yy)
    case = {"name": name, "n": n, "k": k, "bins_count": B, "logits": z, "labels": y,
            "expected": {"n": N, "n_unlabelled": int(unl.sum()), "n_invalid_label": int(invalid.sum()),
                         "n_nonfinite": int(nonfinite.sum())}}
    if N == 0:
        case["expected"].update(accuracy=np.nan, ece=np.nan, ece_em=np.nan, mce=np.nan, classwise_ece=np.nan, brier=np.nan, nll=np.nan)
        return case
    lp = log_softmax(zz, axis=1)
    p = softmax(zz, axis=1)  # exp(z − m) / Σ: uniform rows give exactly 1/3, which lies on the edge 5/15
    pred = np.argmax(zz, axis=1)
    conf = p[np.arange(N), pred]
    hit = (pred == yy).astype(np.float64)
    edges = bin_edges(B)
    ece, mce, bins = ece_from_bins(width_bin(edges, conf), hit, conf, B, N)
    for b, bb in enumerate(bins):
        bb.update(lo=edges[b], hi=edges[b + 1])
    order = np.argsort(conf, kind="stable")
    ece_em = 0.0
    for chunk in np.array_split(order, B):
        if len(chunk):
            ece_em += len(chunk) / N * abs(hit[chunk].sum() / len(chunk) - conf[chunk].sum() / len(chunk))
    onehot = np.eye(k)[yy]
    cw = np.mean([ece_from_bins(width_bin(edges, p[:, c]), onehot[:, c], p[:, c], B, N)[0] for c in range(k)])
    case["expected"].update(
        accuracy=hit.mean(), ece=ece, ece_em=ece_em, mce=mce, classwise_ece=cw,
        brier=((p - onehot) ** 2).sum(axis=1).mean(), nll=-lp[np.arange(N), yy].mean(), bins=bins)
    return case


def nll_at(z, y, T):
    return -log_softmax(z / T, axis=1)[np.arange(len(y)), y].mean()


def fit_temperature(z, y):
    use = (y >= 0) & (y < z.shape[1]) & np.isfinite(z).all(axis=1)
    z, y = z[use], y[use]
    res = minimize_scalar(lambda s: nll_at(z, y, np.exp(s)), bounds=(np.log(1e-3), np.log(1e3)), method="bounded",
                          options={"xatol": 1e-12, "maxiter": 10000})
    T = float(np.exp(res.x))
    return {"temperature": T, "nllBefore": nll_at(z, y, 1.0), "nllAfter": nll_at(z, y, T)}


def make_calibration():
    rng = np.random.default_rng(3)
    n, k = 600, 5
    y = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k))
    z[np.arange(n), y] += 2.0
    z = f32(z * 2.5)  # overconfident: T > 1
    y_mixed = y.copy()
    y_mixed[:7] = -1
    y_mixed[7:9] = k  # out of range
    z_mixed = z.copy()
    z_mixed[9, 1] = np.nan
    z_ext = z.copy()
    z_ext[:20] *= 1000  # extreme logits (~±1e4)
    cases = [
        calibration_case("overconfident", z, y),
        calibration_case("excluded_rows", z_mixed, y_mixed),
        calibration_case("extreme_logits", f32(z_ext), y),
        calibration_case("ten_bins", z, y, B=10),
        calibration_case("fewer_samples_than_bins", z[:6], y[:6]),
        calibration_case("one_sample", z[:1], y[:1]),
        calibration_case("uniform_logits", np.zeros((30, 3)), rng.integers(0, 3, 30)),  # conf 1/3: on the 5/15 edge
        calibration_case("all_unlabelled", z[:4], np.full(4, -1)),
    ]
    under = f32(rng.normal(0, 1, (n, k)) * 0.3 + np.eye(k)[y] * 0.8)  # underconfident: T < 1
    temps = [
        {"name": "overconfident", "n": n, "k": k, "logits": z, "labels": y, **fit_temperature(z, y)},
        {"name": "underconfident", "n": n, "k": k, "logits": under, "labels": y, **fit_temperature(under, y)},
        {"name": "excluded_rows", "n": n, "k": k, "logits": z_mixed, "labels": y_mixed, **fit_temperature(z_mixed, y_mixed)},
    ]
    dump("calibration", {"cases": cases, "temperature": temps})

    # Logistic regression on features: mean NLL + λ/2‖W‖² (bias unpenalized), scipy L-BFGS-B at tight tolerance.
    n, d, k, lam = 300, 6, 4, 1e-2
    X = f32(rng.normal(0, 1, (n, d)))
    Wtrue = rng.normal(0, 1.5, (k, d))
    yl = np.array([rng.choice(k, p=np.exp(r - logsumexp(r))) for r in X @ Wtrue.T])

    def objective(theta, X, y, k, lam, center):
        d = X.shape[1]
        W = theta[: k * d].reshape(k, d)
        b = theta[k * d:]
        Z = X @ W.T + b
        lp = log_softmax(Z, axis=1)
        N = len(y)
        f = -lp[np.arange(N), y].mean() + 0.5 * lam * ((W - center) ** 2).sum()
        R = (np.exp(lp) - np.eye(k)[y]) / N
        g = np.r_[(R.T @ X + lam * (W - center)).ravel(), R.sum(axis=0)]
        return f, g

    def fit(X, y, k, lam, center):
        d = X.shape[1]
        x0 = np.r_[center.ravel(), np.zeros(k)]
        r = minimize(objective, x0, args=(X, y, k, lam, center), jac=True, method="L-BFGS-B",
                     options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 20000, "maxcor": 20})
        W = r.x[: k * d].reshape(k, d)
        b = r.x[k * d:]
        return {"objective": r.fun, "W": W, "b": b, "predictions": np.argmax(X @ W.T + b, axis=1)}

    zc = z[:200]
    dump("scaling", {
        "logistic": {"n": n, "d": d, "k": k, "l2": lam, "features": X, "labels": yl, **fit(X, yl, k, lam, np.zeros((k, d)))},
        "matrix": {"n": 200, "k": k + 1, "l2": lam, "logits": zc, "labels": y[:200], **fit(zc, y[:200], k + 1, lam, np.eye(k + 1))},
    })


# ---------------------------------------------------------------- feature detectors


def pinv_sym(A):
    d = A.shape[0]
    return np.linalg.pinv(A, rcond=d * np.finfo(np.float64).eps, hermitian=True)


def make_features():
    rng = np.random.default_rng(4)
    n, d, C = 400, 8, 3
    y = rng.integers(0, C, n)
    means = rng.normal(0, 3, (C, d))
    A = rng.normal(0, 1, (d, d))
    X = f32(means[y] + rng.normal(0, 1, (n, d)) @ A + 100.0)  # offset 100: cancellation check
    Q = f32(np.r_[rng.normal(0, 1, (20, d)) * 4 + 100.0, X[:5]])
    # Tied covariance, MLE (1/N), pinv
    mu = np.array([X[y == c].mean(axis=0) for c in range(C)])
    R = X - mu[y]
    P = pinv_sym(R.T @ R / n)
    maha = np.min([np.einsum("ij,jk,ik->i", Q - mu[c], P, Q - mu[c]) for c in range(C)], axis=0)
    # Rank-deficient: feature 7 duplicates feature 0, feature 6 is constant (rank 6).
    Xr = X.copy()
    Xr[:, 7] = Xr[:, 0]
    Xr[:, 6] = 3.0
    Qr = Q.copy()
    Qr[:, 7] = Qr[:, 0]
    Qr[:, 6] = 3.0
    mur = np.array([Xr[y == c].mean(axis=0) for c in range(C)])
    Rr = Xr - mur[y]
    covr = Rr.T @ Rr / n
    Pr = pinv_sym(covr)
    maha_r = np.min([np.einsum("ij,jk,ik->i", Qr - mur[c], Pr, Qr - mur[c]) for c in range(C)], axis=0)
    rank_r = np.linalg.matrix_rank(covr, hermitian=True)

    # KNN: training stored normalized as float32, queries normalized in float64; exact distances via kd-tree.
    norm = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
    train = norm(X).astype(np.float32).astype(np.float64)
    knn = {}
    for kk in (1, 5, 50):
        nn = NearestNeighbors(n_neighbors=kk, algorithm="kd_tree").fit(train)
        knn[str(kk)] = nn.kneighbors(norm(Q))[0][:, -1]

    # ViM with a random last layer (k=5 < d) and dim = 3.
    k = 5
    W = f32(rng.normal(0, 1, (k, d)))
    b = f32(rng.normal(0, 1, k))
    u = -np.linalg.pinv(W) @ b
    Xc = X - u
    cov = Xc.T @ Xc / n
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(-vals)
    dim = 3
    NS = vecs[:, order[dim:]]
    logits_fit = X @ W.T + b
    alpha = logits_fit.max(axis=1).mean() / np.linalg.norm(Xc @ NS, axis=1).mean()
    logits_q = Q @ W.T + b
    vim = alpha * np.linalg.norm((Q - u) @ NS, axis=1) - logsumexp(logits_q, axis=1)

    dump("features", {"n": n, "d": d, "classes": C, "features": X, "labels": y, "queries": Q,
                      "mahalanobis": maha,
                      "rank_deficient": {"features": Xr, "queries": Qr, "mahalanobis": maha_r, "rank": rank_r},
                      "knn": knn,
                      "vim": {"W": W, "b": b, "dim": dim, "origin": u, "alpha": alpha, "scores": vim}})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_ood()
    make_scores()
    make_calibration()
    make_features()
