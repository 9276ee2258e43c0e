#!/usr/bin/python3
"""Exports the ImageNet-sized benchmark model: torchvision's ResNet-18 or ResNet-50, 1,000 classes, to ONNX.

    /usr/bin/python3 bench/imagenet_model.py --arch resnet18 --out ~/.cache/ood-lens-bench/resnet18-1000.onnx

RANDOM weights, seeded (nothing can be downloaded here): throughput and memory do not depend on the weights, the
predictions are meaningless. Exported as a user would export torchvision's model: one input [N,3,224,224] already
normalized (the bench scores it with `--preset imagenet --resize 256 --crop 224`), one output, the logits [N,1000].
A file already exported with the same arguments is kept. Needs Debian's python3-torch, python3-torchvision,
python3-onnx.
"""
import argparse
import json
from pathlib import Path

import onnx
import torch
import torchvision

OPSET = 13


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["resnet18", "resnet50"], default="resnet18")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    stamp = out.with_suffix(".made")
    made = json.dumps({"arch": args.arch, "seed": args.seed, "opset": OPSET, "version": 1})
    if out.exists() and stamp.exists() and stamp.read_text() == made:
        print(json.dumps({"out": str(out), "made": False}))
        return
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.arch)(weights=None, num_classes=1000).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(out), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(str(out))
    m.metadata_props.add(key="ood_lens.description",
                         value=f"torchvision {args.arch}, RANDOM seeded init (seed {args.seed}), 1,000 classes; "
                               "for throughput benchmarks only, its predictions are meaningless.")
    onnx.checker.check_model(m)
    onnx.save(m, str(out))
    stamp.write_text(made)
    print(json.dumps({"out": str(out), "made": True, "mb": round(out.stat().st_size / 1e6, 1)}))


if __name__ == "__main__":
    main()
