#!/usr/bin/env bash
# `sentbench sweep` end to end on the quickstart shortened to 2 steps per stage (one-key grid × 2 seeds =
# 4 runs): the sweep is stopped with SIGTERM to its process group once the first run has finished, then
# run again with --parallel 2. Checks: the stopped sweep exits 143 and leaves the first run finished; the
# second invocation skips that run (one attempt in its sweep.log, report.json untouched), continues the
# stopped one (--resume or --overwrite) and runs the rest; the report lists every configuration; a third
# invocation has nothing to run and rewrites the report; --dry-run lists every run as done.
# Usage: sweep_resume.sh SENTBENCH SOURCE_DIR WORK_DIR
set -euo pipefail
sentbench=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
out=$work/sweep
args=("$source/configs/quickstart.toml" --grid 'stage[1].lr=1e-3,2e-3' --seeds 2 -o "$out" --no-cache
      --set 'stage[0].steps=2' --set 'stage[0].warmup_steps=1' --set 'stage[0].checkpoint_every=0'
      --set 'stage[1].steps=2' --set 'stage[1].warmup_steps=1' --set 'stage[1].checkpoint_every=0'
      --set 'eval[1].subsets=2')
first="$out/lr=1e-3,seed=42"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. start the sweep, stop it (SIGTERM to its process group) while its second run works"
setsid "$sentbench" sweep "${args[@]}" > "$work/first.txt" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q 'started  lr=1e-3,seed=43' "$work/first.txt" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
sleep 4  # into the second run's training or evaluation
kill -TERM -- "-$pid"
status=0
wait "$pid" || status=$?
cat "$work/first.txt"
[ "$status" -eq 143 ] || fail "the stopped sweep exited $status, not 143"
[ -f "$first/report.json" ] || fail "the first run did not finish before the stop"
[ ! -f "$out/lr=2e-3,seed=43/report.json" ] || fail "the last run finished although the sweep was stopped"
[ ! -f "$out/sweep.md" ] || fail "a stopped sweep wrote the sweep report"
before=$(stat -c %Y "$first/report.json"; md5sum < "$first/report.json")

echo "== 2. run it again, two runs at once"
sleep 1  # so that a rewritten report.json would get another mtime
"$sentbench" sweep "${args[@]}" --parallel 2 > "$work/second.txt" 2>&1 || { cat "$work/second.txt"; fail "the resumed sweep failed"; }
cat "$work/second.txt"
grep -q '\[1/4\] skipped  lr=1e-3,seed=42: finished earlier' "$work/second.txt" || fail "the finished run was not skipped"
grep -q 'started  lr=1e-3,seed=43' "$work/second.txt" || fail "the stopped run was not continued"
grep -q '2 at once, 1 core each' "$work/second.txt" || fail "--parallel 2 did not split the cores"
after=$(stat -c %Y "$first/report.json"; md5sum < "$first/report.json")
[ "$before" = "$after" ] || fail "the finished run's report.json changed: it was done again"
[ "$(grep -c '^==== sentbench sweep' "$first/sweep.log")" -eq 1 ] || fail "the finished run was started again"
for run in 'lr=1e-3,seed=42' 'lr=1e-3,seed=43' 'lr=2e-3,seed=42' 'lr=2e-3,seed=43'; do
  [ -f "$out/$run/report.json" ] || fail "$run has no report.json"
done
for f in sweep.md sweep.html sweep.json; do [ -s "$out/$f" ] || fail "$f is missing"; done
for config in 'lr=1e-3' 'lr=2e-3'; do
  grep -q "\"name\": \"$config\"" "$out/sweep.json" || fail "sweep.json lacks $config"
  grep -q "$config,seed=43" "$out/sweep.md" || fail "sweep.md lacks $config"
done
grep -q '2 configurations × 2 seeds = 4 runs, 4 finished' "$out/sweep.md" || fail "sweep.md does not count 4 finished runs"
grep -q '<svg' "$out/sweep.html" || fail "sweep.html has no plot"

echo "== 3. again: nothing to run, the report is rewritten"
"$sentbench" sweep "${args[@]}" > "$work/third.txt" 2>&1 || { cat "$work/third.txt"; fail "the third sweep failed"; }
grep -q '4 finished earlier, 0 to run' "$work/third.txt" || fail "the third sweep did not find every run finished"
"$sentbench" sweep "${args[@]}" --dry-run > "$work/dry.txt" 2>&1
cat "$work/dry.txt"
[ "$(grep -c '| done ' "$work/dry.txt")" -eq 4 ] || fail "--dry-run does not list 4 runs as done"
echo "sweep_resume: ok"
