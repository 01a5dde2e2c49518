#!/usr/bin/env bash
# Real-data baselines in the same format as synthetic sets:
#  - the whole training set as shards (interop: any WebDataset reader, or synth train --data shards:...);
#  - 1000 real images per class drawn by seed and passed through the same filter as a synthetic
#    build (source "replay"), to see what the filter does to real data.
set -euo pipefail
synth pack --data fashion-mnist:train --out data/fmnist-train
synth build --source replay:fashion-mnist:train --classes 10 --per-class 1000 --threshold 0.9 \
  --filter models/filter-resnet-s.safetensors --seed 0 --out data/fmnist-replay
synth verify data/fmnist-replay
