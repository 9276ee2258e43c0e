#!/usr/bin/python3
"""Golden values for split conformal prediction sets (src/engine/metrics/conformal.ts).

Development time only, Debian's /usr/bin/python3 + numpy. An independent float64 reference written from the
definitions, not from the TypeScript:
  p       = softmax(float64(float32 logits)), max-shifted, math.exp; the exp sum is sequential, in class order.
  rank    = p descending, ties by class index ascending (a stable argsort of -p); r is 1-based.
  LAC     s_c = 1 - p_c.                 lac_classwise: the same score, one q_hat per class from its rows alone.
  APS     s_c = sum of p over ranks 1..r(c) (non-randomized);  randomized: sum over ranks < r(c) + u * p_c,
          one u per row, u = mulberry32 draw / 2**32 (row i takes draw i; calibration seed, test seed + 1).
  RAPS    APS + lam * max(0, r(c) - k_reg), lam = 0.1, k_reg = 1.
  q_hat   = the m-th smallest calibration score, m = ceil((n + 1)(1 - alpha)) computed EXACTLY on alpha's decimal
            (fractions.Fraction(repr(alpha))), +inf when m > n or n = 0.
  set     = {c : s_c <= q_hat (q_hat_c for lac_classwise)}.
  metrics over labelled test rows: coverage, mean set size, empty / singleton fractions, per-class coverage (None
  when a class has no test row), covgap = mean over classes with rows of |coverage_c - (1 - alpha)|.
Rows labelled -1 are unlabelled: skipped for calibration and metrics, but they still draw their u.

Logits are stored rounded to 4 decimals; both sides turn those decimals into float32 first.
Writes test/fixtures/trust/conformal.json: {"cases": [{"name", "k", "calib": {"logits", "labels"}, "test": {...},
"results": [{"method", "opts", "expected": {...ConformalResult, "sets": ["0101", ...] one string per test row}}]}]}.
Run: /usr/bin/python3 scripts/trust_golden/conformal.py
"""
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'test' / 'fixtures' / 'trust' / 'conformal.json'
M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def mulberry32(seed, n):
    """n draws of mulberry32(seed) as floats in [0, 1)."""
    a = seed & M32
    out = np.empty(n)
    for i in range(n):
        a = (a + 0x6D2B79F5) & M32
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & M32) ^ t
        out[i] = ((t ^ (t >> 14)) & M32) / 4294967296
    return out


def softmax(logits):
    x = np.asarray(logits, dtype=np.float32).astype(np.float64)
    # math.exp element by element: numpy's SIMD exp can differ by an ulp depending on where a value sits in memory,
    # and an ulp decides the sets when a score equals q_hat (the ties and p = 1 cases).
    e = np.vectorize(math.exp, otypes=[np.float64])(x - x.max(axis=1, keepdims=True))
    return e / np.cumsum(e, axis=1)[:, -1:]


def all_scores(method, p, u, randomized, lam=0.1, kreg=1):
    if method in ('lac', 'lac_classwise'):
        return 1.0 - p
    n, k = p.shape
    order = np.argsort(-p, axis=1, kind='stable')
    ps = np.take_along_axis(p, order, axis=1)
    cums = np.cumsum(ps, axis=1)
    before = np.concatenate([np.zeros((n, 1)), cums[:, :-1]], axis=1)
    sorted_scores = before + u[:, None] * ps if randomized else before + ps
    if method == 'raps':
        sorted_scores = sorted_scores + lam * np.maximum(0.0, np.arange(1, k + 1, dtype=np.float64) - kreg)
    scores = np.empty_like(p)
    np.put_along_axis(scores, order, sorted_scores, axis=1)
    return scores


def rank_m(n, alpha):
    return math.ceil((n + 1) * (1 - Fraction(repr(alpha))))


def quantile(scores, alpha):
    n = len(scores)
    m = rank_m(n, alpha)
    return math.inf if n == 0 or m > n else float(np.sort(scores)[max(m, 1) - 1])


def reference(method, k, calib, test, alpha, randomized=False, seed=0):
    cl = np.asarray(calib['labels'])
    tl = np.asarray(test['labels'])
    cs = all_scores(method, softmax(calib['logits']), mulberry32(seed, len(cl)), randomized)
    ts = all_scores(method, softmax(test['logits']), mulberry32(seed + 1, len(tl)), randomized)
    lab = cl >= 0
    true_scores, true_labels = cs[np.arange(len(cl)), np.maximum(cl, 0)][lab], cl[lab]
    if method == 'lac_classwise':
        q = np.array([quantile(true_scores[true_labels == c], alpha) for c in range(k)])
    else:
        q = np.full(k, quantile(true_scores, alpha))
    sets = (ts <= q[None, :]).astype(np.uint8)
    use = tl >= 0
    S, y = sets[use], tl[use]
    n = len(y)
    covered = S[np.arange(n), y] == 1
    sizes = S.sum(axis=1)
    per = [float(covered[y == c].mean()) if (y == c).any() else None for c in range(k)]
    present = [v for v in per if v is not None]
    res = {
        'method': method, 'alpha': alpha,
        'qhat': None if method == 'lac_classwise' else q[0],
        'n_calib': int(lab.sum()), 'n': n,
        'coverage': covered.mean(), 'mean_set_size': sizes.mean(),
        'empty_fraction': (sizes == 0).mean(), 'singleton_fraction': (sizes == 1).mean(),
        'per_class_coverage': per,
        'covgap': float(np.mean([abs(v - (1 - alpha)) for v in present])),
        'sets': [''.join(map(str, row)) for row in sets],
    }
    if method == 'lac_classwise':
        res['qhat_per_class'] = [float(v) for v in q]
    return {k2: (float(v) if isinstance(v, (np.floating, float)) else v) for k2, v in res.items()}


def r4(a):
    return np.round(np.asarray(a, dtype=np.float64), 4)


def model_like(rng, n, k, sharp=6.0, unlabelled=0):
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k)) + sharp * rng.random((n, 1)) * np.eye(k)[y]
    y[:unlabelled] = -1
    return {'logits': r4(logits), 'labels': y}


def cases():
    rng = np.random.default_rng(20240611)
    out = []
    # Random model-like logits, a few unlabelled rows in both splits.
    out.append(('random_k10', 10, model_like(rng, 500, 10, unlabelled=7), model_like(rng, 300, 10, unlabelled=5),
                [(m, a, False) for m in ('lac', 'aps', 'raps', 'lac_classwise') for a in (0.1, 0.05, 0.2)]
                + [('aps', 0.1, True), ('raps', 0.1, True)]))
    # n_calib < 1/alpha - 1: q_hat = +inf, every set is every class.
    out.append(('few_calib', 4, model_like(rng, 5, 4), model_like(rng, 6, 4),
                [(m, 0.1, False) for m in ('lac', 'aps', 'raps', 'lac_classwise')]))
    # Class 3 absent from calibration, class 2 with 3 rows (too few at alpha 0.2), class 1 absent from test.
    cy = np.array([0] * 20 + [1] * 20 + [2] * 3)
    cal = {'logits': r4(rng.normal(0, 1, (43, 4)) + 2.0 * np.eye(4)[cy]), 'labels': cy}
    ty = np.array([0, 2, 3, 0, 2, 3, 3, 0, -1, 2])
    tst = {'logits': r4(rng.normal(0, 1, (10, 4)) + 2.0 * np.eye(4)[np.maximum(ty, 0)]), 'labels': ty}
    out.append(('classwise_absent', 4, cal, tst, [('lac_classwise', 0.2, False), ('lac_classwise', 0.1, False), ('lac', 0.2, False)]))
    # Exactly tied probabilities: 20 rows of 5 equal logits (APS scores 0.2, 0.4, ... by class index), partial ties,
    # and confident rows, so q_hat lands exactly on a tied score and the tie order decides the sets.
    eq, partial = [[0.5] * 5], [[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 2.0, 2.0, -1.0]]
    conf = [[4.0, 0, 0, 0, 0], [0, 0, 4.0, 0, 0], [0, 0, 0, 0, 4.0], [0, 4.0, 0, 0, 0]]
    cal = {'logits': np.array(eq * 20 + partial * 3 + conf * 2), 'labels': np.array(list(np.arange(20) % 5) + [1, 3, 0, 2, 0, 1] + [0, 2, 4, 1] * 2)}
    tst = {'logits': np.array(eq * 5 + partial + [[-3.0] * 5, [0.0, 0.0, 0.0, 0.0, 3.0]]), 'labels': np.array([0, 1, 2, 3, 4, 1, 3, 2, 4])}
    out.append(('ties', 5, cal, tst, [(m, a, False) for m in ('lac', 'aps', 'raps', 'lac_classwise') for a in (0.1, 0.2, 0.05)]
                + [('aps', 0.4, False), ('aps', 0.6, False), ('raps', 0.6, False), ('aps', 0.2, True)]))
    # A row whose probability is exactly 1.0 (exp(-200) vanishes next to 1).
    cal = {'logits': np.array([[200.0, 0, 0, 0], [0, 200.0, 0, 0], [1.0, 0.5, 0, 0], [0, 0, 0.3, 0.1]] * 3),
           'labels': np.array([0, 1, 0, 2, 0, 2, 1, 3, 0, 1, 2, 3])}
    tst = {'logits': np.array([[200.0, 0, 0, 0], [0, 0, 0, 200.0], [1.0, 0.5, 0, 0], [0.2, 0.1, 0, 0]]), 'labels': np.array([0, 3, 1, 2])}
    out.append(('prob_one', 4, cal, tst, [(m, a, False) for m in ('lac', 'aps', 'raps') for a in (0.2, 0.05)]))
    # (n + 1)(1 - alpha) = 55.00000000000001 in float64 for n = 99, alpha = 0.45: m must be 55, not 56.
    out.append(('rank_guard', 6, model_like(rng, 99, 6), model_like(rng, 40, 6),
                [('lac', 0.45, False), ('aps', 0.45, False), ('lac', 0.18, False)]))
    return out


def main():
    payload = {'cases': []}
    for name, k, cal, tst, runs in cases():
        results = []
        for method, alpha, randomized in runs:
            opts = {'alpha': alpha, 'randomized': randomized, 'seed': 7}
            results.append({'method': method, 'opts': opts,
                            'expected': reference(method, k, cal, tst, alpha, randomized, seed=7)})
        payload['cases'].append({
            'name': name, 'k': k,
            'calib': {'logits': [float(v) for v in r4(cal['logits']).ravel()], 'labels': [int(v) for v in cal['labels']]},
            'test': {'logits': [float(v) for v in r4(tst['logits']).ravel()], 'labels': [int(v) for v in tst['labels']]},
            'results': results,
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, separators=(',', ':'), allow_nan=True).replace('Infinity', '"Infinity"')
    OUT.write_text(text + '\n')
    print(f'wrote {OUT} ({len(text) // 1024} KB)')


if __name__ == '__main__':
    main()
