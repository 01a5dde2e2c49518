#!/usr/bin/env bash
# Packs Fashion-MNIST train (60k PNG samples, shards of 1000) with `synth pack` and with Python's
# webdataset + PIL (bench/pack_python.py), side by side on this machine, and prints the ratio.
# Needs a release build (swift build -c release --product synth) and the Python venv (scripts/setup).
# Usage: bench/pack.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
synth=.build/release/synth
python="${SYNTH_PYTHON:-.build/python/bin/python}"
[[ -x $synth ]] || { echo "build first: swift build -c release --product synth" >&2; exit 2; }
[[ -x $python ]] || { echo "no Python venv at $python (scripts/setup creates it; or set SYNTH_PYTHON)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

best() { sort -n | head -1; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

swift_times=(); python_times=()
for ((r = 0; r < runs; r++)); do
  rm -rf "$work/s" "$work/p"
  swift_times+=("$(seconds $synth pack --data fashion-mnist:train --out "$work/s" --shard-size 1000 --name fm)")
  python_times+=("$(seconds "$python" bench/pack_python.py "$work/p" --shard-size 1000)")
done
s=$(printf '%s\n' "${swift_times[@]}" | best); p=$(printf '%s\n' "${python_times[@]}" | best)
printf 'synth pack:            %.2f s (best of %d: %s)\n' "$s" "$runs" "${swift_times[*]}"
printf 'python webdataset+PIL: %.2f s (best of %d: %s)\n' "$p" "$runs" "${python_times[*]}"
printf 'ratio: synth is %.1fx faster\n' "$(echo "$p / $s" | bc -l)"
ls "$work/s"/*.tar | wc -l | xargs printf 'shards: synth %s, '; ls "$work/p"/*.tar | wc -l | xargs printf 'python %s\n'
