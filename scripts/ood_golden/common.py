#!/usr/bin/python3
"""Shared inputs and writer for the OOD-method golden files (development time, Debian's /usr/bin/python3 + numpy).

Every method's reference lives in its own module beside this one (scripts/ood_golden/<family>.py), written from
the paper's definition in float64 numpy, independent of the TypeScript code. `cases()` gives the same inputs to
every method: random data plus adversarial ones (tied logits, a rank-deficient feature covariance, all-zero feature
rows, a class with a single fit sample, negative features). Inputs are float32 values (what the engine gets from
onnxruntime), stored as exact decimal strings of those float32 values; references compute in float64 from them.

Golden files: test/fixtures/ood/inputs.json holds the cases once ({"cases": [{"name", "d", "k", "W", "b",
"fit": {"features", "logits", "labels"}, "test": {"features", "logits"}}]}, matrices flat row-major), written by
`python3 scripts/ood_golden/common.py`; test/fixtures/ood/<method>.json = {"method", "params", "scores": {case
name: [score per test row, null for NaN]}}.
"""
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'test' / 'fixtures' / 'ood'


def f32(a):
    return np.asarray(a, dtype=np.float32)


def _case(name, rng, n_fit, n_test, d, k, *, rank=None, zero_rows=0, single_class=False, ties=False, negative=False):
    W = f32(rng.normal(0, 1 / np.sqrt(d), (k, d)))
    b = f32(rng.normal(0, 0.1, k))
    labels = rng.integers(0, k, n_fit)
    if single_class:
        labels[labels == k - 1] = 0
        labels[0] = k - 1  # class k-1 has exactly one fit sample
    centers = rng.normal(0, 2, (k, d))

    mix = rng.normal(0, 1, (rank, d)) / np.sqrt(rank) if rank is not None else None

    def feats(lab, n):
        x = centers[lab] + rng.normal(0, 1, (n, d))
        if not negative:
            x = np.abs(x)  # post-ReLU features, as most penultimate layers give
        if mix is not None:
            # After the abs, so every row (fit and test) lies in one rank-`rank` subspace: singular covariances.
            x = x[:, :rank] @ mix
        return f32(x)

    hf = feats(labels, n_fit)
    test_lab = rng.integers(0, k, n_test)
    ht = feats(test_lab, n_test)
    ht[n_test // 2:] = f32(np.abs(rng.normal(0, 3, (n_test - n_test // 2, d))) if not negative else rng.normal(0, 3, (n_test - n_test // 2, d)))
    if zero_rows:
        hf[:zero_rows] = 0
        ht[:zero_rows] = 0
    zf = f32(hf.astype(np.float64) @ W.T.astype(np.float64) + b)
    zt = f32(ht.astype(np.float64) @ W.T.astype(np.float64) + b)
    if ties:
        zt[:3] = 1.5  # every logit equal: argmax is the first class
        zf[:2, :2] = zf[:2, :1]
    # Labels the fit split carries: mostly the true class, some unlabelled (-1).
    fit_labels = labels.copy()
    fit_labels[rng.random(n_fit) < 0.05] = -1
    return {'name': name, 'd': d, 'k': k, 'W': W, 'b': b,
            'fit': {'features': hf, 'logits': zf, 'labels': fit_labels.astype(np.int64)},
            'test': {'features': ht, 'logits': zt}}


def cases():
    rng = np.random.default_rng(20261130)
    return [
        _case('random', rng, 240, 40, 16, 5),
        _case('wide', rng, 300, 30, 64, 10),
        _case('rank-deficient', rng, 200, 30, 24, 4, rank=6),
        _case('zero-rows-and-ties', rng, 150, 30, 12, 3, zero_rows=3, ties=True),
        _case('single-sample-class', rng, 120, 20, 10, 4, single_class=True),
        _case('negative-features', rng, 160, 20, 8, 3, negative=True),
    ]


def _num(a):
    # repr of a Python float is the shortest decimal that round-trips; float32 values are exact in float64.
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


def write_inputs():
    """test/fixtures/ood/inputs.json: the cases every method is scored on (written once, shared)."""
    OUT.mkdir(parents=True, exist_ok=True)
    out = {'generator': 'scripts/ood_golden/common.py', 'cases': []}
    for c in cases():
        out['cases'].append({
            'name': c['name'], 'd': c['d'], 'k': c['k'], 'W': _num(c['W']), 'b': _num(c['b']),
            'fit': {'features': _num(c['fit']['features']), 'logits': _num(c['fit']['logits']),
                    'labels': [int(v) for v in c['fit']['labels']]},
            'test': {'features': _num(c['test']['features']), 'logits': _num(c['test']['logits'])},
        })
    path = OUT / 'inputs.json'
    path.write_text(json.dumps(out, separators=(',', ':')) + '\n')
    return path


def write(method, params, scored):
    """scored: list of (case, scores), scores a float64 array for the case's test rows (NaN allowed → null).
    Writes test/fixtures/ood/<method>.json = {"method", "params", "scores": {case name: [...]}}."""
    OUT.mkdir(parents=True, exist_ok=True)
    out = {'method': method, 'params': params, 'generator': 'scripts/ood_golden', 'scores': {}}
    for c, s in scored:
        out['scores'][c['name']] = [None if not np.isfinite(v) else float(v) for v in np.asarray(s, dtype=np.float64)]
    path = OUT / f'{method}.json'
    path.write_text(json.dumps(out, separators=(',', ':')) + '\n')
    return path


def softmax64(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


if __name__ == '__main__':
    print(write_inputs())
