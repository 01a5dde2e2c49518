#!/usr/bin/env bash
# ResNet-18 (CIFAR stem, random weights) forward + backward to the input on a batch of 64:
# synth running the torch.onnx.export of the model beside PyTorch running the model itself, in
# the same shell (BENCHMARKS.md, "ONNX import"). Needs a release build (swift build -c release).
# Usage: bench/onnx_speed.sh [BATCH] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-64}; repeats=${2:-5}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 Tests/ONNXTests/onnx_models.py resnet18 "$dir" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
/usr/bin/python3 - "$batch" "$repeats" <<'PY'
import sys, time, runpy, torch
m = runpy.run_path("Tests/ONNXTests/onnx_models.py")
# Debian's torch starts on one OpenMP thread here; synth uses both cores, so torch does too.
torch.set_num_threads(2); torch.manual_seed(0)
net = m["ResNet18CIFAR"]().eval()
for p in net.parameters(): p.requires_grad_(False)
batch, repeats = int(sys.argv[1]), int(sys.argv[2])
x = torch.rand(batch, 3, 32, 32, requires_grad=True)
times = []
for i in range(repeats + 1):
    x.grad = None
    t = time.time()
    net(x).sum().backward()
    if i: times.append((time.time() - t) * 1000)
print(f"pytorch {torch.__version__} ({torch.get_num_threads()} threads): forward + backward to the input: {sorted(times)[len(times) // 2]:.1f} ms (median of {repeats}, batch {batch})")
PY
echo -n "synth: "
.build/release/synth bench input-gradient --model "$dir/resnet18.onnx" --batch "$batch" --repeats "$repeats"
