#!/usr/bin/python3
"""Python baseline for the OOD Lens benchmark: the MSP pipeline a PyTorch user would write.

    /usr/bin/python3 bench/python_pipeline.py --id examples/demo/data/id_test \
        --ood examples/demo/data/ood_heldout [--model ce_seed0|ce_seed1|ce_seed2|focal_seed0|resnet18]

torchvision ImageFolder + DataLoader -> torch model -> max softmax probability -> sklearn metrics
(ID = positive class). The demo models load examples/demo/models/<model>.pt, the same weights as
the .onnx files; resnet18 is the same seeded random init as `scripts/train-demo-models --bench-model`
(3x224x224, images resized). Prints one JSON object on stdout. "seconds" runs from scanning the
folders to the metrics (decode, transforms, inference, metrics); building the model is "load_seconds".
"peak_rss_mb" is the main process only (DataLoader workers, if any, are separate processes).
Needs Debian's python3-torch python3-torchvision python3-sklearn python3-numpy python3-pil.
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
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from torch.utils.data import ConcatDataset, DataLoader
from torchvision import datasets, transforms

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from demo_net import BenchResNet18, DemoNet, ID_CLASSES, sanitize  # noqa: E402

DEMO_MODELS = ["ce_seed0", "ce_seed1", "ce_seed2", "focal_seed0"]


def fpr_at_95_tpr(labels, scores):
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(fpr[np.searchsorted(tpr, 0.95)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--id", required=True, help="ImageFolder of in-distribution images")
    ap.add_argument("--ood", required=True, nargs="+", help="ImageFolder(s) of OOD images")
    ap.add_argument("--model", default="ce_seed0", choices=DEMO_MODELS + ["resnet18"])
    ap.add_argument("--batch-size", type=int, default=64)
    # Workers decode while the main process infers on the remaining cores; oversubscribing loses.
    # 2 workers + 1 thread was the fastest setting on the 2 shared cores (figures in examples/README.md).
    ap.add_argument("--workers", type=int, default=2, help="DataLoader num_workers")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: usable cores minus workers, at least 1)")
    args = ap.parse_args()
    if args.threads is None:
        args.threads = max(1, len(os.sched_getaffinity(0)) - args.workers)
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    if args.model == "resnet18":
        model = BenchResNet18(seed=0)
        tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
    else:
        model = DemoNet()
        model.load_state_dict(torch.load(ROOT / "examples" / "demo" / "models" / f"{args.model}.pt"))
        tf = transforms.Compose([transforms.Grayscale(1), transforms.ToTensor()])
    model.eval()
    load_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    id_ds = datasets.ImageFolder(args.id, transform=tf)
    ood_ds = ConcatDataset([datasets.ImageFolder(d, transform=tf) for d in args.ood])
    # Folder names -> model class index (for accuracy); -1 where a folder is not a model class.
    model_index = {sanitize(c): i for i, c in enumerate(ID_CLASSES)}
    to_model = torch.tensor([model_index.get(c, -1) for c in id_ds.classes])

    def score(ds):
        msp, correct, labelled = [], 0, 0
        loader = DataLoader(ds, batch_size=args.batch_size, num_workers=args.workers)
        with torch.inference_mode():
            for x, y in loader:
                probs = model(x)[0].softmax(1)
                conf, pred = probs.max(1)
                msp.append(conf.numpy())
                if ds is id_ds:
                    target = to_model[y]
                    correct += int((pred == target)[target >= 0].sum())
                    labelled += int((target >= 0).sum())
        return np.concatenate(msp), correct, labelled

    id_msp, correct, labelled = score(id_ds)
    ood_msp, _, _ = score(ood_ds)
    labels = np.r_[np.ones(len(id_msp)), np.zeros(len(ood_msp))]
    scores = np.r_[id_msp, ood_msp]
    auroc = roc_auc_score(labels, scores)
    aupr_in = average_precision_score(labels, scores)
    fpr95 = fpr_at_95_tpr(labels, scores)
    seconds = time.perf_counter() - t0

    n = len(scores)
    print(json.dumps({
        "model": args.model,
        "images": n,
        "id_images": len(id_msp),
        "ood_images": len(ood_msp),
        "seconds": round(seconds, 3),
        "images_per_second": round(n / seconds, 1),
        "load_seconds": round(load_seconds, 3),
        "auroc": round(float(auroc), 4),
        "aupr_in": round(float(aupr_in), 4),
        "fpr95": round(fpr95, 4),
        "id_accuracy": round(correct / labelled, 4) if labelled else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch_threads": torch.get_num_threads(),
        "num_workers": args.workers,
        "batch_size": args.batch_size,
    }))


if __name__ == "__main__":
    main()
