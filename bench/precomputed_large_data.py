#!/usr/bin/python3
"""Writes the precomputed splits of the "1,000,000 samples x 1,000 classes" benchmark (BENCHMARKS.md, Memory):

    /usr/bin/python3 bench/precomputed_large_data.py OUT_DIR [--n 500000] [--k 1000]
    /usr/bin/time -v node dist/cli.js score --id OUT_DIR/id --ood OUT_DIR/ood --json OUT_DIR/r.json --quiet

OUT_DIR/id holds logits.npy [n, k] float32 and labels.npy [n] (the true class raised by 6, so the model is
accurate and over-confident), OUT_DIR/ood holds logits.npy of plain standard normals. Written in pieces through
a memory map, so making 4 GB of logits needs little memory. Needs Debian's python3-numpy.
"""
import argparse
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=500_000, help="samples per split")
    ap.add_argument("--k", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    for name, shift in [("id", 6.0), ("ood", 0.0)]:
        d = Path(a.out) / name
        d.mkdir(parents=True, exist_ok=True)
        z = np.lib.format.open_memmap(d / "logits.npy", mode="w+", dtype="<f4", shape=(a.n, a.k))
        labels = np.empty(a.n, dtype=np.int64)
        for s in range(0, a.n, 50_000):
            m = min(50_000, a.n - s)
            x = rng.standard_normal((m, a.k), dtype=np.float32)
            y = rng.integers(0, a.k, m)
            x[np.arange(m), y] += shift
            z[s:s + m] = x
            labels[s:s + m] = y
        z.flush()
        if name == "id":
            np.save(d / "labels.npy", labels)


if __name__ == "__main__":
    main()
