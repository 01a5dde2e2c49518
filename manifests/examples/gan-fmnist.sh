#!/usr/bin/env bash
# Example build recipe: 10k filtered GAN samples of Fashion-MNIST, checked and previewed.
# Every flag lands in the manifest's "build" record (with the sha256 of each model file), so the
# manifest alone says how to rebuild the dataset byte for byte.
set -euo pipefail
synth build --source gan \
  --generator models/gan-concat.safetensors \
  --filter models/filter-resnet-s.safetensors \
  --classes 10 --per-class 1000 --threshold 0.5 --seed 3 --shard-size 1000 \
  --out data/gan-fmnist
synth verify data/gan-fmnist
synth preview data/gan-fmnist --out data/gan-fmnist-preview.png
synth cas --train shards:data/gan-fmnist --test fashion-mnist:test
