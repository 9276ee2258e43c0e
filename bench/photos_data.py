#!/usr/bin/python3
"""Makes the real-photo benchmark data: N JPEG photos of 200-900 px cut from real photos, as class folders.

    /usr/bin/python3 bench/photos_data.py --out .dev/bench/photos-6000 --count 6000 [--seed 0]

Sources: the two photos scikit-learn bundles (china.jpg, flower.jpg, 640x427). Each image is a crop at a random
offset and size (a quarter of the photo or more), sometimes mirrored, rescaled so its longer side is 200-900 px
(aspect 0.6-1.7), saved with a random quality of 75-95; 15 % are 4:4:4 (the rest 4:2:0, Pillow's default),
10 % progressive, 10 % carry an EXIF orientation tag (3, 6 or 8), 2 % are grayscale. Layout:
    OUT/id/china/*.jpg, OUT/id/flower/*.jpg   (two thirds, crops of one photo each)
    OUT/ood/mixed/*.jpg                        (one third, colour channels permuted)
Deterministic for a seed; a folder already made with the same arguments is kept (OUT/.made holds them).
Needs Debian's python3-sklearn, python3-numpy, python3-pil.
"""
import argparse
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

ORIENTATION = 0x0112


def photo(rng, sources):
    src = sources[rng.randrange(len(sources))]
    w, h = src.size
    cw = rng.randint(w // 2, w)
    ch = min(h, max(h // 2, int(cw / rng.uniform(0.6, 1.7))))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = src.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    longer = rng.randint(200, 900)
    scale = longer / max(cw, ch)
    return img.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.Resampling.LANCZOS)


def save(rng, img, path):
    opts = {"quality": rng.randint(75, 95), "subsampling": 0 if rng.random() < 0.15 else 2}
    if rng.random() < 0.1:
        opts["progressive"] = True
    if rng.random() < 0.1:
        exif = Image.Exif()
        exif[ORIENTATION] = rng.choice([3, 6, 8])
        opts["exif"] = exif.tobytes()
    if rng.random() < 0.02:
        img = img.convert("L")
    img.save(path, "JPEG", **opts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    stamp = json.dumps({"count": args.count, "seed": args.seed, "version": 1})
    if (out / ".made").exists() and (out / ".made").read_text() == stamp:
        print(json.dumps({"out": str(out), "count": args.count, "made": False}))
        return
    rng = random.Random(args.seed)
    data = load_sample_images()
    photos = [Image.fromarray(a) for a in data.images]
    names = [Path(f).stem for f in data.filenames]
    n_id = args.count * 2 // 3
    for i in range(args.count):
        if i < n_id:
            k = i % len(photos)
            folder, img = out / "id" / names[k], photo(rng, [photos[k]])
        else:
            folder, img = out / "ood" / "mixed", photo(rng, photos)
            img = Image.fromarray(np.asarray(img)[:, :, list(rng.sample(range(3), 3))])
        folder.mkdir(parents=True, exist_ok=True)
        save(rng, img, folder / f"{i:05d}.jpg")
    (out / ".made").write_text(stamp)
    print(json.dumps({"out": str(out), "count": args.count, "made": True}))


if __name__ == "__main__":
    main()
