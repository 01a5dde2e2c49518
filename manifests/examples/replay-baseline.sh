#!/usr/bin/env bash
# Real-data baselines in the same format as synthetic sets:
#  - the whole training set as shards (interop: any WebDataset reader, or synth train --data shards:...);
#  - 1000 real images per class drawn by seed and passed through the GAN builds' filter (source
#    "replay"), to see what the filter does to real data.
# Needs `synth` on PATH. The environment overrides the defaults (a quick trial:
#   DATA=fashion-mnist:train@1000 PER_CLASS=20 manifests/examples/replay-baseline.sh).
set -euo pipefail
MODELS=${MODELS:-$(cd "$(dirname "$0")/../../models" && pwd)}   # the checkout's models/
OUT=${OUT:-data}
DATA=${DATA:-fashion-mnist:train}
PER_CLASS=${PER_CLASS:-1000}
THRESHOLD=${THRESHOLD:-0.9}

synth pack --data "$DATA" --out "$OUT/fmnist-train"
synth build --source "replay:$DATA" --classes 10 --per-class "$PER_CLASS" --threshold "$THRESHOLD" \
  --filter "$MODELS/filter-resnet-s.safetensors" --seed 0 --out "$OUT/fmnist-replay"
synth verify "$OUT/fmnist-replay"
