#!/usr/bin/python3
"""Python baseline of the real-photo benchmark: what a PyTorch user runs on a folder of JPEG photos.

    /usr/bin/python3 bench/photos_python.py --id DIR --ood DIR [--model tiny|resnet18] [--loader-only]
    /usr/bin/python3 bench/photos_python.py --export-tiny OUT.onnx

torchvision ImageFolder (PIL decode, convert('RGB')) + DataLoader(num_workers=2) with Resize(256), CenterCrop(224),
ToTensor -> torch model -> max softmax probability -> sklearn AUROC. --loader-only reads and transforms the
images without a model (what "reads and resizes the same files" measures). "tiny" is TinyNet below, so small
that decoding is all that is measured; --export-tiny writes the same network (seed 0) as ONNX for OOD Lens.
Prints one JSON object; "seconds" runs from scanning the folders to the metrics, "peak_rss_mb" adds the main
process's peak to its DataLoader workers' largest, "cpu_seconds" is
the CPU time of both over "seconds".
Needs Debian's python3-torch, python3-torchvision, python3-sklearn.
"""
import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import ConcatDataset, DataLoader
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from demo_net import IMAGENET_MEAN, IMAGENET_STD, BenchResNet18, Normalize  # noqa: E402


class TinyNet(nn.Module):
    """Two strided convolutions on 3x224x224 (about 1 MFLOP): inference costs next to nothing."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        features = self.body(self.normalize(x))
        return self.fc(features), features


def export_tiny(out):
    model = TinyNet().eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), out, input_names=["input"], output_names=["logits", "features"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "features": {0: "N"}}, opset_version=13)
    print(json.dumps({"wrote": out}))


def cpu_seconds():
    """CPU seconds of this process and of its finished DataLoader workers."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime, 2)


def peak_rss_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + workers) / 1024, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--id")
    ap.add_argument("--ood")
    ap.add_argument("--model", default="tiny", choices=["tiny", "resnet18"])
    ap.add_argument("--loader-only", action="store_true")
    ap.add_argument("--export-tiny", metavar="OUT.onnx")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if args.export_tiny:
        return export_tiny(args.export_tiny)
    threads = max(1, len(os.sched_getaffinity(0)) - args.workers)
    torch.set_num_threads(threads)
    model = (TinyNet() if args.model == "tiny" else BenchResNet18(seed=0)).eval()
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])

    t0, cpu0 = time.perf_counter(), cpu_seconds()
    splits = [datasets.ImageFolder(args.id, transform=tf), ConcatDataset([datasets.ImageFolder(args.ood, transform=tf)])]
    msp = []
    with torch.inference_mode():
        for ds in splits:
            # Workers are started per split, as a user's loop over two DataLoaders does.
            part = []
            for x, _ in DataLoader(ds, batch_size=args.batch_size, num_workers=args.workers):
                part.append(np.zeros(len(x)) if args.loader_only else model(x)[0].softmax(1).max(1).values.numpy())
            msp.append(np.concatenate(part))
    auroc = None if args.loader_only else float(roc_auc_score(np.r_[np.ones(len(msp[0])), np.zeros(len(msp[1]))], np.r_[msp[0], msp[1]]))
    seconds = time.perf_counter() - t0
    n = len(msp[0]) + len(msp[1])
    print(json.dumps({
        "model": None if args.loader_only else args.model, "images": n, "seconds": round(seconds, 3),
        "images_per_second": round(n / seconds, 1), "auroc": auroc, "peak_rss_mb": peak_rss_mb(), "cpu_seconds": round(cpu_seconds() - cpu0, 2),
        "torch_threads": threads, "num_workers": args.workers, "batch_size": args.batch_size,
    }))


if __name__ == "__main__":
    main()
