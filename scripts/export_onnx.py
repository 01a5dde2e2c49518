#!/usr/bin/env python3
"""Export a PyTorch image classifier to ONNX the way synth reads it (README, "Use your own model").

synth feeds the model pixels in [0, 1] as [N, C, H, W] and reads logits [N, classes]. This
script wraps the model so the normalisation (x - mean) / std is part of the graph, exports it
with a dynamic batch, and writes the sidecar M.onnx.json with the class names.

As a library:
    from export_onnx import export          # with scripts/ on sys.path
    export(model, "teacher.onnx", input_shape=(1, 28, 28), mean=[0.2860], std=[0.3530],
           class_names=[...], keep_batch_norm=True)

keep_batch_norm=True keeps the BatchNormalization nodes (torch folds them into the convs in an
eval-mode export otherwise), which CaG's batch-norm prior needs.

As a command, it exports a small CNN with random weights (a smoke test of the whole path):
    python3 scripts/export_onnx.py --out tiny.onnx --classes 10
"""
import argparse, json
import torch
import torch.nn as nn


class Normalized(nn.Module):
    """(x - mean) / std, then the model: exported as Sub and Div nodes in front of the graph."""
    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return self.model((x - self.mean) / self.std)


def export(model, path, input_shape, mean, std, class_names=None, keep_batch_norm=True, opset=13, features=None):
    """Writes `path` (the graph, normalisation folded in) and `path`.json (the sidecar)."""
    wrapped = Normalized(model, mean, std).eval()
    options = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) if keep_batch_norm else {}
    torch.onnx.export(wrapped, torch.zeros(1, *input_shape), path, opset_version=opset,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, **options)
    sidecar = {}
    if class_names is not None:
        sidecar["class_names"] = list(class_names)
    if features is not None:
        sidecar["features"] = features   # an activation's name in the graph; default: the last Linear's input
    with open(path + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)


class SmallCNN(nn.Module):
    def __init__(self, classes=10, channels=1, side=28):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (side // 4) ** 2, 128), nn.ReLU())
        self.head = nn.Linear(128, classes)

    def forward(self, x):
        return self.head(self.features(x))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--side", type=int, default=28)
    p.add_argument("--fold-batch-norm", action="store_true", help="let torch fold batch norm into the convs")
    a = p.parse_args()
    torch.manual_seed(0)
    model = SmallCNN(a.classes, a.channels, a.side).eval()
    export(model, a.out, (a.channels, a.side, a.side), mean=[0.5] * a.channels, std=[0.25] * a.channels,
           class_names=[f"class{i}" for i in range(a.classes)], keep_batch_norm=not a.fold_batch_norm)
    print(a.out)


if __name__ == "__main__":
    main()
