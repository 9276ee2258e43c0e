#!/usr/bin/python3
"""Parity fixtures: small ONNX classifiers exported the way users export them, real photos, and the logits
the user's own PyTorch / torchvision (or transformers-style) evaluation gives for them.

Usage (from the repository root):
    scripts/make-parity.py                          # (re)writes test/parity/{images,models,golden.json,README.md}
    scripts/make-parity.py --dump-inputs DIR        # also writes every case's preprocessed input tensors to DIR
                                                    # (raw little-endian bytes + DIR/manifest.json; a debugging aid)

Needs Debian's Python (/usr/bin/python3) with python3-torch python3-torchvision python3-onnx python3-pil
python3-numpy python3-sklearn. No network, no pretrained weights: every network has seeded random weights
(the point is parity, not accuracy). CPU only, one thread, seeded and deterministic: a rerun with the same
package versions writes byte-identical files. About 5 seconds.

The weights are random, but not arbitrary: BatchNorm running statistics are set from the parity images themselves
(as training would leave them) and each final layer is rescaled so that its logits vary by ~2 from image to image.
Without that, random nets give near-constant logits (a parity check on them would not notice wrong preprocessing) or
are chaotic (one gray level moving logits by units). golden.json records, per case, the float32-vs-float64 error of
the PyTorch evaluation (tolerance = max(1e-4, 10x that), rounded up) and how far the output moves when every 8-bit
pixel value changes by +-1 (a yardstick for resampling / JPEG-decoder differences).

Writes test/parity/:
    images/class_{a,b}/NN_*.{jpg,png}   12 crops/rescales of scikit-learn's two sample photos (CC BY 2.0,
                                        see images/ATTRIBUTION.md): JPEG, PNG, gray, RGBA, palette, odd sizes
    models/<case>/model.onnx (+ model.onnx.data, config.json, preprocessor_config.json where a user has them)
    golden.json                         per case: the hints a user passes to OOD Lens, the reference transform,
                                        and per image the logits (and probabilities / features where relevant)
    README.md

Images are read as torchvision's ImageFolder reads them (Image.open(p).convert('RGB'), no EXIF transpose),
except hf_style, which follows transformers' load_image + CLIPImageProcessor (see hf_preprocess).
"""
import argparse
import copy
import hashlib
import io
import json
import math
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import PIL
import torch
import torch.nn as nn
import torchvision
from onnx import TensorProto, numpy_helper
from PIL import Image, ImageOps
from sklearn.datasets import load_sample_image
from torchvision import transforms as T
from torchvision.models.resnet import BasicBlock, conv1x1
from torchvision.transforms import InterpolationMode

ROOT = Path(__file__).resolve().parent.parent
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
LABELS = ["tench", "English springer", "cassette player", "chain saw", "church",
          "French horn", "garbage truck", "gas pump", "golf ball", "parachute"]  # Imagenette's 10 classes
SKLEARN_README = Path("/usr/lib/python3/dist-packages/sklearn/datasets/images/README.txt")
VAR_FLOOR = 0.25
F32_TOL = 1e-4   # absolute, on logits of O(1..10), same input tensor: torch CPU vs onnxruntime float32


# ---------------------------------------------------------------- images

def make_images(out):
    """Writes the 12 photos; returns their paths relative to `out`'s parent (test/parity), sorted."""
    china = Image.fromarray(load_sample_image("china.jpg"))    # 640x427 RGB
    flower = Image.fromarray(load_sample_image("flower.jpg"))  # 640x427 RGB
    assert china.size == flower.size == (640, 427)
    L = Image.LANCZOS

    def rgba(img):
        """Alpha varies across and down the image, from 0 (fully transparent, RGB still stored) to 255."""
        w, h = img.size
        x = np.arange(w, dtype=np.float64)[None, :] / (w - 1)
        y = np.arange(h, dtype=np.float64)[:, None] / (h - 1)
        a = np.clip(np.round(255 * (1.25 * x - 0.15 + 0.2 * np.sin(6.0 * y))), 0, 255).astype(np.uint8)
        out = img.copy()
        out.putalpha(Image.fromarray(a, "L"))
        return out

    items = [
        # (class, name, image, save kwargs)
        ("class_a", "01_china_200x150.jpg", china.resize((200, 150), L), {"quality": 90}),
        ("class_a", "02_china_97x131.jpg", china.crop((250, 0, 566, 427)).resize((97, 131), L), {"quality": 90}),
        ("class_a", "03_china_640x427.jpg", china, {"quality": 90}),
        ("class_a", "04_china_gray_160x120.png", china.convert("L").resize((160, 120), L), {}),
        ("class_a", "05_china_rgba_150x100.png", rgba(china.crop((100, 60, 550, 360)).resize((150, 100), L)), {}),
        ("class_a", "06_china_tall_50x300.jpg", china.crop((300, 0, 371, 427)).resize((50, 300), L), {"quality": 90}),
        ("class_b", "07_flower_333x500.jpg", flower.crop((100, 0, 384, 427)).resize((333, 500), L), {"quality": 90}),
        ("class_b", "08_flower_64x64.jpg", flower.crop((106, 0, 533, 427)).resize((64, 64), L), {"quality": 90}),
        ("class_b", "09_flower_rgb_120x90.png", flower.resize((120, 90), L), {}),
        ("class_b", "10_flower_gray_200x133.jpg", flower.convert("L").resize((200, 133), L), {"quality": 90}),
        ("class_b", "11_flower_palette_100x140.png",
         flower.crop((150, 0, 455, 427)).resize((100, 140), L).quantize(
             colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG), {}),
        ("class_b", "12_flower_wide_300x48.jpg", flower.crop((0, 180, 640, 282)).resize((300, 48), L), {"quality": 90}),
    ]
    paths = []
    for cls, name, img, kw in items:
        d = out / cls
        d.mkdir(parents=True, exist_ok=True)
        img.save(d / name, **kw)   # PIL writes no EXIF unless asked: no orientation tags
        paths.append(f"images/{cls}/{name}")
    write_attribution(out / "ATTRIBUTION.md")
    return sorted(paths)


def write_attribution(path):
    readme = SKLEARN_README.read_text() if SKLEARN_README.exists() else "(scikit-learn's README.txt not found)"
    path.write_text(
        "# Photos\n\n"
        "Every image in this folder is a crop and/or rescale (and for some a conversion to gray, RGBA or a\n"
        "64-colour palette) of one of the two sample photos shipped with scikit-learn\n"
        "(`sklearn.datasets.load_sample_image('china.jpg')`, `...('flower.jpg')`), made by\n"
        "`scripts/make-parity.py`. Files `01`-`06` come from china.jpg, `07`-`12` from flower.jpg.\n\n"
        "Both are licensed under Creative Commons Attribution 2.0 (CC BY 2.0,\n"
        "https://creativecommons.org/licenses/by/2.0/). Changes: cropped, resized, colour mode converted,\n"
        "re-encoded. scikit-learn's attribution, verbatim from `sklearn/datasets/images/README.txt`\n"
        "(note that it credits danielbuechele for both photos while its flower.jpg links point to the\n"
        "Flickr user vultilion):\n\n"
        "```\n" + readme.strip() + "\n```\n")


def image_info(root, rel):
    with Image.open(root / rel) as im:
        info = {"format": im.format, "mode": im.mode, "width": im.size[0], "height": im.size[1]}
        rgb = np.asarray(im.convert("RGB"))
    info["rgb_sha256"] = hashlib.sha256(rgb.tobytes()).hexdigest()   # of pil_loader's decoded uint8 HxWx3
    return info


def pil_loader(path):
    """torchvision.datasets.folder.pil_loader: no EXIF transpose, palette/gray/RGBA -> RGB (alpha dropped)."""
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


# ---------------------------------------------------------------- networks (random, seeded)

def randomize_bn(model, gen):
    """Random BatchNorm scale/shift, so the folding into Conv at export actually changes the weights."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.6 + 0.8 * torch.rand(n, generator=gen)
            m.bias.data = 0.2 * torch.randn(n, generator=gen)


def calibrate_bn(model, x, var_floor=VAR_FLOOR):
    """Sets BatchNorm running statistics to those of `x` (what training leaves behind). With statistics that do not
    match the activations, a random deep net (MobileNetV3 especially) gives nearly the same features for every image."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None   # cumulative average over the (single) batch
    model.train()
    with torch.no_grad():
        model(x)
    for m in bns:
        m.momentum = 0.1
        # A channel that hardly varies over 12 images would get a huge gain (1 / sqrt(var)) and make the net
        # chaotic (one gray level moving the logits by units): floor the variance at a fraction of the layer's mean.
        m.running_var.clamp_(min=var_floor * float(m.running_var.mean()))
    return model.eval()


class SmallResNet(nn.Module):
    """ResNet from torchvision BasicBlocks: 3x64x64 -> 16 -> 16/32/64 (stride 1/2/2) -> GAP -> Linear(64, 10)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2, nn.Sequential(conv1x1(16, 32, 2), nn.BatchNorm2d(32))))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2, nn.Sequential(conv1x1(32, 64, 2), nn.BatchNorm2d(64))))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def features(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        return self.fc(self.features(x))


class SmallCNN(nn.Module):
    """conv-BN-ReLU x3 (stride 2) -> GAP -> Linear: the hf_style and uint8_input body."""

    def __init__(self, num_classes=10):
        super().__init__()
        layers, c = [], 3
        for o in (16, 32, 64):
            layers += [nn.Conv2d(c, o, 3, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
            c = o
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.body(x)), 1))


class Uint8Net(nn.Module):
    """Takes raw uint8 NCHW pixels; casts, scales by 1/255 and ImageNet-normalizes inside the graph."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.net = SmallCNN()

    def forward(self, x):
        x = x.float() / 255.0
        return self.net((x - self.mean) / self.std)


class KerasStyleNet(nn.Module):
    """What tf2onnx makes of a small Keras model: NHWC input, Transpose in, Conv/ReLU/MaxPool, Transpose back,
    Flatten in NHWC order, Dense as MatMul + Add, Softmax output."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.kernel = nn.Parameter(torch.randn(8 * 8 * 16, 10) * 0.05)   # Keras Dense kernel: [in, out]
        self.bias = nn.Parameter(torch.randn(10) * 0.1)

    def features(self, x):
        x = x.permute(0, 3, 1, 2)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)

    def logits(self, x):
        return torch.matmul(self.features(x), self.kernel) + self.bias

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=-1)


class GrayNet(nn.Module):
    """MNIST-style: 1x28x28 -> conv/pool x2 -> flatten 784 -> 32 -> 10."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def fit_head(weight, bias, feats, seed, spread=2.0):
    """Rescales a random final layer so that, over the parity images, every logit varies with the image by
    `spread` (std) around a small random offset. Random heads on ReLU features otherwise give near-constant
    logits dominated by the mean feature, and a parity test on those would hide preprocessing errors.
    weight: [out, in] (a Keras kernel is passed transposed), feats: [n, in] inputs of that layer."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = feats @ weight.T
        k = spread / z.std(0).clamp_min(1e-6)
        rel = float((feats.std(0).mean() / feats.abs().mean().clamp_min(1e-12)))
        assert rel > 0.05, f"features hardly depend on the image (relative spread {rel:.2g}): the head would amplify noise"
        print(f"  head: gain {float(k.max()):7.3g}, feature spread / magnitude {rel:.3g}")
        weight.mul_(k[:, None])
        bias.copy_(-z.mean(0) * k + 0.5 * torch.randn(bias.shape, generator=gen))


def linear_input(model, layer, x):
    """The tensor entering `layer` when `model(x)` runs."""
    got = []
    h = layer.register_forward_pre_hook(lambda m, inp: got.append(inp[0].detach().clone()))
    with torch.no_grad():
        model(x)
    h.remove()
    return got[0]


def seeded(seed, build, random_affine=True):
    torch.manual_seed(seed)
    model = build()
    if random_affine:
        randomize_bn(model, torch.Generator().manual_seed(seed + 1000))
    return model.eval()


def build_mobilenet():
    # BN scale/shift left at torchvision's 1/0: with random ones this random MobileNet is chaotic (see calibrate_bn).
    m = seeded(1, lambda: torchvision.models.mobilenet_v3_small(weights=None, num_classes=10, width_mult=0.25),
               random_affine=False)
    with torch.no_grad():   # torchvision inits the classifier with N(0, 0.01): logits would be ~1e-2
        nn.init.normal_(m.classifier[0].weight, 0.0, 1.0 / math.sqrt(m.classifier[0].in_features))
    return m


# ---------------------------------------------------------------- export helpers

def default_io_names(model, dummy, opset):
    """The names torch.onnx.export gives when none are passed (found by exporting once)."""
    buf = io.BytesIO()
    torch.onnx.export(model, dummy, buf, opset_version=opset)
    g = onnx.load_from_string(buf.getvalue()).graph
    return [i.name for i in g.input], [o.name for o in g.output]


def export(model, dummy, path, opset, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, dummy, str(path), opset_version=opset, **kw)


def convert_to_fp16(src, dst):
    """float32 -> float16 everywhere (initializers, Constant/Cast nodes, graph inputs/outputs, value_info), as
    onnxconverter_common.float16.convert_float_to_float16(model, keep_io_types=False) does for this op set.
    torch 1.13 cannot trace a half model on CPU ('slow_conv2d_cpu' not implemented for 'Half')."""
    m = onnx.load(str(src))
    g = m.graph
    for i, init in enumerate(list(g.initializer)):
        if init.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for node in g.node:
        for a in node.attribute:
            if node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    assert {n.op_type for n in g.node} <= {"Conv", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm"}, \
        "convert_to_fp16 only knows the ResNet's ops"
    onnx.save_model(m, str(dst))


def io_summary(path):
    m = onnx.load(str(path), load_external_data=False)
    init = {i.name for i in m.graph.initializer}

    def desc(vi):
        t = vi.type.tensor_type
        dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in t.shape.dim]
        return f"{vi.name} {TensorProto.DataType.Name(t.elem_type).lower()}{dims}"
    ins = [desc(v) for v in m.graph.input if v.name not in init]
    outs = [desc(v) for v in m.graph.output]
    return ins, outs, m.opset_import[0].version


# ---------------------------------------------------------------- reference preprocessing

def tv_resize_hw(w, h, size):
    """torchvision's _compute_resized_output_size for an int size (shorter side -> size, floor for the other)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)   # (h, w)


def tv_crop_top_left(h, w, ch, cw):
    """torchvision CenterCrop: int(round((H - ch) / 2.0)) -- Python round, i.e. half to even."""
    return int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))


def check_crop_geometry(img, size, crop, interp):
    """Asserts that torchvision's Resize+CenterCrop equals a crop at the offsets we record (so they are right)."""
    h, w = tv_resize_hw(img.size[0], img.size[1], size)
    resized = T.Resize(size, interpolation=interp)(img)
    assert resized.size == (w, h), (resized.size, (w, h))
    top, left = tv_crop_top_left(h, w, crop, crop)
    a = np.asarray(T.CenterCrop(crop)(resized))
    b = np.asarray(resized)[top:top + crop, left:left + crop]
    assert np.array_equal(a, b)
    return {"resized_hw": [h, w], "crop_top_left": [top, left]}


def hf_load_image(path):
    """transformers.image_utils.load_image: PIL open, ImageOps.exif_transpose, convert('RGB')."""
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    return img.convert("RGB")


def hf_preprocess(path, cfg):
    """CLIPImageProcessor.preprocess (the slow, PIL/numpy one), step by step:
    convert_to_rgb (no-op: already RGB) -> to_numpy_array (uint8 HWC) -> resize: get_resize_output_image_size
    (default_to_square=False: short -> shortest_edge, long -> int(shortest_edge * long / short)), then
    image_transforms.resize: uint8 array -> PIL (no rescale) -> PIL.resize((w, h), resample, reducing_gap=None)
    -> uint8 array -> center_crop: top = (H - ch) // 2, left = (W - cw) // 2 (floor, unlike torchvision)
    -> rescale: astype(float64) * factor, then astype(float32) -> normalize: (x - mean) / std with mean/std
    as float32 arrays, in float32 -> HWC to CHW."""
    img = hf_load_image(path)
    arr = np.array(img)                                            # uint8 HxWx3
    h, w = arr.shape[:2]
    se = cfg["size"]["shortest_edge"]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = se, int(se * long / short)
    oh, ow = (new_long, new_short) if w <= h else (new_short, new_long)
    arr = np.array(Image.fromarray(arr).resize((ow, oh), resample=cfg["resample"], reducing_gap=None))
    ch, cw = cfg["crop_size"]["height"], cfg["crop_size"]["width"]
    top, left = (oh - ch) // 2, (ow - cw) // 2
    assert top >= 0 and left >= 0   # no padding path for these images
    arr = arr[top:top + ch, left:left + cw]
    x = (arr.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    mean = np.array(cfg["image_mean"], dtype=np.float32)
    std = np.array(cfg["image_std"], dtype=np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)), {"resized_hw": [oh, ow], "crop_top_left": [top, left]}


def tv_input(path, transform):
    return transform(pil_loader(path)).numpy()


# ---------------------------------------------------------------- cases

def round_up_1sig(v):
    e = math.floor(math.log10(v))
    return float(f"{math.ceil(v / 10 ** e - 1e-9)}e{e}")


def float_checks(model, x, ref, pipeline, call):
    """tolerance: max(F32_TOL, 10 x float32_error) rounded up to one significant digit, where float32_error =
    max |torch float32 - torch float64| of the same model on the same inputs (a runtime's float32 error is of that
    order; onnxruntime-node 1.30 was within 2x of it here).
    one_level_sensitivity: max |change of the output| when every 8-bit pixel value behind the input tensor moves by
    +-1 (random signs, seeded): a yardstick for how much resampling / JPEG-decoding differences matter."""
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        y64 = call(m64, x.double() if x.is_floating_point() else x).numpy()
    err = float(np.abs(y64 - ref.astype(np.float64)).max())
    gen = torch.Generator().manual_seed(99)
    sign = torch.randint(0, 2, x.shape, generator=gen) * 2 - 1
    if x.dtype == torch.uint8:
        xn = (x.int() + sign).clamp(0, 255).to(torch.uint8)
    else:
        std = torch.tensor(pipeline["std"] or [1.0], dtype=torch.float32)
        shape = [1] * x.dim()
        shape[1 if pipeline["layout"] == "NCHW" else -1] = -1
        xn = (x.float() + sign.float() * (pipeline["scale"] / std).view(shape)).to(x.dtype)
    with torch.no_grad():
        yn = call(model, xn).numpy()
    sens = float(np.abs(yn.astype(np.float64) - ref).max())
    return {"tolerance": round_up_1sig(max(F32_TOL, 10 * err)), "float32_error": err, "one_level_sensitivity": sens}


def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def build_cases(par, image_paths):
    """Exports every model; returns {case: dict(meta..., inputs=[np arrays], samples=[dict])}."""
    models = par / "models"
    cases = {}

    def add(name, hints, transform, output, inputs, samples, pipeline, model=None, call=None, tolerance=None, **extra):
        """One case. Unless `tolerance` is given, it is derived from `model` (see float_checks)."""
        checks = {}
        if model is not None:
            key = "probabilities" if output == "probabilities" else "logits"
            ref = np.array([s[key] for s in samples], dtype=np.float32)
            checks = float_checks(model, torch.from_numpy(np.stack(inputs)), ref, pipeline, call or (lambda m, x: m(x)))
            tolerance = checks.pop("tolerance") if tolerance is None else tolerance
        cases[name] = {"model": f"models/{name}/model.onnx", "hints": hints, "transform": transform,
                       "pipeline": pipeline, "output": output, "tolerance": tolerance, **checks, **extra,
                       "_inputs": inputs, "samples": samples}

    imgs = [(rel, par / rel) for rel in image_paths]
    norm = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)

    # ---- ResNet family
    stretch = T.Compose([T.Resize((64, 64)), T.ToTensor(), norm])
    xs = [tv_input(p, stretch) for _, p in imgs]
    resnet = calibrate_bn(seeded(0, SmallResNet), torch.from_numpy(np.stack(xs)))
    fit_head(resnet.fc.weight, resnet.fc.bias, linear_input(resnet, resnet.fc, torch.from_numpy(np.stack(xs))), 10)
    dummy = torch.randn(1, 3, 64, 64)
    (in_name,), (out_name,) = default_io_names(resnet, dummy, 17)
    export(resnet, dummy, models / "resnet" / "model.onnx", 17,
           dynamic_axes={in_name: {0: "batch_size"}, out_name: {0: "batch_size"}})
    # The bare one-liner: no names, no dynamic axes, the exporter's default opset (14 in torch 1.13).
    (models / "resnet_batch1").mkdir(parents=True, exist_ok=True)
    torch.onnx.export(resnet, dummy, str(models / "resnet_batch1" / "model.onnx"))
    for c in ("resnet_crop", "resnet_bicubic_crop"):
        (models / c).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(models / "resnet" / "model.onnx", models / c / "model.onnx")

    def run_resnet(xs):
        with torch.no_grad():
            x = torch.from_numpy(np.stack(xs))
            f = resnet.features(x)
            return resnet.fc(f).numpy(), f.numpy()

    logits, feats = run_resnet(xs)
    desc = ("Resize((64, 64)) [bilinear, PIL] -> ToTensor -> Normalize(imagenet mean/std); "
            "image = Image.open(p).convert('RGB')")
    pipe = {"loader": "pil_convert_rgb", "resize": [64, 64], "interpolation": "bilinear", "crop": None,
            "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "layout": "NCHW", "dtype": "float32"}
    add("resnet", {"preset": "imagenet"}, desc, "logits", xs,
        [{"image": r, "logits": f32list(l), "features": f32list(f)} for (r, _), l, f in zip(imgs, logits, feats)],
        pipe, model=resnet, features_note="input of the final Gemm (fc): flatten(GlobalAveragePool(layer3)), 64 floats")
    add("resnet_batch1", {"preset": "imagenet"}, desc + "; model has a fixed batch of 1", "logits", xs,
        [{"image": r, "logits": f32list(l)} for (r, _), l in zip(imgs, logits)], pipe, model=resnet)

    def crop_case(name, size, interp, hints, desc):
        tf = T.Compose([T.Resize(size, interpolation=interp), T.CenterCrop(64), T.ToTensor(), norm])
        xs, geo = [], []
        for _, p in imgs:
            img = pil_loader(p)
            geo.append(check_crop_geometry(img, size, 64, interp))
            xs.append(tf(img).numpy())
        logits, _ = run_resnet(xs)
        add(name, hints, desc, "logits", xs,
            [{"image": r, "logits": f32list(l), **g} for (r, _), l, g in zip(imgs, logits, geo)],
            {"loader": "pil_convert_rgb", "resize": size, "interpolation": interp.value, "crop": [64, 64],
                      "crop_rounding": "torchvision: int(round((H - 64) / 2.0)), half to even",
                      "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                      "layout": "NCHW", "dtype": "float32"}, model=resnet)

    crop_case("resnet_crop", 72, InterpolationMode.BILINEAR, {"preset": "imagenet", "resize": 72, "crop": 64},
              "Resize(72) [shorter side, bilinear, PIL] -> CenterCrop(64) -> ToTensor -> Normalize(imagenet)")
    crop_case("resnet_bicubic_crop", 80, InterpolationMode.BICUBIC,
              {"preset": "imagenet", "resize": 80, "crop": 64, "interpolation": "bicubic"},
              "Resize(80, BICUBIC) [shorter side, PIL] -> CenterCrop(64) -> ToTensor -> Normalize(imagenet)")

    # ---- fp16: the ResNet with float16 weights, input and output
    fp16_path = models / "fp16" / "model.onnx"
    fp16_path.parent.mkdir(parents=True, exist_ok=True)
    convert_to_fp16(models / "resnet" / "model.onnx", fp16_path)
    half_ref = copy.deepcopy(resnet).half().float()   # every weight and BN statistic rounded to fp16
    xs16 = [x.astype(np.float16) for x in xs]
    with torch.no_grad():
        logits16 = half_ref(torch.from_numpy(np.stack(xs16).astype(np.float32))).numpy()
    # How far rounding the weights alone moves the logits, as a yardstick for the tolerance:
    diff = float(np.abs(logits16 - logits).max())
    add("fp16", {"preset": "imagenet"},
        desc + "; input and output float16. Golden = float32 evaluation of the ResNet with weights and BN "
        "statistics rounded to fp16, on the input rounded to fp16. The .onnx folds BN in fp32 and then rounds, "
        "and an fp16 runtime also rounds every activation: onnxruntime-node 1.30 (CPU) was ~0.03 off when this "
        "was written, hence the tolerance of 0.1",
        "logits", xs16, [{"image": r, "logits": f32list(l)} for (r, _), l in zip(imgs, logits16)],
        {**pipe, "dtype": "float16"}, tolerance=0.1, fp16_weight_rounding_max_abs_diff=diff)

    # ---- external data
    ext = models / "external_data" / "model.onnx"
    ext.parent.mkdir(parents=True, exist_ok=True)
    m = onnx.load(str(models / "resnet" / "model.onnx"))
    onnx.save_model(m, str(ext), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)
    add("external_data", {"preset": "imagenet"},
        desc + "; weights in model.onnx.data (onnx external data, one file, every tensor)",
        "logits", xs, [{"image": r, "logits": f32list(l)} for (r, _), l in zip(imgs, logits)], pipe, model=resnet)

    # ---- timm style: mobilenet_v3_small + timm config.json, timm's eval transform for crop_mode 'center'
    scale = math.floor(64 / 0.875)   # timm transforms_imagenet_eval: floor(img_size / crop_pct) = 73
    tf = T.Compose([T.Resize(scale, interpolation=InterpolationMode.BICUBIC), T.CenterCrop(64), T.ToTensor(), norm])
    xs_t, geo = [], []
    for _, p in imgs:
        img = pil_loader(p)
        geo.append(check_crop_geometry(img, scale, 64, InterpolationMode.BICUBIC))
        xs_t.append(tf(img).numpy())
    mb = calibrate_bn(build_mobilenet(), torch.from_numpy(np.stack(xs_t)), var_floor=1.0)
    head = mb.classifier[-1]
    fit_head(head.weight, head.bias, linear_input(mb, head, torch.from_numpy(np.stack(xs_t))), 11)
    timm_dir = models / "timm_style"
    # timm's own exporter (timm/utils/onnx.py) names the tensors input0 / output0 with a dynamic 'batch' axis.
    export(mb, torch.randn(1, 3, 64, 64), timm_dir / "model.onnx", 17, input_names=["input0"],
           output_names=["output0"], dynamic_axes={"input0": {0: "batch"}, "output0": {0: "batch"}})
    timm_cfg = {"architecture": "mobilenetv3_small_050", "num_classes": 10, "num_features": 256,
                "pretrained_cfg": {"input_size": [3, 64, 64], "interpolation": "bicubic",
                                   "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                                   "crop_pct": 0.875, "crop_mode": "center"},
                "label_names": LABELS}
    write_json(timm_dir / "config.json", timm_cfg)
    with torch.no_grad():
        lt = mb(torch.from_numpy(np.stack(xs_t))).numpy()
    add("timm_style", {},
        f"timm eval transform for crop_pct 0.875, crop_mode center: Resize({scale}, BICUBIC) [floor(64 / 0.875), "
        "shorter side, PIL] -> CenterCrop(64) -> ToTensor -> Normalize(imagenet); all read from config.json",
        "logits", xs_t, [{"image": r, "logits": f32list(l), **g} for (r, _), l, g in zip(imgs, lt, geo)],
        {"loader": "pil_convert_rgb", "resize": scale, "interpolation": "bicubic", "crop": [64, 64],
                  "crop_rounding": "torchvision: int(round((H - 64) / 2.0)), half to even",
                  "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                  "layout": "NCHW", "dtype": "float32"}, model=mb)

    # ---- Hugging Face (optimum-style) folder
    pp = {"do_resize": True, "size": {"shortest_edge": 72}, "resample": 3, "do_center_crop": True,
          "crop_size": {"height": 64, "width": 64}, "do_rescale": True, "rescale_factor": 0.00392156862745098,
          "do_normalize": True, "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD),
          "image_processor_type": "CLIPImageProcessor"}
    xs_h, geo = zip(*[hf_preprocess(p, pp) for _, p in imgs])
    hf = calibrate_bn(seeded(2, SmallCNN), torch.from_numpy(np.stack(xs_h)))
    fit_head(hf.classifier.weight, hf.classifier.bias, linear_input(hf, hf.classifier, torch.from_numpy(np.stack(xs_h))), 12)
    hf_dir = models / "hf_style"
    export(hf, torch.randn(1, 3, 64, 64), hf_dir / "model.onnx", 14, input_names=["pixel_values"],
           output_names=["logits"], dynamic_axes={"pixel_values": {0: "batch_size"}, "logits": {0: "batch_size"}})
    write_json(hf_dir / "preprocessor_config.json", pp)
    write_json(hf_dir / "config.json", {
        "architectures": ["ResNetForImageClassification"], "model_type": "resnet",
        "id2label": {str(i): n for i, n in enumerate(LABELS)}, "label2id": {n: i for i, n in enumerate(LABELS)},
        "num_channels": 3, "torch_dtype": "float32"})
    with torch.no_grad():
        lh = hf(torch.from_numpy(np.stack(xs_h))).numpy()
    add("hf_style", {},
        "transformers load_image (exif_transpose, convert('RGB')) + CLIPImageProcessor (slow/PIL): resize shortest "
        "edge to 72 [PIL BICUBIC, long side floor(72 * long / short)] -> center crop 64x64 with top = (H - 64) // 2, "
        "left = (W - 64) // 2 -> x * (1/255) in float64, cast to float32 -> (x - clip mean) / clip std in float32",
        "logits", list(xs_h), [{"image": r, "logits": f32list(l), **g} for (r, _), l, g in zip(imgs, lh, geo)],
        {"loader": "exif_transpose_convert_rgb", "resize": 72, "interpolation": "bicubic", "crop": [64, 64],
                  "crop_rounding": "transformers: (H - 64) // 2, floor", "scale": 0.00392156862745098,
                  "mean": list(CLIP_MEAN), "std": list(CLIP_STD), "layout": "NCHW", "dtype": "float32"}, model=hf)

    # ---- Keras style: NHWC input, softmax output
    tf = T.Compose([T.Resize((32, 32)), T.ToTensor()])
    xs_k = [tv_input(p, tf).transpose(1, 2, 0).copy() for _, p in imgs]   # HWC, pixels / 255
    torch.manual_seed(3)
    kn = KerasStyleNet().eval()
    with torch.no_grad():
        fit_head(kn.kernel.T, kn.bias, kn.features(torch.from_numpy(np.stack(xs_k))), 13)
    export(kn, torch.rand(1, 32, 32, 3), models / "nhwc_softmax" / "model.onnx", 13, input_names=["input_1"],
           output_names=["dense_1"], dynamic_axes={"input_1": {0: "N"}, "dense_1": {0: "N"}})
    with torch.no_grad():
        x = torch.from_numpy(np.stack(xs_k))
        lk, pk = kn.logits(x).numpy(), kn(x).numpy()
    kpipe = {"loader": "pil_convert_rgb", "resize": [32, 32], "interpolation": "bilinear", "crop": None,
             "scale": 1 / 255, "mean": None, "std": None, "layout": "NHWC", "dtype": "float32"}
    lchk = float_checks(kn, torch.from_numpy(np.stack(xs_k)), lk, kpipe, lambda m, x: m.logits(x))
    add("nhwc_softmax", {},
        "Resize((32, 32)) [bilinear, PIL] -> ToTensor (pixels / 255, no normalization) -> HWC; the graph's output "
        "is Softmax(dense): `probabilities` is that output, `logits` the Softmax input (MatMul + Add)",
        "probabilities", xs_k,
        [{"image": r, "logits": f32list(l), "probabilities": f32list(q)} for (r, _), l, q in zip(imgs, lk, pk)],
        kpipe, model=kn, logits_tolerance=lchk["tolerance"], logits_float32_error=lchk["float32_error"],
        logits_one_level_sensitivity=lchk["one_level_sensitivity"])

    # ---- gray
    tf = T.Compose([T.Grayscale(), T.Resize((28, 28)), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    xs_g = [tv_input(p, tf) for _, p in imgs]
    torch.manual_seed(4)
    gn = GrayNet().eval()
    last = gn.classifier[-1]
    fit_head(last.weight, last.bias, linear_input(gn, last, torch.from_numpy(np.stack(xs_g))), 14)
    export(gn, torch.randn(1, 1, 28, 28), models / "gray" / "model.onnx", 11, input_names=["input"],
           output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with torch.no_grad():
        lg = gn(torch.from_numpy(np.stack(xs_g))).numpy()
    add("gray", {"mean": [0.5], "std": [0.5]},
        "Grayscale() [PIL convert('L') of the RGB image: integer L = round(0.299 R + 0.587 G + 0.114 B), BEFORE "
        "resizing] -> Resize((28, 28)) [bilinear, PIL, on the 8-bit gray image] -> ToTensor -> Normalize((0.5,), (0.5,))",
        "logits", xs_g, [{"image": r, "logits": f32list(l)} for (r, _), l in zip(imgs, lg)],
        {"loader": "pil_convert_rgb_then_L", "resize": [28, 28], "interpolation": "bilinear", "crop": None,
         "scale": 1 / 255, "mean": [0.5], "std": [0.5], "layout": "NCHW", "dtype": "float32"}, model=gn)

    # ---- uint8 input
    xs_u = [np.ascontiguousarray(np.asarray(T.Resize((64, 64))(pil_loader(p))).transpose(2, 0, 1)) for _, p in imgs]
    un = calibrate_bn(seeded(5, Uint8Net), torch.from_numpy(np.stack(xs_u)))
    last = un.net.classifier
    fit_head(last.weight, last.bias, linear_input(un, last, torch.from_numpy(np.stack(xs_u))), 15)
    export(un, torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8), models / "uint8_input" / "model.onnx", 17,
           input_names=["image"], output_names=["logits"],
           dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    with torch.no_grad():
        lu = un(torch.from_numpy(np.stack(xs_u))).numpy()
    add("uint8_input", {},
        "Resize((64, 64)) [bilinear, PIL] -> raw uint8 CHW pixels 0..255 (the graph casts to float, divides by 255 "
        "and normalizes with imagenet mean/std inside)",
        "logits", xs_u, [{"image": r, "logits": f32list(l)} for (r, _), l in zip(imgs, lu)],
        {"loader": "pil_convert_rgb", "resize": [64, 64], "interpolation": "bilinear", "crop": None,
         "scale": None, "mean": None, "std": None, "layout": "NCHW", "dtype": "uint8"}, model=un)
    return cases


# ---------------------------------------------------------------- output

def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def golden_text(obj):
    """Indented JSON with each sample on one line (diffable, not one float per line)."""
    placeholders = {}

    def squash(x):
        if isinstance(x, dict):
            return {k: (squash_samples(v) if k == "samples" else squash(v)) for k, v in x.items()}
        return x

    def squash_samples(samples):
        out = []
        for s in samples:
            key = f"@@SAMPLE{len(placeholders)}@@"
            placeholders[key] = json.dumps(s, separators=(",", ":"))
            out.append(key)
        return out

    text = json.dumps(squash(obj), indent=2)
    for k, v in placeholders.items():
        text = text.replace(f'"{k}"', v)
    return text + "\n"


CASE_NOTES = {
    "resnet": "torchvision BasicBlock ResNet, default tensor names (`input.1` -> `87`), dynamic batch; `features` recorded",
    "resnet_batch1": "same weights, plain one-line export: fixed batch 1",
    "resnet_crop": "same .onnx; shorter side 72, centre crop 64",
    "resnet_bicubic_crop": "same .onnx; shorter side 80 bicubic, centre crop 64",
    "fp16": "same ResNet, float16 weights/input/output (graph converted like onnxconverter_common)",
    "external_data": "same ResNet, every weight in `model.onnx.data`",
    "timm_style": "torchvision mobilenet_v3_small (0.25) + timm `config.json` (bicubic, crop_pct 0.875)",
    "hf_style": "optimum-style folder: `pixel_values` -> `logits`, `preprocessor_config.json` (CLIP), `config.json` id2label",
    "nhwc_softmax": "Keras/tf2onnx style: NHWC `input_1`, MatMul+Add, Softmax output `dense_1`, no normalization",
    "gray": "1x28x28 input, torchvision Grayscale() before Resize, mean/std 0.5",
    "uint8_input": "uint8 0..255 input; cast, /255 and normalization inside the graph",
}


def write_readme(par, cases):
    rows = "\n".join(f"| `{name}` | {CASE_NOTES[name]} | `{json.dumps(c['hints'])}` | {c['transform'].split(';')[0]} |"
                     for name, c in cases.items())
    (par / "README.md").write_text(f"""# Parity fixtures

Do OOD Lens's logits equal the ones the user's own PyTorch evaluation gives, for models exported the way users
export them? Every model here has seeded random weights (parity, not accuracy) and is small.

Generated by `scripts/make-parity.py` (Debian's /usr/bin/python3 with python3-torch, -torchvision, -onnx, -pil,
-numpy, -sklearn; CPU, deterministic: a rerun with the same versions writes identical files). Do not edit by hand.

- `images/class_a`, `images/class_b` (ImageFolder layout): 12 crops/rescales of scikit-learn's two sample photos,
  CC BY 2.0, see [images/ATTRIBUTION.md](images/ATTRIBUTION.md). JPEG (incl. 640x427, 50x300, 300x48, 64x64),
  RGB PNG, gray PNG and JPEG, RGBA PNG (alpha 0..255, dropped by `convert('RGB')`), 64-colour palette PNG.
- `models/<case>/`: what a user has on disk (model.onnx; model.onnx.data, timm `config.json`, HF
  `config.json` + `preprocessor_config.json` where applicable).
- `golden.json`: per case the hints a user passes to OOD Lens, the reference transform in words and as a
  `pipeline` object, the tolerance, and per image the logits (`probabilities` too for `nhwc_softmax`, the
  64-d `features` entering the final Linear for `resnet`; `resized_hw` / `crop_top_left` for crop cases).
  `images` gives each file's mode and the sha256 of its decoded RGB pixels (PIL/libjpeg-turbo).
  `pipeline.resize` is `[h, w]` for a plain resize to that size, an int for "shorter side to this";
  `pipeline.crop` is the centre crop `[h, w]` or null.

The goldens come from torchvision's own transforms on PIL images (ImageFolder's loader: `Image.open(p).convert('RGB')`,
no EXIF transpose) and the PyTorch model; `hf_style` instead follows transformers' `load_image` +
`CLIPImageProcessor` (PIL resize, floor-rounded centre crop, float64 rescale then float32 normalize).
`tolerance` is absolute on the logits (probabilities for `nhwc_softmax`) and assumes the same input tensor:
max(1e-4, 10 x `float32_error`), where `float32_error` = max |PyTorch float32 - float64| (fp16: a fixed 0.1;
onnxruntime-node 1.30 was ~0.035 off). Resampling or JPEG decoding that differs from PIL's adds its own error on
top: `one_level_sensitivity` is how far the output moves when every 8-bit pixel value behind the input tensor
changes by +-1 (random signs), i.e. the scale of a one-gray-level preprocessing mismatch.

The weights are seeded random (parity, not accuracy), with BatchNorm statistics taken from these images and each
final layer scaled so the logits vary by ~2 between images: neither constant nor chaotic.

Note the two crop roundings: torchvision `CenterCrop` uses `int(round((H - c) / 2))` (half to even), transformers
`(H - c) // 2`; e.g. width 107 -> crop 64 starts at 22 (torchvision) vs 21 (transformers).

| case | what it checks | hints a user passes | reference transform |
|---|---|---|---|
{rows}
""")


def sha_tree(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "test" / "parity"))
    ap.add_argument("--dump-inputs", metavar="DIR", help="also write each case's input tensors (raw) to DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    warnings.filterwarnings("ignore", category=UserWarning)

    par = Path(args.out)
    for sub in ("images", "models"):    # onnx appends to an existing model.onnx.data: start clean
        shutil.rmtree(par / sub, ignore_errors=True)
    par.mkdir(parents=True, exist_ok=True)
    image_paths = make_images(par / "images")
    cases = build_cases(par, image_paths)

    for name, c in cases.items():
        onnx.checker.check_model(str(par / c["model"]))   # path form: follows external data
    golden = {"generator": "scripts/make-parity.py", "torch": torch.__version__,
              "torchvision": torchvision.__version__, "pillow": PIL.__version__, "onnx": onnx.__version__,
              "numpy": np.__version__,
              "images": {rel: image_info(par, rel) for rel in image_paths},
              "cases": {n: {k: v for k, v in c.items() if k != "_inputs"} for n, c in cases.items()}}
    (par / "golden.json").write_text(golden_text(golden))
    write_readme(par, cases)

    if args.dump_inputs:
        d = Path(args.dump_inputs)
        d.mkdir(parents=True, exist_ok=True)
        manifest = {}
        for name, c in cases.items():
            x = np.ascontiguousarray(np.stack(c["_inputs"]))
            (d / f"{name}.bin").write_bytes(x.tobytes())
            manifest[name] = {"file": f"{name}.bin", "dtype": str(x.dtype), "shape": list(x.shape),
                              "model": str((par / c["model"]).resolve())}
        write_json(d / "manifest.json", manifest)

    print(f"{'case':22} {'bytes':>9} {'n':>3}  opset  inputs -> outputs")
    for name, c in cases.items():
        mdir = (par / c["model"]).parent
        size = sum(p.stat().st_size for p in mdir.iterdir() if p.is_file())
        ins, outs, opset = io_summary(par / c["model"])
        print(f"{name:22} {size:9d} {len(c['samples']):3d}  {opset:5d}  {', '.join(ins)} -> {', '.join(outs)}")
    total = sum(p.stat().st_size for p in par.rglob("*") if p.is_file())
    print(f"test/parity total: {total} bytes in {sum(1 for p in par.rglob('*') if p.is_file())} files")
    print(f"fp16: max |fp32 - fp16-rounded-weights| logit difference = "
          f"{cases['fp16']['fp16_weight_rounding_max_abs_diff']:.3g}")
    print(f"{'case':22} {'tolerance':>9} {'f32 error':>9} {'1-level sensitivity':>20}")
    for name, c in cases.items():
        if "float32_error" in c:
            print(f"{name:22} {c['tolerance']:9.2g} {c['float32_error']:9.2g} {c['one_level_sensitivity']:20.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
