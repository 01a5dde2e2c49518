"""Models the ONNX tests export with torch.onnx.export (torch 1.13, no onnx package needed), and
the reference numbers the Swift importer must reproduce.

python onnx_models.py NAME OUT_DIR [--keep-bn] [--classes K]
writes OUT_DIR/NAME.onnx, and x.bin, r.bin, logits.bin, grad.bin (float32, little-endian):
an input batch, a random cotangent r, the logits, and d(sum(logits * r))/dx.
"""
import sys, os, argparse
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18CIFAR(nn.Module):
    """torchvision's ResNet-18 with the CIFAR stem: a 3x3 stride-1 first conv and no max pool."""
    def __init__(self, classes=10, channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for i, cout in enumerate([64, 128, 256, 512]):
            blocks = [BasicBlock(cin, cout, 1 if i == 0 else 2), BasicBlock(cout, cout, 1)]
            layers.append(nn.Sequential(*blocks))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, dilation=1):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, dilation, dilation=dilation, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.block(x) if self.use_res else self.block(x)


class MobileNetV2Small(nn.Module):
    """MobileNetV2's structure at a small width: depthwise 3x3 convs, ReLU6, inverted residuals,
    one dilated depthwise conv, one grouped (not depthwise) conv, and a Hardswish head."""
    def __init__(self, classes=10, channels=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 1, 1), InvertedResidual(16, 24, 2, 6), InvertedResidual(24, 24, 1, 6),
            InvertedResidual(24, 32, 2, 6), InvertedResidual(32, 32, 1, 6, dilation=2))
        self.grouped = nn.Conv2d(32, 64, 3, 1, 1, groups=4)
        self.bn = nn.BatchNorm2d(64)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, classes))

    def forward(self, x):
        x = F.hardswish(self.bn(self.grouped(self.blocks(self.stem(x)))))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


class FashionCNN(nn.Module):
    """A small Fashion-MNIST CNN laid out unlike ref-cnn: normalisation folded into the graph,
    a 5x5 stem, overlapping padded max pooling, a strided conv, padded average pooling,
    LeakyReLU, a sigmoid gate, the Shape/Gather/Concat chain of x.view(x.size(0), -1), Tanh."""
    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 12, 5, padding=2)
        self.c2 = nn.Conv2d(12, 24, 3, stride=2, padding=1)
        self.gate = nn.Conv2d(24, 24, 1)
        self.f1 = nn.Linear(24 * 4 * 4, 48)
        self.f2 = nn.Linear(48, classes)

    def forward(self, x):
        x = (x - 0.2860) / 0.3530
        x = F.max_pool2d(F.relu(self.c1(x)), 3, stride=2, padding=1)       # 28 -> 14
        x = F.leaky_relu(self.c2(x), 0.1)                                  # 14 -> 7
        x = x * torch.sigmoid(self.gate(x))
        x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)  # 7 -> 4
        x = torch.tanh(self.f1(x.view(x.size(0), -1)))
        return self.f2(x)


class Unsupported(nn.Module):
    """A model with an operator synth does not map (Abs)."""
    def __init__(self, classes=10):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, padding=1)
        self.f = nn.Linear(4 * 28 * 28, classes)

    def forward(self, x):
        return self.f(torch.abs(self.c(x)).flatten(1))


class FeatureMap(nn.Module):
    """Its output is [N, 2, classes / 2], not logits [N, classes]."""
    def __init__(self, classes=10):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, padding=1)
        self.f = nn.Linear(4 * 28 * 28, classes)

    def forward(self, x):
        y = self.f(F.relu(self.c(x)).flatten(1))
        return y.view(y.size(0), 2, -1)


class Tiny(nn.Module):
    """A small 28x28 grey classifier with batch norm, for pipeline tests (any class count)."""
    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.b2 = nn.BatchNorm2d(16)
        self.f1 = nn.Linear(16 * 7 * 7, 32)
        self.f2 = nn.Linear(32, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.relu(self.b2(self.c2(x)))
        return self.f2(F.relu(self.f1(x.flatten(1))))


MODELS = {"resnet18": (ResNet18CIFAR, 3, 32), "mobilenetv2": (MobileNetV2Small, 3, 32),
          "fashioncnn": (FashionCNN, 1, 28), "unsupported": (Unsupported, 1, 28),
          "featuremap": (FeatureMap, 1, 28), "tiny": (Tiny, 1, 28)}


def randomize_batch_norms(model, generator):
    """Random running statistics and affine parameters, so folding or applying them matters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name"); p.add_argument("out")
    p.add_argument("--keep-bn", action="store_true", help="export BatchNormalization nodes instead of folding them")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--batch", type=int, default=3)
    p.add_argument("--opset", type=int, default=13)
    a = p.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    cls, channels, side = MODELS[a.name]
    model = cls(classes=a.classes)
    randomize_batch_norms(model, g)
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, a.name + ".onnx")
    dummy = torch.zeros(1, channels, side, side)
    extra = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) if a.keep_bn else {}
    torch.onnx.export(model, dummy, path, opset_version=a.opset, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, **extra)
    x = torch.rand(a.batch, channels, side, side, generator=g, requires_grad=True)
    logits = model(x)
    r = torch.randn(logits.shape, generator=g)
    (logits * r).sum().backward()
    for name, t in [("x", x), ("r", r), ("logits", logits), ("grad", x.grad)]:
        t.detach().contiguous().numpy().astype("<f4").tofile(os.path.join(a.out, name + ".bin"))
    print(path)


if __name__ == "__main__":
    main()
