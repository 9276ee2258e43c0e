#!/usr/bin/python3
"""JPEG fixtures and Pillow goldens for the JPEG decoding tests (test/unit/jpeg-*.test.ts).

    /usr/bin/python3 scripts/make-jpeg-golden.py      # (re)writes test/fixtures/jpeg/

Writes test/fixtures/jpeg/:
    *.jpg         five JPEGs cut from scikit-learn's sample photos (CC BY 2.0, see ATTRIBUTION.md): 4:2:0 and 4:4:4,
                  baseline and progressive, gray, one with EXIF orientation 6 (stored landscape, shown portrait)
    golden.json   per image and case (a torchvision-style Resize(N) + CenterCrop, or a straight resize), two outputs
                  of Pillow, as base64 zlib-compressed interleaved 8-bit pixels:
                    exact  Image.open(p).convert('RGB' | 'L') -> resize -> crop  (what torchvision computes)
                    draft  the same after Image.draft(mode, target): libjpeg's DCT-domain scaling by 1/2, 1/4 or 1/8
                           to the smallest size that is still at least the resize target (PIL's shrink-on-load)
The resize target is computed on the full image, as OOD Lens does (torchvision's size arithmetic). With "exif",
the image is turned by ImageOps.exif_transpose after decoding (before the resize). Deterministic: a rerun with the
same Pillow writes identical files. Needs Debian's python3-pil, python3-numpy, python3-sklearn.
"""
import base64
import json
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps
from sklearn.datasets import load_sample_image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "jpeg"
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "box": Image.BOX}
ORIENTATION = 0x0112

# name -> (photo, crop box, size, save options)
IMAGES = {
    "china_900x600_420.jpg": ("china.jpg", (40, 20, 640, 420), (900, 600), {"quality": 75}),
    "china_640x427_444_progressive.jpg": ("china.jpg", (0, 0, 640, 427), (640, 427), {"quality": 75, "subsampling": 0, "progressive": True}),
    "flower_720x480_exif6.jpg": ("flower.jpg", (100, 0, 640, 360), (720, 480), {"quality": 80, "orientation": 6}),
    "flower_333x500.jpg": ("flower.jpg", (200, 0, 484, 427), (333, 500), {"quality": 90}),
    "china_gray_600x400.jpg": ("china.jpg", (60, 27, 600, 387), (600, 400), {"quality": 85, "gray": True}),
}
# case -> preprocessing as the test passes it to OOD Lens (PreprocessSpec fields)
CASES = {
    "shorter200_crop24": {"resize": {"shorter": 200}, "width": 24, "height": 24, "interpolation": "bilinear"},
    "shorter64_crop32": {"resize": {"shorter": 64}, "width": 32, "height": 32, "interpolation": "bilinear"},
    "straight40x32_bicubic": {"resize": None, "width": 40, "height": 32, "interpolation": "bicubic"},
    "shorter100_crop32_lanczos_exif": {"resize": {"shorter": 100}, "width": 32, "height": 32, "interpolation": "lanczos", "exif": True},
    "shorter64_crop32_box": {"resize": {"shorter": 64}, "width": 32, "height": 32, "interpolation": "box"},
}


def pack(a):
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), 9)).decode("ascii")


def make_images():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (photo, box, size, opts) in IMAGES.items():
        img = Image.fromarray(load_sample_image(photo)).crop(box).resize(size, Image.LANCZOS)
        opts = dict(opts)
        if opts.pop("gray", False):
            img = img.convert("L")
        orientation = opts.pop("orientation", None)
        if orientation:
            # Stored turned back, so that applying the tag shows the photo upright.
            img = img.transpose(Image.Transpose.ROTATE_90)
            exif = Image.Exif()
            exif[ORIENTATION] = orientation
            opts["exif"] = exif.tobytes()
        img.save(OUT / name, "JPEG", **opts)


def target(w, h, case):
    """torchvision's Resize size arithmetic (shorter side, long side truncated), or the straight size."""
    r = case["resize"]
    if r is None:
        return case["width"], case["height"]
    s = r["shorter"]
    return (s, int(s * h / w)) if w <= h else (int(s * w / h), s)


def center_crop(a, cw, ch):
    """torchvision's F.center_crop offsets (round half to even); the cases never need padding."""
    h, w = a.shape[:2]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return a[top:top + ch, left:left + cw]


def pixels(path, case, draft):
    img = Image.open(path)
    exif = case.get("exif", False)
    mode = "L" if img.mode == "L" else "RGB"
    w, h = img.size
    turned = exif and img.getexif().get(ORIENTATION, 1) >= 5
    rw, rh = target(h, w, case) if turned else target(w, h, case)
    if draft:
        # The draft request is in stored orientation.
        img.draft(mode, (rh, rw) if turned else (rw, rh))
    img = img.convert(mode)
    if exif:
        img = ImageOps.exif_transpose(img)
    out = np.asarray(img.resize((rw, rh), FILTERS[case["interpolation"]]))
    return center_crop(out, case["width"], case["height"]), img.size


def main():
    make_images()
    golden = {"pillow": PIL.__version__, "cases": CASES, "images": {}}
    for name in IMAGES:
        entry = {}
        for case_name, case in CASES.items():
            if case.get("exif") and "exif" not in name:
                continue
            exact, _ = pixels(OUT / name, case, False)
            draft, drafted = pixels(OUT / name, case, True)
            entry[case_name] = {"channels": 1 if exact.ndim == 2 else 3, "draftSize": list(drafted), "exact": pack(exact), "draft": pack(draft)}
        golden["images"][name] = entry
    (OUT / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    (OUT / "ATTRIBUTION.md").write_text(
        "# Photos\n\nCrops and rescales of scikit-learn's sample photos china.jpg and flower.jpg (CC BY 2.0), made by\n"
        "`scripts/make-jpeg-golden.py`; attribution as in test/parity/images/ATTRIBUTION.md.\n")
    print(json.dumps({name: (OUT / name).stat().st_size for name in IMAGES}))


if __name__ == "__main__":
    main()
