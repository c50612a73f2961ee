#!/usr/bin/env bash
# 1 rank vs N local ranks on the same recipe and global batch, side by side: trains each for a few steps
# and prints the median pairs/s and tokens/s of the steps after the first few (warm-up excluded).
#   scripts/bench-distributed.sh [RECIPE] [STEPS] [NPROC]      (defaults: configs/quickstart-no-pretrain.toml 40 2;
#   RECIPE must be a one-stage [train] recipe: the contrastive quickstart without its pre-training stage)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-configs/quickstart-no-pretrain.toml}
steps=${2:-40}
nproc=${3:-2}
exe=${SENTBENCH:-build/bin/sentbench}
out=$(mktemp -d /tmp/sentbench-bench-dist.XXXXXX)
trap 'rm -rf "$out"' EXIT

median() {  # median of column $2 of train_log $1, skipping the first 5 steps
  python3 - "$1" "$2" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])][5:]
v = statistics.median(r[sys.argv[2]] for r in rows)
print(f"{v:.0f}" if v >= 100 else f"{v:.4f}")
EOF
}

for n in 1 "$nproc"; do
  args=(train "$recipe" --set "train.steps=$steps" --set train.checkpoint_every=0 -o "$out/n$n" -q)
  [ "$n" -gt 1 ] && args+=(--nproc "$n")
  start=$(date +%s.%N)
  "$exe" "${args[@]}"
  end=$(date +%s.%N)
  log="$out/n$n/train_log.jsonl"
  sync=""
  [ "$n" -gt 1 ] && sync=", gradient all-reduce $(median "$log" sync_seconds | awk '{printf "%.0f", $1 * 1000}') ms of $(median "$log" step_seconds | awk '{printf "%.0f", $1 * 1000}') ms per step"
  printf '%s rank(s): %s pairs/s, %s tokens/s (median of steps 6..%s)%s, wall %.1f s\n' "$n" \
    "$(median "$log" pairs_per_s)" "$(median "$log" tokens_per_s)" "$steps" "$sync" "$(echo "$end - $start" | bc)"
done
