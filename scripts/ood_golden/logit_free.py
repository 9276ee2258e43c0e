#!/usr/bin/python3
"""Golden scores for methods that need features and logits only (no fit): gradnorm.

Usage (repository root): scripts/ood_golden/logit_free.py  → test/fixtures/ood/gradnorm.json
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cases, softmax64, write  # noqa: E402


def gradnorm(h, z):
    """Huang et al. 2021, analytic last-layer form: ||h||_1 * sum_c |p_c - 1/C|, negated (higher = more OOD)."""
    h = np.asarray(h, dtype=np.float64)
    p = softmax64(z)
    k = p.shape[1]
    return -np.abs(h).sum(axis=1) * np.abs(p - 1.0 / k).sum(axis=1)


if __name__ == '__main__':
    scored = []
    for c in cases():
        h = c['test']['features'].reshape(-1, c['d'])
        z = c['test']['logits'].reshape(-1, c['k'])
        scored.append((c, gradnorm(h, z)))
    print(write('gradnorm', {}, scored))
