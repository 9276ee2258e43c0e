#!/usr/bin/python3
"""Development-time check: does a plain torchvision export score correctly with `--preset imagenet` only?

Not part of the build or the test suites. It reproduces, as a new user would, the acceptance check
"a torchvision model exported with one `torch.onnx.export` line, scored with `--preset imagenet`
only, reports the same accuracy as the user's torchvision evaluation to 0.1 point, and gets
Mahalanobis/KNN/ViM from its own penultimate layer; the same model exported with batch 1 gives the
same report".

What it does:
  1. trains torchvision.models.resnet18(weights=None, num_classes=5) briefly (2 epochs, 10,000
     Fashion-MNIST training images of classes 0-4, 3-channel 64x64, the same eval transform as in 2.,
     Adam, mini-batches of 128; seeded, CPU, 2 threads);
  2. evaluates it the torchvision way: datasets.ImageFolder('examples/demo/data/id_test',
     Compose([Resize((64, 64)), ToTensor(), Normalize(IMAGENET_MEAN, IMAGENET_STD)])), model.eval();
  3. exports it twice with default tensor names, no metadata, no sidecar:
     .dev/tv-export/resnet18.onnx (one-liner + dynamic batch axis) and
     .dev/tv-export/resnet18_b1.onnx (literal one-liner, fixed batch 1);
  4. scores both with `node dist/cli.js score ... --preset imagenet` (and once with no --preset)
     and compares accuracy, per-image predictions and max logits, and the two reports' rows.

Run from anywhere (after `npm run build` in the repository root):
    scripts/try-torchvision-export.py            # measured: 13 min wall, 11 min CPU on 2 shared cores
    scripts/try-torchvision-export.py --epochs 1 --train-images 5000   # quicker (about a quarter of that)

Needs Debian's Python (/usr/bin/python3) with python3-torch, python3-torchvision, python3-onnx,
python3-numpy, python3-pil and the Fashion-MNIST files of dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist). Writes only under .dev/ (git-ignored): .dev/tv-export/.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import datasets, transforms

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from demo_net import FASHION_CLASSES, ID_LABELS, IMAGENET_MEAN, IMAGENET_STD, load_fashion_mnist, sanitize  # noqa: E402

DATA = ROOT / "examples/demo/data"
OUT = ROOT / ".dev/tv-export"
SIZE = 64


def eval_transform():
    return transforms.Compose([transforms.Resize((SIZE, SIZE)), transforms.ToTensor(),
                               transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def training_tensors(n_images, class_to_idx, seed):
    """n_images Fashion-MNIST training images of classes 0-4, through the eval transform.

    Labels are remapped to ImageFolder indices (sorted class folder names), the same indices the
    torchvision evaluation and OOD Lens use. Stored as the resized uint8 RGB image; per batch,
    .float()/255 and Normalize give exactly what ToTensor()+Normalize() give."""
    x, y = load_fashion_mnist("train")
    fashion_to_folder = {label: class_to_idx[sanitize(FASHION_CLASSES[label])] for label in ID_LABELS}
    keep = np.flatnonzero(np.isin(y, ID_LABELS))
    keep = np.sort(np.random.RandomState(seed).choice(keep, n_images, replace=False))
    resize = transforms.Resize((SIZE, SIZE))
    imgs = torch.stack([transforms.functional.pil_to_tensor(resize(Image.fromarray(x[i], mode="L").convert("RGB")))
                        for i in keep])
    labels = torch.tensor([fashion_to_folder[int(y[i])] for i in keep])
    return imgs, labels, fashion_to_folder


def normalize_uint8(batch):
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (batch.float().div(255) - mean) / std


def train(model, imgs, labels, epochs, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for epoch in range(epochs):
        t0, tc0 = time.time(), time.process_time()
        perm = torch.randperm(len(imgs), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            xb, yb = normalize_uint8(imgs[idx]), labels[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            loss_sum += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f}, train acc {correct / total:.4f}, "
              f"{time.time() - t0:.1f} s wall, {time.process_time() - tc0:.1f} s CPU", flush=True)
    return model.eval()


@torch.no_grad()
def torchvision_eval(model):
    ds = datasets.ImageFolder(str(DATA / "id_test"), transform=eval_transform())
    loader = torch.utils.data.DataLoader(ds, batch_size=100, shuffle=False, num_workers=0)
    model.eval()
    logits, targets = [], []
    for xb, yb in loader:
        logits.append(model(xb))
        targets.append(yb)
    logits, targets = torch.cat(logits), torch.cat(targets)
    acc = (logits.argmax(1) == targets).float().mean().item()
    return ds, logits, targets, acc


def export(model, path_dyn, path_b1):
    OUT.mkdir(parents=True, exist_ok=True)
    # Find the default tensor names with a first plain export.
    torch.onnx.export(model, torch.randn(1, 3, SIZE, SIZE), str(path_dyn))
    g = onnx.load(str(path_dyn)).graph
    inits = {t.name for t in g.initializer}
    in_name = [i.name for i in g.input if i.name not in inits][0]
    out_name = g.output[0].name
    print(f"  default names: input {in_name!r}, output {out_name!r}")
    torch.onnx.export(model, torch.randn(1, 3, SIZE, SIZE), str(path_dyn),
                      dynamic_axes={in_name: {0: "batch"}, out_name: {0: "batch"}})
    # The literal one-liner.
    torch.onnx.export(model, torch.randn(1, 3, 64, 64), str(path_b1))
    for p in (path_dyn, path_b1):
        m = onnx.load(str(p))
        onnx.checker.check_model(m)
        shape = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
        ins = [(i.name, shape(i)) for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
        outs = [(o.name, shape(o)) for o in m.graph.output]
        print(f"  {p.relative_to(ROOT)}: opset {m.opset_import[0].version}, inputs {ins}, outputs {outs}, "
              f"metadata {len(m.metadata_props)} entries")


def run_cli(model_path, report, preset, scores="msp,energy,mahalanobis,knn,vim"):
    cmd = ["node", "dist/cli.js", "score", "--quiet", "--model", str(model_path.relative_to(ROOT)),
           "--id", "examples/demo/data/id_test", "--ood", "examples/demo/data/ood_heldout",
           "--fit", "examples/demo/data/id_fit"]
    if preset:
        cmd += ["--preset", preset]
    cmd += ["--scores", scores, "--json", str(report.relative_to(ROOT))]
    print("  $ " + " ".join(cmd), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(f"  exit {p.returncode}, {time.time() - t0:.1f} s wall")
    if p.stdout.strip():
        print("  stdout:\n    " + p.stdout.strip().replace("\n", "\n    "))
    if p.stderr.strip():
        print("  stderr:\n    " + p.stderr.strip().replace("\n", "\n    "))
    if p.returncode not in (0, 2) or not report.exists():
        return None
    return json.loads(report.read_text())


def id_accuracy(rep):
    rows = [r for r in rep["calibration"] if r["split"] == "id_test"]
    return rows[0]["accuracy"] if rows else None


def aurocs(rep):
    return {r["score"]: r["auroc"] for r in rep["ood"]}


def rows_equal(a, b, tol=1e-9):
    """Compares two lists of report rows (ignoring the model name), numbers to tol."""
    def eq(x, y, key=None):
        if key == "model":
            return True
        if isinstance(x, bool) or isinstance(y, bool):
            return x == y
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            return abs(x - y) <= tol
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k], k) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
        return x == y
    return eq(a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-images", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}")

    ds_probe = datasets.ImageFolder(str(DATA / "id_test"))
    print(f"id_test classes (ImageFolder order): {ds_probe.class_to_idx}")
    t0, tc0 = time.time(), time.process_time()
    imgs, labels, mapping = training_tensors(args.train_images, ds_probe.class_to_idx, args.seed)
    print(f"Fashion label -> ImageFolder index: "
          f"{ {FASHION_CLASSES[k]: v for k, v in mapping.items()} }; class counts {torch.bincount(labels).tolist()}")
    print(f"data prep: {time.time() - t0:.1f} s wall, {time.process_time() - tc0:.1f} s CPU")

    print("training resnet18(weights=None, num_classes=5):")
    model = torchvision.models.resnet18(weights=None, num_classes=5)
    t0, tc0 = time.time(), time.process_time()
    model = train(model, imgs, labels, args.epochs, args.seed)
    train_wall, train_cpu = time.time() - t0, time.process_time() - tc0
    print(f"training: {train_wall:.1f} s wall, {train_cpu:.1f} s CPU")

    ds, logits, targets, tv_acc = torchvision_eval(model)
    print(f"torchvision accuracy on id_test ({len(ds)} images): {tv_acc:.4f}")

    path_dyn, path_b1 = OUT / "resnet18.onnx", OUT / "resnet18_b1.onnx"
    print("exporting:")
    export(model, path_dyn, path_b1)

    subprocess.run(["npm", "run", "build"], cwd=ROOT, check=True, capture_output=True)
    print("OOD Lens:")
    rep = run_cli(path_dyn, OUT / "report.json", "imagenet")
    rep_b1 = run_cli(path_b1, OUT / "report_b1.json", "imagenet")
    rep_nf = run_cli(path_dyn, OUT / "report_noflag.json", None)
    # Supplementary run: max_logit itself is only in the samples when it is among --scores.
    rep_ml = run_cli(path_dyn, OUT / "report_maxlogit.json", "imagenet", "msp,max_logit,energy")

    print("\n=== results ===")
    print(f"training time: {train_wall:.1f} s wall, {train_cpu:.1f} s CPU ({args.epochs} epochs, "
          f"{args.train_images} images)")
    for name, r in [("dynamic", rep), ("batch-1", rep_b1), ("no --preset", rep_nf),
                    ("dynamic, msp,max_logit,energy", rep_ml)]:
        if r is None:
            print(f"[{name}] no report")
            continue
        acc = id_accuracy(r)
        print(f"[{name}] torchvision acc {tv_acc * 100:.2f}%, OOD Lens acc "
              f"{acc * 100 if acc is not None else float('nan'):.2f}%, "
              f"diff {(acc - tv_acc) * 100 if acc is not None else float('nan'):+.2f} points")
        au = aurocs(r)
        print(f"[{name}] AUROC: " + ", ".join(f"{s} {au[s]:.4f}" if au.get(s) is not None else f"{s} MISSING"
                                             for s in ["msp", "energy", "mahalanobis", "knn", "vim"]))
        missing = [o for o in r["ood"] if o.get("auroc") is None]
        for o in missing:
            print(f"[{name}]   row without AUROC: {o['score']}: {o.get('reason')}")
        m = r["models"][0]
        print(f"[{name}] models[0].outputs = {json.dumps(m['outputs'])}")
        print(f"[{name}] models[0].preprocess = {json.dumps(m['preprocess'])}")
        print(f"[{name}] models[0].input = {json.dumps(m.get('input'))}, fixedBatch {m.get('fixedBatch')}, "
              f"classes {m.get('classes')}")
        for where, warns in [("report.warnings", r.get("warnings", [])), ("models[0].warnings", m.get("warnings", []))]:
            print(f"[{name}] {where} ({len(warns)}):")
            for w in warns:
                print("    - " + (w if isinstance(w, str) else json.dumps(w)))

        # Per-image comparison with the torchvision logits.
        mname = m["name"]
        by_path = {Path(s["path"]).resolve(): s for s in r["samples"] if s["split"] == "id_test"}
        n_dis, max_d, max_d_derived, n_found, label_mismatch = 0, None, None, 0, 0
        for (p, t), lg in zip(ds.samples, logits):
            s = by_path.get(Path(p).resolve())
            if s is None:
                continue
            n_found += 1
            if s.get("label") is not None and s["label"] != t:
                label_mismatch += 1
            if s["prediction"].get(mname) != int(lg.argmax()):
                n_dis += 1
            sc, z = s["scores"][mname], lg.max().item()
            if sc.get("max_logit") is not None:  # max_logit score = -max z
                max_d = max(max_d or 0.0, abs(-sc["max_logit"] - z))
            if sc.get("msp") is not None and sc.get("energy") is not None:
                # msp = -exp(max z - lse), energy = -lse (T = 1), so max z = ln(-msp) - energy.
                max_d_derived = max(max_d_derived or 0.0, abs(np.log(-sc["msp"]) - sc["energy"] - z))
        fmt = lambda v: "n/a (not in report)" if v is None else f"{v:.3g}"  # noqa: E731
        print(f"[{name}] per-image: {n_found}/{len(ds)} matched by path, label mismatches {label_mismatch}, "
              f"prediction disagreements {n_dis}, max |delta max logit| {fmt(max_d)} (from max_logit), "
              f"{fmt(max_d_derived)} (from msp and energy)")

    if rep is not None and rep_b1 is not None:
        for key in ("ood", "calibration"):
            print(f"batch-1 vs dynamic '{key}' rows equal (1e-9): {rows_equal(rep[key], rep_b1[key])}")


if __name__ == "__main__":
    main()
