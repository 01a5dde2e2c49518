#!/usr/bin/env python3
"""Trains a CNN in PyTorch on Fashion-MNIST and exports it to ONNX as synth reads it: the
normalisation folded into the graph, batch norms kept, the class names in the sidecar
(scripts/export_onnx.py). The teacher of README's "Use your own model" and of BENCHMARKS.md's
ONNX-teacher row (a CaG build through a model synth did not train).

The network is laid out unlike ref-cnn on purpose: a 5x5 stem, two strided 3x3 convs with batch
norm, global average pooling, a 96-wide feature layer.

    python3 bench/fashion_onnx_teacher.py --epochs 8 --out runs/fashion-onnx/teacher.onnx
"""
import argparse, gzip, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from export_onnx import export  # noqa: E402

DATA = os.environ.get("SYNTH_DATA_DIR", "/usr/share/datasets/fashion-mnist")
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530


def load(split):
    p = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(DATA, f"{p}-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(DATA, f"{p}-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return torch.tensor(x.astype(np.float32) / 255.0), torch.tensor(y)


class FashionNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.down1 = nn.Sequential(nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.down2 = nn.Sequential(nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
        self.features = nn.Sequential(nn.Linear(128, 96), nn.ReLU())
        self.head = nn.Linear(96, classes)

    def forward(self, x):
        x = self.down2(self.down1(self.stem(x)))
        return self.head(self.features(F.adaptive_avg_pool2d(x, 1).flatten(1)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(2)  # Debian's torch starts on one OpenMP thread on these machines
    torch.manual_seed(a.seed)
    x, y = load("train")
    tx, ty = load("test")
    net = FashionNet()
    opt = torch.optim.Adam(net.parameters(), a.lr)
    g = torch.Generator().manual_seed(a.seed)
    start = time.time()
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), a.batch):
            idx = perm[i:i + a.batch]
            loss = F.cross_entropy(net((x[idx] - MEAN) / STD), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
        net.eval()
        with torch.no_grad():
            acc = sum((net((tx[i:i + 1000] - MEAN) / STD).argmax(1) == ty[i:i + 1000]).sum().item() for i in range(0, len(ty), 1000)) / len(ty)
        print(f"epoch {epoch + 1}: test accuracy {acc:.4f} ({time.time() - start:.0f} s)", file=sys.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    export(net.eval(), a.out, (1, 28, 28), mean=[MEAN], std=[STD], class_names=NAMES, keep_batch_norm=True)
    print(a.out)


if __name__ == "__main__":
    main()
