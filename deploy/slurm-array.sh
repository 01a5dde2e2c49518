#!/usr/bin/env bash
# A synth CaG build (10 classes x 10,000 samples, filtered) split over a Slurm job array of 8 tasks,
# then merged by a dependent job:
#
#   jid=$(sbatch --parsable deploy/slurm-array.sh)
#   sbatch --dependency=afterok:$jid --wrap "synth merge /shared/data/cag-fmnist && synth verify /shared/data/cag-fmnist"
#
# Needs `synth` on PATH on every node and a copy of the checkout's models/ directory in MODELS on a
# shared file system (the CaG classifier, its .stats.safetensors beside it, the reconstructor and
# the filter; every task must see the same files by content, their paths may differ: merge refuses
# parts whose model hashes differ, naming the field).
#
# Task I reads its worker index from SLURM_ARRAY_TASK_ID (the array must run 0..W-1; W is the
# array's size), and writes its shards (shard s belongs to worker s mod W) and
# manifest.part-I-of-W.json into OUT on a shared file system. The merge runs once every task has
# succeeded; the merged dataset is byte-identical to a one-process build with the same flags. A
# requeued or failed task rerun with the same command continues where it stopped (--resume keeps
# its complete shards). A task whose filter ran out of attempts for some class writes its part and
# fails (exit 1, naming the classes); add --allow-short to the build and to the merge to accept a
# short dataset.
#
# The environment overrides the defaults below (sbatch exports it to the tasks), and arguments after
# the script name are passed on to synth build; a small trial run of 3 tasks:
#   OUT=/shared/data/trial PER_CLASS=10 SHARD_SIZE=20 sbatch --array=0-2 deploy/slurm-array.sh
#SBATCH --job-name=synth-build
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=synth-build-%A_%a.out
set -euo pipefail

W=${SLURM_ARRAY_TASK_COUNT:-8}       # the array's size; the array must be 0..W-1
OUT=${OUT:-/shared/data/cag-fmnist}
MODELS=${MODELS:-/shared/models}
CLASSES=${CLASSES:-10}
PER_CLASS=${PER_CLASS:-10000}
SHARD_SIZE=${SHARD_SIZE:-1000}
THRESHOLD=${THRESHOLD:-0.9}
SEED=${SEED:-1}
FILTER=${FILTER:-$MODELS/filter-ref-cnn.safetensors}   # "none": keep every candidate
filter_args=(--filter "$FILTER")
[[ $FILTER == none ]] && filter_args=(--no-filter)

exec synth build --source cag \
  --classifier "$MODELS/teacher-ref-cnn.safetensors" \
  --reconstructor "$MODELS/cag-ref-recon.safetensors" \
  "${filter_args[@]}" \
  --classes "$CLASSES" --per-class "$PER_CLASS" --threshold "$THRESHOLD" --seed "$SEED" \
  --shard-size "$SHARD_SIZE" --out "$OUT" --workers "$W" --resume "$@"
