"""Architectures and data helpers shared by scripts/train-demo-models and bench/python_pipeline.py.

Both models take pixels in [0, 1] and normalize inside the network, so the ONNX
exports and the .pt state_dicts see exactly the same input as the OOD Lens CLI.
forward() returns (logits, features); features is the penultimate layer.
"""
import gzip
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torchvision

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ID_LABELS = [0, 1, 2, 3, 4]
OOD_LABELS = [5, 6, 7, 8, 9]
ID_CLASSES = [FASHION_CLASSES[i] for i in ID_LABELS]
FEATURE_DIM = 64
# Mean/std of the Fashion-MNIST training images of classes 0-4 (pixel/255),
# rounded so that the constant does not depend on float summation order.
DEMO_MEAN, DEMO_STD = 0.3139, 0.3626
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def load_fashion_mnist(split):
    """Returns (images uint8 [n,28,28], labels int64 [n]) for split 'train' or 't10k'."""
    with gzip.open(FASHION_MNIST_DIR / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION_MNIST_DIR / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


def sanitize(name):
    """Class name -> folder name ('T-shirt/top' -> 'T-shirt_top')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        # Buffers, so the .pt state_dict and the ONNX graph both carry them.
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class DemoNet(nn.Module):
    """Small CNN for 1x28x28 images: 3 conv layers -> 64-d features -> Linear to 5 logits (~50k params)."""

    def __init__(self, num_classes=len(ID_CLASSES), feature_dim=FEATURE_DIM):
        super().__init__()
        self.normalize = Normalize([DEMO_MEAN], [DEMO_STD])
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16x14x14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32x7x7
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),         # 32x4x4
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, feature_dim), nn.ReLU(),
        )
        # Plain Linear so W,b show up as a Gemm initializer (needed by ViM / logit-space methods).
        self.fc = nn.Linear(feature_dim, num_classes)

    def forward(self, x):
        features = self.body(self.normalize(x))
        return self.fc(features), features


class BenchResNet18(nn.Module):
    """torchvision ResNet-18 (3x224x224, 5 classes) returning (logits, 512-d avgpool features)."""

    def __init__(self, seed=0):
        super().__init__()
        # Random init (no weights can be downloaded here); seeded so the ONNX export and
        # bench/python_pipeline.py build the same network.
        torch.manual_seed(seed)
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
        self.net = torchvision.models.resnet18(weights=None, num_classes=len(ID_CLASSES))

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(self.normalize(x)))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        features = torch.flatten(n.avgpool(x), 1)
        return n.fc(features), features
