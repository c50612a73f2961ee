#!/usr/bin/env bash
# Runs every fuzz target of a clang build (make fuzz builds one) for FUZZ_SECONDS each with a fixed
# -seed, and prints libFuzzer's final stats per target: executions, executions/s, and the findings
# (crash-*, leak-*, timeout-*, oom-* files under BUILD/fuzz/artifacts). Exit 1 when any target found
# something. Usage: tests/fuzz/run.sh [BUILD_DIR] [TARGET...]
set -uo pipefail
build=${1:-build-fuzz}
shift || true
seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-1}
dir=$build/fuzz
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
((${#targets[@]})) || targets=(fuzz_recipe fuzz_pairs fuzz_safetensors fuzz_datasets fuzz_bpe)
mkdir -p "$dir/artifacts" "$dir/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
rows=()
for t in "${targets[@]}"; do
  seeds=$dir/seeds/${t#fuzz_}
  work=$dir/corpus/${t#fuzz_}  # what the run adds; seeds stay as built
  mkdir -p "$work"
  log=$dir/logs/$t.log
  dict=()  # a libFuzzer dictionary of the format's keywords, when the target has one
  case $t in
    fuzz_safetensors) dict=(-dict="$here/safetensors.dict") ;;
    fuzz_pairs | fuzz_datasets) dict=(-dict="$here/json.dict") ;;
    fuzz_recipe) dict=(-dict="$here/recipe.dict") ;;
  esac
  rm -f "$dir/artifacts/$t-"*
  echo "fuzz: $t for ${seconds}s (seed $seed, corpus $work + $seeds)"
  "$dir/$t" -seed="$seed" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 "${dict[@]}" \
    -artifact_prefix="$dir/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  found=$(find "$dir/artifacts" -name "$t-*" -type f | wc -l)  # crash-, leak-, timeout-, oom- inputs
  if ((rc != 0)); then
    status=1
    echo "fuzz: $t FAILED (exit $rc); see $log and $dir/artifacts/$t-*"
    grep -m5 -E 'ERROR|SUMMARY|Test unit written|uncaught exception|what\(\)' "$log" | sed 's/^/    /'
  fi
  rows+=("$(printf '%-18s %12s %10s %8s' "$t" "${runs:-?}" "${rate:-?}" "$((rc == 0 ? found : found > 0 ? found : 1))")")
done
printf '%-18s %12s %10s %8s\n' target executions exec/s findings
printf '%s\n' "${rows[@]}"
exit $status
