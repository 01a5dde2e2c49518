#!/usr/bin/env bash
# One ref-cnn training epoch on Fashion-MNIST, synth beside PyTorch, in the same shell, alternating
# runs so that drift on a shared machine hits both alike. Prints every run and the ratio of medians.
# Usage: bench/train_epoch.sh [rounds=3]   (REFERENCE_DIR defaults to ../shared/reference)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
ref=${REFERENCE_DIR:-../shared/reference}
swift build -c release --product synth >/dev/null
ours=(); theirs=()
for i in $(seq "$rounds"); do
  s=$(.build/release/synth bench train --epochs 1 | awk '{print $2}')
  t=$(/usr/bin/python3 "$ref/torch_train_epoch.py" 1 | awk '{print $2}')
  echo "round $i: synth ${s}s  torch ${t}s"
  ours+=("$s"); theirs+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "median synth ${ms}s  torch ${mt}s  ratio synth/torch $(awk -v a="$ms" -v b="$mt" 'BEGIN{printf "%.2f", a/b}')"
