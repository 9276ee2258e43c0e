#!/usr/bin/python3
"""Golden outputs of real Pillow for src/engine/image/pil.ts, written to test/fixtures/pil-golden.json.

Run from anywhere with Debian's interpreter (python3-pil, python3-numpy; python3-torchvision optional):
    /usr/bin/python3 scripts/make-pil-golden.py

What it records, for deterministic test images (seeded numpy noise, smooth gradients, sharp edges, alpha
ramps with fully transparent and fully opaque areas) in modes L, LA, RGB and RGBA:
  - Image.resize((w, h), filter) for NEAREST, BOX, BILINEAR, HAMMING, BICUBIC, LANCZOS and many targets
    (non-integer downscales, 3x and 7x, upscales, one dimension unchanged, 1-pixel targets);
  - Image.convert('L') from RGB, RGBA, LA and Image.convert('RGB') from L, LA, RGBA;
  - centre crops: 'round' = torchvision F.center_crop (half-to-even offset, zero padding when larger),
    'floor' = transformers.image_transforms.center_crop (floor offset; ceil((new - orig) / 2) zero padding in front),
    both computed with numpy following those definitions; when torchvision imports, 'round' is cross-checked with it;
  - torchvision's shorter-side Resize(int) output size.
Inputs are stored once per pattern as base64 zlib-compressed RGBA planes (the test derives L, LA and RGB the way
mode_array does); outputs as SHA-256 of the interleaved bytes, plus the bytes themselves (base64 zlib) for outputs
of at most FULL_OUTPUT_MAX_BYTES, so that a failing test can report the largest difference.
The output is deterministic: rerunning it with the same Pillow rewrites the same file.
"""
import base64
import hashlib
import json
import os
import zlib

import numpy as np
import PIL
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "pil-golden.json")
FULL_OUTPUT_MAX_BYTES = 5000  # outputs up to this size are stored whole, larger ones as a hash only

MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
FILTERS = {
    "nearest": Image.NEAREST,
    "box": Image.BOX,
    "bilinear": Image.BILINEAR,
    "hamming": Image.HAMMING,
    "bicubic": Image.BICUBIC,
    "lanczos": Image.LANCZOS,
}


def pack(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def make_rgba(w, h, seed, noise_box=None):
    """RGBA test pattern: smooth ramps, hard edges, 1-px stripes, alpha with 0 and 255 areas, and seeded noise.

    Every smooth plane is a function of x, y or x + k*y, so its rows are shifted copies of each other and the
    channel-planar zlib stream stays small even for 300x200 images.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    img = np.zeros((h, w, 4), np.int64)
    img[..., 0] = x * 255 // max(w - 1, 1)
    img[..., 1] = y * 255 // max(h - 1, 1)
    t = (3 * (x + 2 * y)) % 510
    img[..., 2] = np.minimum(t, 509 - t) // 1  # triangle wave 0..254
    img[..., 3] = np.clip(3 * (x - y) + 128, 0, 255)
    # Sharp edges: a saturated block, a white diagonal and alternating 1-pixel columns.
    img[(5 * x >= w) & (20 * x < 9 * w) & (10 * y >= 3 * h) & (10 * y < 7 * h)] = (255, 0, 0, 255)
    img[np.abs(x * h - y * w) < h] = (255, 255, 255, 200)
    stripes = (10 * x >= 7 * w) & (10 * y < 4 * h)
    img[stripes & (x % 2 == 0)] = (0, 0, 0, 255)
    img[stripes & (x % 2 == 1)] = (250, 250, 250, 255)
    img[..., 3][10 * x < w] = 0  # fully transparent strip with colour underneath
    x0, y0, x1, y1 = noise_box if noise_box else (0, 0, w, h)
    img[y0:y1, x0:x1] = rng.integers(0, 256, size=(y1 - y0, x1 - x0, 4))
    return img.astype(np.uint8)


def mode_array(rgba, mode):
    """The other modes are derived from the RGBA pattern; test/unit/pil.test.ts derives them the same way."""
    if mode == "RGBA":
        return rgba
    if mode == "RGB":
        return rgba[..., :3]
    r, g, b = (rgba[..., i].astype(np.int32) for i in range(3))
    gray = ((r * 3 + g * 5 + b * 2) // 10).astype(np.uint8)
    return gray if mode == "L" else np.stack([gray, rgba[..., 3]], axis=-1)


def to_pil(arr, mode):
    return Image.fromarray(np.ascontiguousarray(arr), mode)


def from_pil(im):
    return np.ascontiguousarray(np.asarray(im)).tobytes()


def crop_round(arr, cw, ch):
    """torchvision F.center_crop: pad (d // 2, (d + 1) // 2) with zeros when larger, then offset round(d / 2.0)."""
    h, w = arr.shape[:2]
    pl, pt = ((cw - w) // 2 if cw > w else 0), ((ch - h) // 2 if ch > h else 0)
    pr, pb = ((cw - w + 1) // 2 if cw > w else 0), ((ch - h + 1) // 2 if ch > h else 0)
    pad = ((pt, pb), (pl, pr)) + ((0, 0),) * (arr.ndim - 2)
    arr = np.pad(arr, pad, constant_values=0)
    h, w = arr.shape[:2]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return arr[top:top + ch, left:left + cw]


def crop_floor(arr, cw, ch):
    """transformers image_transforms.center_crop, on (H, W, C) instead of (C, H, W)."""
    h, w = arr.shape[:2]
    top, left = (h - ch) // 2, (w - cw) // 2
    bottom, right = top + ch, left + cw
    if top >= 0 and bottom <= h and left >= 0 and right <= w:
        return arr[top:bottom, left:right]
    nh, nw = max(ch, h), max(cw, w)
    padded = np.zeros((nh, nw) + arr.shape[2:], arr.dtype)
    tp, lp = -(-(nh - h) // 2), -(-(nw - w) // 2)  # ceil((new - orig) / 2)
    padded[tp:tp + h, lp:lp + w] = arr
    top, bottom, left, right = top + tp, bottom + tp, left + lp, right + lp
    return padded[max(0, top):min(nh, bottom), max(0, left):min(nw, right)]


def shorter_side(w, h, size):
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


SOURCES = {
    # name: (width, height, seed, noise box or None for noise everywhere)
    "big": (300, 200, 1, (180, 120, 260, 180)),
    "square": (224, 224, 2, (20, 150, 90, 210)),
    "odd": (37, 23, 3, (0, 0, 18, 23)),
    "mid": (64, 48, 4, (30, 10, 64, 40)),
    "tiny": (28, 28, 5, None),
    "col": (1, 17, 6, None),
    "row": (17, 1, 7, None),
    "photo": (90, 60, 8, (10, 10, 80, 50)),
}

RESIZE_TARGETS = {
    "big": [(97, 61), (150, 100), (341, 256), (300, 61), (97, 200), (1, 1), (7, 1), (1, 9)],
    "square": [(74, 74), (75, 75), (32, 32), (224, 100), (100, 224)],
    "odd": [(100, 71), (12, 7), (37, 5), (1, 23), (38, 24), (36, 22)],
    "mid": [(63, 47), (21, 16), (128, 96), (64, 20), (50, 48)],
    "tiny": [(64, 64), (28, 64), (5, 5), (1, 1)],
    "col": [(1, 5), (3, 40), (1, 1), (2, 17)],
    "row": [(40, 1), (5, 3), (17, 4)],
    "photo": [(34, 25), (45, 30), (89, 59)],
}

CROP_TARGETS = {
    "mid": [(63, 47), (62, 46), (61, 45), (60, 43), (64, 48), (70, 50), (71, 51), (70, 40), (40, 55), (24, 24)],
    "odd": [(24, 24), (36, 22), (34, 21), (40, 30), (41, 23), (37, 26), (1, 1)],
    "col": [(1, 1), (3, 3), (1, 16), (4, 20)],
    "photo": [(63, 63), (66, 56), (88, 57), (95, 61)],
}


def main():
    images, cases = {}, []
    arrays = {}
    for name, (w, h, seed, box) in SOURCES.items():
        rgba = make_rgba(w, h, seed, box)
        # Channel-planar (all R, then all G, ...): zlib finds the repeated rows that interleaving would hide.
        images[name] = {"width": w, "height": h, "rgbaPlanes": pack(np.ascontiguousarray(rgba.transpose(2, 0, 1)).tobytes())}
        for mode in MODES:
            arrays[f"{name}-{mode}"] = mode_array(rgba, mode)

    def record(case, out_bytes, w, h, ch):
        assert len(out_bytes) == w * h * ch
        case.update(outWidth=w, outHeight=h, outChannels=ch, sha256=hashlib.sha256(out_bytes).hexdigest())
        if len(out_bytes) <= FULL_OUTPUT_MAX_BYTES:
            case["data"] = pack(out_bytes)
        cases.append(case)

    for name, targets in RESIZE_TARGETS.items():
        for mode, ch in MODES.items():
            key = f"{name}-{mode}"
            im = to_pil(arrays[key], mode)
            for (tw, th) in targets:
                for fname, fval in FILTERS.items():
                    out = im.resize((tw, th), fval)
                    assert out.mode == mode and out.size == (tw, th)
                    record({"op": "resize", "image": key, "width": tw, "height": th, "filter": fname}, from_pil(out), tw, th, ch)

    for name in SOURCES:
        for mode, ch in MODES.items():
            key = f"{name}-{mode}"
            im = to_pil(arrays[key], mode)
            if mode != "L":
                record({"op": "toGray", "image": key}, from_pil(im.convert("L")), im.width, im.height, 1)
            if mode != "RGB":
                record({"op": "toRgb", "image": key}, from_pil(im.convert("RGB")), im.width, im.height, 3)

    tv_checked = 0
    try:
        import torchvision.transforms.functional as TF
    except Exception:  # torchvision is optional: the numpy definitions above are the reference
        TF = None
    for name, targets in CROP_TARGETS.items():
        for mode, ch in MODES.items():
            key = f"{name}-{mode}"
            for (cw, chh) in targets:
                for rounding, fn in (("round", crop_round), ("floor", crop_floor)):
                    out = fn(arrays[key], cw, chh)
                    assert out.shape[:2] == (chh, cw), (key, cw, chh, rounding, out.shape)
                    if rounding == "round" and TF is not None:
                        ref = np.asarray(TF.center_crop(to_pil(arrays[key], mode), [chh, cw]))
                        assert np.array_equal(ref, out), f"torchvision disagrees on {key} {cw}x{chh}"
                        tv_checked += 1
                    case = {"op": "centerCrop", "image": key, "width": cw, "height": chh, "rounding": rounding}
                    record(case, np.ascontiguousarray(out).tobytes(), cw, chh, ch)

    sizes = []
    for (w, h) in [(900, 600), (600, 900), (500, 375), (375, 500), (224, 224), (1, 1000), (1000, 1), (641, 427), (427, 641), (333, 1000)]:
        for size in (224, 256, 232, 384, 1):
            sizes.append({"width": w, "height": h, "size": size, "expected": list(shorter_side(w, h, size))})
    if TF is not None:
        from torchvision.transforms.functional import _compute_resized_output_size
        for s in sizes:
            nh, nw = _compute_resized_output_size((s["height"], s["width"]), [s["size"]])
            assert [nw, nh] == s["expected"], s

    doc = {
        "generator": "scripts/make-pil-golden.py",
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "torchvisionCrossChecks": tv_checked,
        "images": images,
        "cases": cases,
        "shorterSide": sizes,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    full = sum(1 for c in cases if "data" in c)
    print(f"wrote {OUT}: {len(cases)} cases ({full} with full output), {len(sizes)} size cases, "
          f"{tv_checked} torchvision cross-checks, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
