#!/usr/bin/python3
"""Golden values for the calibrator comparison (src/engine/calibration/*.ts).

Development time only, Debian's /usr/bin/python3 + numpy, scipy, sklearn. An independent float64 reference written
from the definitions (README, Conventions), not from the TypeScript:
  p, c      softmax(float64(float32 logits)), max-shifted; c = max p, prediction = first argmax.
  T         temperature scaling: the root of d/dbeta mean NLL(softmax(beta z)) (scipy brentq), T = 1 / beta.
  histogram equal-mass upper edges as Kumar et al.'s get_equal_bins (min(B, n) chunks split as numpy.array_split,
            midpoints, last edge 1, duplicates dropped), B = 15; a bin is (previous, edge] (searchsorted 'left');
            an empty bin's range joins the next one (the last, when empty, the one before); value = bin accuracy.
  isotonic  sklearn IsotonicRegression(out_of_bounds='clip') of correctness on c: X_thresholds_, y_thresholds_ and
            predict().
  top-label q_yhat = g(c), q_j = (1 - g) p_j / sum_{i != yhat} p_i; NLL = mean -ln max(q_y, 1e-15); Brier, classwise
            ECE on q; ECE / ECE-EM / MCE on (g, correct) with 15 equal-width (lo, hi] bins (0 in the first).
  dirichlet z' = W ln p + b minimizing mean NLL + lam/(k(k-1)) sum_{i!=j} W_ij^2 + mu/k sum b^2, lam = mu = 0.01,
            scipy trust-exact with the exact gradient and Hessian from W = I, b = 0.
  ets       q = w0 softmax(z/T) + w1 softmax(z) + w2/k on the simplex minimizing mean NLL (scipy SLSQP, as
            Zhang et al.'s code, tolerance 1e-15), T from above.
Rows labelled -1 are skipped in every fit and metric. Logits are stored rounded to 4 decimals; both sides turn those
decimals into float32 first.
Writes test/fixtures/trust/calibrators.json. Run: /usr/bin/python3 scripts/trust_golden/calibrators.py
"""
import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, minimize
from sklearn.isotonic import IsotonicRegression

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'test' / 'fixtures' / 'trust' / 'calibrators.json'
B = 15
LAM = MU = 0.01
FLOOR = 1e-15


def f32(logits):
    return np.asarray(logits, dtype=np.float32).astype(np.float64)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def labelled(split):
    z, y = f32(split['logits']), np.asarray(split['labels'])
    keep = y >= 0
    return z[keep], y[keep]


def temperature(z, y):
    def d(beta):
        p = softmax(beta * z)
        return float(np.mean((p * z).sum(axis=1) - z[np.arange(len(y)), y]))
    return 1.0 / brentq(d, 1e-3, 1e3, xtol=1e-15, rtol=1e-15, maxiter=500)


def top(z):
    p = softmax(z)
    pred = p.argmax(axis=1)
    return p, pred, p[np.arange(len(z)), pred]


def histogram_fit(c, correct):
    s = np.sort(c)
    chunks = np.array_split(s, min(B, len(s)))
    edges = sorted(set([(chunks[i][-1] + chunks[i + 1][0]) / 2 for i in range(len(chunks) - 1)] + [1.0]))
    edges = np.array(edges)
    idx = np.minimum(np.searchsorted(edges, c, 'left'), len(edges) - 1)
    count = np.bincount(idx, minlength=len(edges))
    hits = np.bincount(idx, weights=correct, minlength=len(edges))
    kept = np.nonzero(count)[0]
    out_edges = edges[kept].copy()
    out_edges[-1] = 1.0
    return out_edges, hits[kept] / count[kept]


def histogram_apply(edges, values, c):
    return values[np.minimum(np.searchsorted(edges, c, 'left'), len(edges) - 1)]


def spread(z, pred, g):
    p = softmax(z)
    n = len(z)
    rest = p.copy()
    rest[np.arange(n), pred] = 0
    q = (1 - g)[:, None] * rest / rest.sum(axis=1, keepdims=True)
    q[np.arange(n), pred] = g
    return q


def bin_index(edges, x):
    return np.clip(np.searchsorted(edges, x, 'left') - 1, 0, len(edges) - 2)


def ece_parts(conf, correct):
    edges = np.linspace(0, 1, B + 1)
    b = bin_index(edges, conf)
    ece, mce = 0.0, 0.0
    for j in range(B):
        m = b == j
        if m.any():
            gap = abs(correct[m].mean() - conf[m].mean())
            ece += m.mean() * gap
            mce = max(mce, gap)
    order = np.argsort(conf, kind='stable')
    em = sum(len(ch) / len(conf) * abs(correct[ch].mean() - conf[ch].mean()) for ch in np.array_split(order, B) if len(ch))
    return ece, em, mce


def top_label_metrics(z, y, g):
    p, pred, _ = top(z)
    q = spread(z, pred, g)
    n, k = q.shape
    correct = (pred == y).astype(np.float64)
    ece, em, mce = ece_parts(g, correct)
    edges = np.linspace(0, 1, B + 1)
    onehot = np.eye(k)[y]
    cw = 0.0
    for j in range(k):
        b = bin_index(edges, q[:, j])
        for t in range(B):
            m = b == t
            if m.any():
                cw += m.mean() * abs(onehot[m, j].mean() - q[m, j].mean())
    return {
        'n': n, 'accuracy': correct.mean(), 'ece': ece, 'ece_em': em, 'mce': mce, 'classwise_ece': cw / k,
        'nll': float(np.mean(-np.log(np.maximum(q[np.arange(n), y], FLOOR)))),
        'brier': float(np.mean(((q - onehot) ** 2).sum(axis=1))),
    }


def dirichlet_fit(z, y, k):
    X = np.hstack([log_softmax(z), np.ones((len(z), 1))])
    n = len(y)
    Y = np.eye(k)[y]
    reg = np.zeros((k, k + 1))
    reg[:, :k] = 2 * LAM / (k * (k - 1))
    reg[np.arange(k), np.arange(k)] = 0
    reg[:, k] = 2 * MU / k

    def parts(theta):
        Th = theta.reshape(k, k + 1)
        Z = X @ Th.T
        lse = Z.max(axis=1) + np.log(np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1))
        Q = np.exp(Z - lse[:, None])
        f = np.mean(lse - Z[np.arange(n), y]) + 0.5 * np.sum(reg * Th * Th)
        grad = ((Q - Y).T @ X) / n + reg * Th
        return f, grad.ravel(), Q

    def hess(theta):
        _, _, Q = parts(theta)
        H = np.zeros((k * (k + 1), k * (k + 1)))
        for i in range(n):
            S = np.diag(Q[i]) - np.outer(Q[i], Q[i])
            H += np.kron(S, np.outer(X[i], X[i]))
        return H / n + np.diag(reg.ravel())

    theta0 = np.hstack([np.eye(k), np.zeros((k, 1))]).ravel()
    res = minimize(lambda t: parts(t)[:2], theta0, jac=True, hess=hess, method='trust-exact', options={'gtol': 1e-13, 'maxiter': 1000})
    Th = res.x.reshape(k, k + 1)
    return Th[:, :k], Th[:, k], float(res.fun)


def ets_fit(z, y, k, T):
    a = np.stack([softmax(z / T)[np.arange(len(y)), y], softmax(z)[np.arange(len(y)), y], np.full(len(y), 1.0 / k)], axis=1)

    def f(w):
        return -np.mean(np.log(a @ w))

    def g(w):
        return -np.mean(a / (a @ w)[:, None], axis=0)
    best = None
    for start in ([1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.1, 0.8]):
        res = minimize(f, start, jac=g, method='SLSQP', bounds=[(0, 1)] * 3, constraints={'type': 'eq', 'fun': lambda w: np.sum(w) - 1},
                       options={'ftol': 1e-15, 'maxiter': 1000})
        w = np.clip(res.x, 0, None)
        w = w / w.sum()
        if best is None or f(w) < best[1]:
            best = (w, f(w))
    return best[0], float(best[1])


def ets_probs(z, T, w, k):
    return w[0] * softmax(z / T) + w[1] * softmax(z) + w[2] / k


def r4(a):
    return np.round(np.asarray(a, dtype=np.float64), 4)


def split(rng, n, k, sharp=7.0, unlabelled=0, absent=None, noise=0.2):
    y = rng.integers(0, k, n)
    if absent is not None:
        y[y == absent] = (absent + 1) % k
    logits = rng.normal(0, 1.2, (n, k)) + sharp * rng.random((n, 1)) * np.eye(k)[y]
    flip = rng.random(n) < noise  # label noise: the model is over-confident
    y[flip] = rng.integers(0, k, flip.sum())
    if absent is not None:
        y[y == absent] = (absent + 1) % k
    y[:unlabelled] = -1
    return {'logits': r4(logits), 'labels': y}


def cases():
    rng = np.random.default_rng(20240612)
    main_cal = split(rng, 240, 4, unlabelled=3)
    # Tied confidences (repeated rows) and confidences of exactly 1.0 (exp(-40) vanishes next to 1).
    main_cal['logits'][10:20] = main_cal['logits'][9]
    main_cal['logits'][30:36] = [40.0, 0, 0, 0]
    main_cal['labels'][30:36] = [0, 0, 0, 0, 0, 1]
    main_id = split(rng, 200, 4, unlabelled=2)
    main_id['logits'][5] = [40.0, 0, 0, 0]
    main_id['logits'][6] = main_cal['logits'][9]
    return [
        ('main_k4', 4, main_cal, main_id),
        # Fewer calibration samples than bins, and class 2 absent from calibration.
        ('small_absent', 3, split(rng, 12, 3, sharp=4.0, absent=2), split(rng, 30, 3, sharp=4.0)),
        ('binary', 2, split(rng, 80, 2, sharp=3.0), split(rng, 60, 2, sharp=3.0)),
        # Heavy label noise: every ensemble weight is inside (0, 1).
        ('noisy_k5', 5, split(rng, 300, 5, sharp=9.0, noise=0.45), split(rng, 100, 5, sharp=9.0, noise=0.45)),
    ]


def case_payload(name, k, cal, idd):
    zc, yc = labelled(cal)
    zi, yi = labelled(idd)
    T = temperature(zc, yc)
    _, predc, cc = top(zc)
    correct = (predc == yc).astype(np.float64)
    _, _, ci = top(zi)
    edges, values = histogram_fit(cc, correct)
    g_hist = histogram_apply(edges, values, ci)
    iso = IsotonicRegression(out_of_bounds='clip').fit(cc, correct)
    g_iso = iso.predict(ci)
    W, b, dir_obj = dirichlet_fit(zc, yc, k)
    w, ets_obj = ets_fit(zc, yc, k, T)
    dir_probs = softmax(log_softmax(zi) @ W.T + b)
    return {
        'name': name, 'k': k,
        'calib': {'logits': [float(v) for v in cal['logits'].ravel()], 'labels': [int(v) for v in cal['labels']]},
        'id': {'logits': [float(v) for v in idd['logits'].ravel()], 'labels': [int(v) for v in idd['labels']]},
        'temperature': T,
        'histogram': {'edges': edges.tolist(), 'values': values.tolist(), 'id_confidence': g_hist.tolist(), 'metrics': top_label_metrics(zi, yi, g_hist)},
        'isotonic': {'x': iso.X_thresholds_.tolist(), 'y': iso.y_thresholds_.tolist(), 'id_confidence': g_iso.tolist(), 'metrics': top_label_metrics(zi, yi, g_iso)},
        'dirichlet': {'lambda': LAM, 'mu': MU, 'W': W.tolist(), 'b': b.tolist(), 'objective': dir_obj, 'id_probs': dir_probs.ravel().tolist()},
        'ets': {'temperature': T, 'weights': w.tolist(), 'objective': ets_obj, 'id_probs': ets_probs(zi, T, w, k).ravel().tolist()},
    }


def main():
    payload = {'cases': [case_payload(*c) for c in cases()]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, separators=(',', ':'), allow_nan=False, default=float)
    OUT.write_text(text + '\n')
    for c in payload['cases']:
        print(c['name'], 'T', round(c['temperature'], 4), 'bins', len(c['histogram']['edges']), 'iso breakpoints', len(c['isotonic']['x']),
              'ets w', np.round(c['ets']['weights'], 4).tolist())
    print(f'wrote {OUT} ({len(text) // 1024} KB)')


if __name__ == '__main__':
    main()
