#!/usr/bin/python3
"""Synthetic ResNet-like penultimate features, logits and last layer for the OOD-method benchmark.

    /usr/bin/python3 bench/features_data.py OUTDIR [--d 2048] [--classes 1000] [--fit 50000] [--id 10000] \
        [--ood 10000] [--seed 0]

Writes float32 .npy files (labels int64): OUTDIR/fit/{features,logits,labels}.npy, OUTDIR/id/{features,logits,
labels}.npy, OUTDIR/ood/{features,logits}.npy, OUTDIR/W.npy [classes, d] and OUTDIR/b.npy [classes]. The defaults
are ResNet-50 on ImageNet-1k sizes (about 1 GB); `--d 64 --classes 10 --fit 2000 --id 500 --ood 500` is a quick one.

The model of a feature row (not white noise):
  pre = offset + A (sep·m_c + tau·e_r) + sigma·e_d,   h = scale ⊙ relu(pre)
A [d, r] maps an r = min(d/4, 32)-dimensional latent space, where the class means m_c ~ N(0, I) live (neural
collapse puts them in a low-dimensional span), into feature space; e_r, e_d are standard normal noise; offsets are
mostly negative, so about half the activations are exactly 0; the per-feature scales are log-uniform over an order
of magnitude (0.3 to 3) and 0.5 % of the features are dead (always 0): h is non-negative, sparse-ish and unevenly
scaled like a post-ReLU average-pooled layer. The last layer is the nearest-class-mean classifier of the exact class
means μ_c = E[h | c] (W_c ∝ μ_c − μ̄ with 10 % multiplicative noise, b_c ∝ −(‖μ_c‖² − ‖μ̄‖²)/2), its temperature
set so that the mean max-softmax of ID rows is about 0.75 (top-1 accuracy about 0.8 at the default sizes);
logits = h·Wᵀ + b in float32. OOD rows come from latent points that are no fit class (half mix two classes, half
are unseen classes), shrunk towards the origin, plus a small component along other directions (B) and a few large
activations (1 % of the units, as ReAct observes): the post-hoc methods then separate them well but not perfectly
(AUROCs about 0.7 to 0.99 at the default sizes). The constants are Generator's class attributes.

Generation is streamed in chunks of CHUNK rows straight into memory-mapped .npy files (features and their logits
together), so no split is ever held whole in memory.
"""
import argparse
import time
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from scipy.special import ndtr

CHUNK = 4096


class Generator:
    """The fixed structure (subspace, class means, scales, offsets) from one seed; rows drawn from a split's rng."""
    # Tuned so that the 18 methods' AUROCs lie between about 0.7 and 0.99 at the default sizes, top-1 about 0.8.
    LATENT = 32  # latent dimensions (at most d/4)
    SEP, TAU, SIGMA = 1.0, 1.15, 0.3  # class-mean spread, within-class latent noise, feature noise
    SCALES = (-0.5, 0.5)  # per-feature scales 10^U(lo, hi)
    OOD_SHRINK, OOD_OFF = 0.8, 0.05  # OOD: latent shrink, off-subspace noise
    SPIKES, SPIKE = 0.01, 2.0  # OOD: share of units with an extra exponential activation, its mean

    def __init__(self, d, classes, rng):
        self.d, self.classes = d, classes
        self.r = max(2, min(d // 4, self.LATENT))
        self.A = (rng.standard_normal((d, self.r)) / np.sqrt(self.r)).astype(np.float32)
        self.B = (rng.standard_normal((d, self.r)) / np.sqrt(self.r)).astype(np.float32)  # off-class directions
        self.means = rng.standard_normal((classes, self.r)).astype(np.float32)
        self.offset = rng.normal(-0.3, 0.3, d).astype(np.float32)
        self.scale = (10.0 ** rng.uniform(*self.SCALES, d)).astype(np.float32)
        self.scale[rng.choice(d, max(1, d // 200), replace=False)] = 0  # dead features

    def class_means(self):
        """E[h | class c] exactly: pre_j ~ N(m_j, s_j²) gives E[relu(pre_j)] = m_j·Φ(m_j/s_j) + s_j·φ(m_j/s_j)."""
        m = (self.SEP * self.means) @ self.A.T.astype(np.float64) + self.offset
        s = np.sqrt(self.TAU ** 2 * (self.A.astype(np.float64) ** 2).sum(axis=1) + self.SIGMA ** 2)
        return (m * ndtr(m / s) + s * np.exp(-0.5 * (m / s) ** 2) / np.sqrt(2 * np.pi)) * self.scale

    def features(self, latent, rng, extra=None):
        """h = scale ⊙ relu(offset + A·latent + SIGMA·e_d [+ extra]) for latent [n, r]."""
        pre = latent @ self.A.T + self.offset
        pre += self.SIGMA * rng.standard_normal(pre.shape, dtype=np.float32)
        if extra is not None:
            pre += extra
        return np.maximum(pre, 0) * self.scale

    def id_rows(self, n, rng):
        labels = rng.integers(0, self.classes, n)
        latent = self.SEP * self.means[labels] + self.TAU * rng.standard_normal((n, self.r), dtype=np.float32)
        return self.features(latent, rng), labels

    def ood_rows(self, n, rng):
        """Half two-class mixtures, half unseen classes; shrunk, off-subspace component, a few spikes."""
        a, c = rng.integers(0, self.classes, (2, n))
        lam = rng.uniform(0.3, 0.7, (n, 1)).astype(np.float32)
        mixed = lam * self.means[a] + (1 - lam) * self.means[c]
        unseen = rng.standard_normal((n, self.r), dtype=np.float32)
        centre = np.where((np.arange(n) % 2 == 0)[:, None], mixed, unseen)
        latent = self.OOD_SHRINK * self.SEP * centre + self.TAU * rng.standard_normal((n, self.r), dtype=np.float32)
        extra = self.OOD_OFF * rng.standard_normal((n, self.r), dtype=np.float32) @ self.B.T
        spikes = rng.random((n, self.d)) < self.SPIKES
        extra[spikes] += rng.exponential(self.SPIKE, int(spikes.sum())).astype(np.float32)
        return self.features(latent, rng, extra)


def write_split(path, n, draw, W, b):
    """Streams draw(m) → ([m, d], labels or None) into path/{features,logits,labels}.npy, logits = h·Wᵀ + b in
    float32; returns the top-1 accuracy (None without labels)."""
    path.mkdir(parents=True, exist_ok=True)
    feats = open_memmap(path / 'features.npy', 'w+', np.float32, (n, W.shape[1]))
    logits = open_memmap(path / 'logits.npy', 'w+', np.float32, (n, len(b)))
    labels = None
    hits = 0
    for s in range(0, n, CHUNK):
        h, lab = draw(min(CHUNK, n - s))
        feats[s:s + len(h)] = h
        z = logits[s:s + len(h)] = h @ W.T + b
        if lab is not None:
            if labels is None:
                labels = open_memmap(path / 'labels.npy', 'w+', np.int64, (n,))
            labels[s:s + len(h)] = lab
            hits += int((z.argmax(axis=1) == lab).sum())
    for m in (feats, logits, labels):
        if m is not None:
            m.flush()
    return None if labels is None else hits / n


def last_layer(gen, rng):
    """Nearest-class-mean classifier on the exact class means of h, 10 % weight noise; temperature so the mean
    max-softmax of ID rows is about 0.75 (ImageNet ResNet-50's is about 0.8)."""
    mu = gen.class_means()
    centre = mu.mean(axis=0)
    W = (mu - centre) * (1 + 0.1 * rng.standard_normal(mu.shape))
    b = -0.5 * ((mu * mu).sum(axis=1) - centre @ centre)
    z = gen.id_rows(2048, rng)[0].astype(np.float64) @ W.T + b
    lo, hi = -12.0, 6.0  # bisection on log temperature
    for _ in range(50):
        t = 0.5 * (lo + hi)
        zt = z * np.exp(t)
        p = np.exp(zt - zt.max(axis=1, keepdims=True))
        (lo, hi) = (t, hi) if (p.max(axis=1) / p.sum(axis=1)).mean() < 0.75 else (lo, t)
    t = np.exp(0.5 * (lo + hi))
    return (W * t).astype(np.float32), (b * t).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('outdir', type=Path)
    ap.add_argument('--d', type=int, default=2048)
    ap.add_argument('--classes', type=int, default=1000)
    ap.add_argument('--fit', type=int, default=50000)
    ap.add_argument('--id', type=int, default=10000)
    ap.add_argument('--ood', type=int, default=10000)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(a.seed).spawn(5)]
    gen = Generator(a.d, a.classes, rngs[0])
    W, b = last_layer(gen, rngs[1])
    a.outdir.mkdir(parents=True, exist_ok=True)
    np.save(a.outdir / 'W.npy', W)
    np.save(a.outdir / 'b.npy', b)
    for name, n, draw in [('fit', a.fit, lambda m: gen.id_rows(m, rngs[2])),
                          ('id', a.id, lambda m: gen.id_rows(m, rngs[3])),
                          ('ood', a.ood, lambda m: (gen.ood_rows(m, rngs[4]), None))]:
        acc = write_split(a.outdir / name, n, draw, W, b)
        note = '' if acc is None else f', labels.npy ({n},) int64, top-1 accuracy {acc:.3f}'
        print(f'{a.outdir / name}: features.npy ({n}, {a.d}) float32, logits.npy ({n}, {a.classes}) float32{note}')
    print(f'{a.outdir}: W.npy {W.shape} float32, b.npy {b.shape} float32; {time.perf_counter() - t0:.1f} s')


if __name__ == '__main__':
    main()
