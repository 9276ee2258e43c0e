#!/usr/bin/python3
"""Makes the ImageNet-sized benchmark data: N JPEG photos of 300-600 px in 1,000 class folders, plus an OOD folder.

    /usr/bin/python3 bench/imagenet_data.py --out ~/.cache/ood-lens-bench/imagenet-50000 --count 50000 [--workers 2]

Sources: the two photos scikit-learn bundles (china.jpg, flower.jpg, 640x427). Each image is a crop at a random
offset and size (a quarter of the photo or more), mirrored half of the time, rescaled so that its longer side is
300-600 px (aspect 0.6-1.7), with colour jitter (brightness, contrast, saturation 0.7-1.3), saved as baseline
4:2:0 JPEG (Pillow's default, as most of ImageNet) with a random quality of 75-95; 2 % are grayscale. Layout:
    OUT/id/c0000/*.jpg ... OUT/id/c0999/*.jpg   (90 % of N, image i in class i mod 1000)
    OUT/ood/mixed/*.jpg                         (10 %, crops of both photos with their colour channels permuted)
Image i depends only on (seed, i), so the workers (processes) may make them in any order. A folder already made
with the same arguments is kept (OUT/.made holds them). Needs Debian's python3-sklearn, python3-numpy, python3-pil.
"""
import argparse
import json
import random
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance
from sklearn.datasets import load_sample_images

CLASSES = 1000
PHOTOS = None  # per worker: the source photos


def load_photos():
    global PHOTOS
    PHOTOS = [Image.fromarray(a) for a in load_sample_images().images]


def photo(rng, src):
    w, h = src.size
    cw = rng.randint(w // 2, w)
    ch = min(h, max(h // 2, int(cw / rng.uniform(0.6, 1.7))))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = src.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    scale = rng.randint(300, 600) / max(cw, ch)
    img = img.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.Resampling.BILINEAR)
    for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        img = enhance(img).enhance(rng.uniform(0.7, 1.3))
    return img


def make(job):
    """Writes image i of the set; returns its path relative to OUT."""
    out, i, n_id, seed = job
    rng = random.Random(seed * 1_000_003 + i)
    if i < n_id:
        rel = Path("id") / f"c{i % CLASSES:04d}" / f"{i:06d}.jpg"
        img = photo(rng, PHOTOS[rng.randrange(len(PHOTOS))])
    else:
        rel = Path("ood") / "mixed" / f"{i:06d}.jpg"
        img = photo(rng, PHOTOS[rng.randrange(len(PHOTOS))])
        img = Image.fromarray(np.asarray(img)[:, :, list(rng.sample(range(3), 3))])
    if rng.random() < 0.02:
        img = img.convert("L")
    img.save(Path(out) / rel, "JPEG", quality=rng.randint(75, 95))
    return str(rel)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out)
    stamp = json.dumps({"count": args.count, "seed": args.seed, "version": 1})
    if (out / ".made").exists() and (out / ".made").read_text() == stamp:
        print(json.dumps({"out": str(out), "count": args.count, "made": False}))
        return
    n_id = args.count * 9 // 10
    for c in range(min(CLASSES, n_id)):
        (out / "id" / f"c{c:04d}").mkdir(parents=True, exist_ok=True)
    (out / "ood" / "mixed").mkdir(parents=True, exist_ok=True)
    jobs = [(str(out), i, n_id, args.seed) for i in range(args.count)]
    with Pool(args.workers, initializer=load_photos) as pool:
        for _ in pool.imap_unordered(make, jobs, chunksize=64):
            pass
    (out / ".made").write_text(stamp)
    print(json.dumps({"out": str(out), "count": args.count, "made": True}))


if __name__ == "__main__":
    main()
