#!/usr/bin/python3
"""Golden eigenvalues for the dense symmetric eigensolver (src/engine/linalg/eigen.ts): each case's matrix and
numpy.linalg.eigvalsh's float64 eigenvalues (descending), one JSON file per case.

The matrices are exactly symmetric and stored as base64 of their little-endian float64 bytes (row-major), so the
TypeScript test reads back the very numbers numpy saw; the eigenvalues are plain JSON numbers (repr round-trips).
Everything is generated from numpy.random.default_rng(20240611), so rerunning rewrites identical files.

Usage (repository root): /usr/bin/python3 scripts/eigen_golden.py  → test/fixtures/eigen/<case>.json
"""
import base64
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'eigen'
RNG = np.random.default_rng(20240611)


def symmetric(a):
    """(A + Aᵀ)/2 rounded once, then mirrored so both triangles hold the same bits."""
    s = (a + a.T) / 2
    return np.tril(s) + np.tril(s, -1).T


def random_orthogonal(d):
    q, r = np.linalg.qr(RNG.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def with_spectrum(values):
    q = random_orthogonal(len(values))
    return symmetric(q @ np.diag(values) @ q.T)


def random_spd(d):
    x = RNG.standard_normal((d, d))
    return symmetric(x @ x.T / d + 0.1 * np.eye(d))


def wilkinson_plus(m):
    """W_{2m+1}^+: diagonal |m − i|, ones beside it; its largest eigenvalues come in pairs agreeing to ~1e-14."""
    d = 2 * m + 1
    return np.diag(np.abs(np.arange(d) - m).astype(float)) + np.diag(np.ones(d - 1), 1) + np.diag(np.ones(d - 1), -1)


def zero_rows():
    a = symmetric(RNG.standard_normal((30, 30)))
    for k in (0, 7, 8, 29):
        a[k, :] = 0
        a[:, k] = 0
    return a


def cases():
    x = RNG.standard_normal((40, 120))
    return {
        'spd-5': random_spd(5),
        'spd-33': random_spd(33),
        'spd-100': random_spd(100),
        'spd-300': random_spd(300),
        'covariance-rank40-120': symmetric(x.T @ x),
        'identity-16': np.eye(16),
        'repeated-40': with_spectrum(np.array([1, 1, 1, 2, 2, 3] + [3 + k // 5 for k in range(34)], dtype=float)),
        'graded-64': with_spectrum(np.logspace(-12, 0, 64)),
        'zero-rows-30': zero_rows(),
        'wilkinson-21': wilkinson_plus(10),
        'scalar-1': np.array([[-2.5]]),
        'pair-2': symmetric(np.array([[1.0, 2.0], [2.0, -3.0]])),
        'negative-definite-50': -random_spd(50),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, a in cases().items():
        a = np.ascontiguousarray(a, dtype='<f8')
        assert np.array_equal(a, a.T)
        values = np.linalg.eigvalsh(a)[::-1]
        record = {
            'name': name,
            'd': a.shape[0],
            'matrix': base64.b64encode(a.tobytes()).decode('ascii'),
            'values': [float(v) for v in values],
        }
        (OUT / f'{name}.json').write_text(json.dumps(record) + '\n')


if __name__ == '__main__':
    main()
