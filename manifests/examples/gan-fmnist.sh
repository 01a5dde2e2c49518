#!/usr/bin/env bash
# Example build recipe: 10k filtered GAN samples of Fashion-MNIST from the four shipped generators,
# checked, previewed and measured (CAS on the real test set).
# Every flag lands in the manifest's "build" record (with the sha256 of each model file), so the
# manifest alone says how to rebuild the dataset byte for byte.
# Needs `synth` on PATH. The environment overrides the defaults (a quick trial:
#   PER_CLASS=10 CAS_STEPS=100 manifests/examples/gan-fmnist.sh).
set -euo pipefail
MODELS=${MODELS:-$(cd "$(dirname "$0")/../../models" && pwd)}   # the checkout's models/
OUT=${OUT:-data/gan-fmnist}
PER_CLASS=${PER_CLASS:-1000}
THRESHOLD=${THRESHOLD:-0.5}
SHARD_SIZE=${SHARD_SIZE:-1000}
TEST=${TEST:-fashion-mnist:test}
CAS_STEPS=${CAS_STEPS:-4690}          # synth cas's default protocol

synth build --source gan \
  --generator "$MODELS/gan-concat-s1.safetensors" "$MODELS/gan-concat-s2.safetensors" \
              "$MODELS/gan-concat-s3.safetensors" "$MODELS/gan-concat-s4.safetensors" \
  --filter "$MODELS/filter-resnet-s.safetensors" \
  --classes 10 --per-class "$PER_CLASS" --threshold "$THRESHOLD" --seed 3 --shard-size "$SHARD_SIZE" \
  --out "$OUT"
synth verify "$OUT"
synth preview "$OUT" --out "$OUT-preview.png"
synth cas --train "shards:$OUT" --test "$TEST" --steps "$CAS_STEPS"
