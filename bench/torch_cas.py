"""An independent CAS: PyTorch trains ref-cnn on a synth shards directory read through webdataset,
with synth cas's defaults (4,690 steps of batch 128, Adam 1e-3, cosine decay to zero over the run,
a new random permutation every epoch, the partial last batch a step, inputs normalised by the
training set's own mean/std), and scores it on the real Fashion-MNIST test set.

    python bench/torch_cas.py --train DIR [--steps 4690] [--seed 0] [--schedule cosine]

Prints one JSON object: accuracy, per-class accuracy, steps, samples, seconds.
Shares no code with synth: the model is written out here (same layers as DESIGN.md's ref-cnn),
PyTorch initialises it, torch.randperm orders the batches."""
import argparse, glob, gzip, json, math, os, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import webdataset as wds


# Also the PyTorch reference of synth's tests (Tests/EngineTests/ModelTests.swift imports it).
class RefCNN(nn.Module):
    def __init__(s, classes=10, ch=1, side=28):
        super().__init__()
        s.c1 = nn.Conv2d(ch, 32, 3, padding=1); s.b1 = nn.BatchNorm2d(32)
        s.c2 = nn.Conv2d(32, 64, 3, padding=1); s.b2 = nn.BatchNorm2d(64)
        s.f1 = nn.Linear(64 * (side // 4) ** 2, 128); s.f2 = nn.Linear(128, classes)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.b1(s.c1(x))), 2)
        x = F.max_pool2d(F.relu(s.b2(s.c2(x))), 2)
        return s.f2(F.relu(s.f1(x.flatten(1))))


def read_shards(d):
    manifest = os.path.join(d, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            m = json.load(f)
        urls = [os.path.join(d, s["url"]) for s in m["shardlist"]]
        classes = len(m["classes"])
    else:
        urls, classes = sorted(glob.glob(os.path.join(d, "*.tar"))), None
    ds = wds.WebDataset(urls, shardshuffle=False).decode("l8").to_tuple("png", "cls")
    xs, ys = [], []
    for img, cls in ds:
        xs.append(np.asarray(img, dtype=np.uint8).reshape(1, 28, 28))
        ys.append(int(cls))
    return np.stack(xs), np.array(ys, dtype=np.int64), classes or (max(ys) + 1)


def read_fmnist_test(root):
    with gzip.open(os.path.join(root, "t10k-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(root, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="shards directory")
    ap.add_argument("--test-dir", default=os.environ.get("SYNTH_DATA_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--steps", type=int, default=4690)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    xtr, ytr, classes = read_shards(a.train)
    xte, yte = read_fmnist_test(a.test_dir)
    scaled = xtr.astype(np.float64) / 255
    mean, std = scaled.mean(), max(scaled.std(), 1e-3)
    norm = lambda u8: torch.tensor(((u8.astype(np.float32) / 255) - mean) / std, dtype=torch.float32)
    Xtr, Ytr, Xte, Yte = norm(xtr), torch.tensor(ytr), norm(xte), torch.tensor(yte)

    model = RefCNN(classes=max(classes, int(yte.max()) + 1))
    opt = torch.optim.Adam(model.parameters(), a.lr)
    g = torch.Generator().manual_seed(a.seed)
    n, step, t0 = len(Ytr), 0, time.time()
    model.train()
    while step < a.steps:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, a.batch):
            if step >= a.steps:
                break
            if a.schedule == "cosine":
                for group in opt.param_groups:
                    group["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * step / a.steps))
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            F.cross_entropy(model(Xtr[idx]), Ytr[idx]).backward()
            opt.step()
            step += 1
    seconds = time.time() - t0

    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(Xte[i:i + 1000]).argmax(1) for i in range(0, len(Yte), 1000)])
    correct = (pred == Yte)
    per_class = {int(c): float(correct[Yte == c].float().mean()) for c in torch.unique(Yte)}
    print(json.dumps({"accuracy": float(correct.float().mean()), "per_class": per_class, "steps": step,
                      "samples": n, "seconds": round(seconds, 1), "torch": torch.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
