#!/usr/bin/env bash
# sentbench's encoder and tokenizer beside their peers, in one sitting, on the same model files, texts
# and threads: PyTorch eager (shared/bench/pytorch_reference.py), ONNX Runtime and Hugging Face
# tokenizers (shared/bench/peers). Prints one Markdown table of absolute figures and ratios.
#
# Usage: scripts/bench-peers.sh [SHAPES] [ROUNDS]      e.g. scripts/bench-peers.sh "mini base" 3
#   SHAPES   pytorch_reference.py shapes to build and measure (default "mini base")
#   ROUNDS   alternating rounds per engine; the best round of each is kept (default 3)
# Environment: SHARED (default ../shared beside the project), PEERS (where the npm peers are installed,
#   default ../peers), WORK (models, exports, logs; default /tmp/sentbench-peers), THREADS (default 2),
#   BUILD (default build), TRAIN_SHAPES (shapes whose training step is compared too, batch 64 STS-B
#   train pairs, 5 timed steps; default "mini"; "" for none).
# Needs: a built tree (make build), Debian's python3-torch python3-regex python3-onnx, npm.
# Run it with nothing else on the machine: the figures are only comparable within one sitting.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shapes=${1:-"mini base"}
rounds=${2:-3}
SHARED=${SHARED:-$root/../shared}
PEERS=${PEERS:-$root/../peers}
WORK=${WORK:-/tmp/sentbench-peers}
THREADS=${THREADS:-2}
BUILD=${BUILD:-build}
TRAIN_SHAPES=${TRAIN_SHAPES-mini}
sentbench=$root/$BUILD/bin/sentbench
py=/usr/bin/python3
ref=$SHARED/bench/pytorch_reference.py

[[ -x $sentbench ]] || { echo "bench-peers: $sentbench not built (run make build)" >&2; exit 2; }
[[ -f $ref ]] || { echo "bench-peers: $ref not found (set SHARED to the shared folder)" >&2; exit 2; }
$py -c 'import torch, regex, onnx' 2>/dev/null || {
  echo "bench-peers: needs Debian's python3-torch python3-regex python3-onnx (apt-get install them)" >&2; exit 2; }
[[ -d $PEERS/node_modules/onnxruntime-node ]] || bash "$SHARED/bench/peers/setup.sh" "$PEERS" >&2

mkdir -p "$WORK"
texts=$WORK/stsb-dev-800.txt
# The 800 sentences of the first 400 STS-B dev pairs (columns 6 and 7 of sts-dev.csv).
head -n 400 "$SHARED/data/stsb/sts-dev.csv" | awk -F'\t' '{print $6; print $7}' >"$texts"
sts=$WORK/stsb-dev-400.csv   # the same 400 pairs as an STS file, for `sentbench eval`
head -n 400 "$SHARED/data/stsb/sts-dev.csv" >"$sts"
pairs=$WORK/stsb-train-pairs.jsonl
$py - "$SHARED/data/stsb/sts-train.csv" "$pairs" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in f:
        c = line.rstrip("\n").split("\t")
        if len(c) >= 7: out.write(json.dumps([c[5], c[6]]) + "\n")
EOF

field() { $py -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])" "$1"; }
best() { sort -g | tail -1 | xargs printf '%.1f\n'; }   # highest of the rounds
ratio() { $py -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b>0 else 'n/a')" "$1" "$2"; }

rows=()
for shape in $shapes; do
  model=$WORK/$shape
  [[ -f $model/model.safetensors ]] || $py "$ref" make-model --shape "$shape" --vocab-dir "$SHARED/data/roberta-tokenizer" --out "$model" >/dev/null
  [[ -f $WORK/onnx-$shape/model.onnx ]] || (cd "$SHARED/bench/peers" && $py export.py "$model" "$texts" "$WORK/onnx-$shape" >/dev/null 2>&1)
  declare -A r=()
  for ((k = 0; k < rounds; k++)); do
    for dtype in fp32 bf16; do
      r[eager_$dtype]+="$($py "$ref" encode --model "$model" --texts "$texts" --threads "$THREADS" --dtype $dtype | field sentences_per_s) "
      r[sb_$dtype]+="$("$sentbench" -q bench encode --model "$model" --input "$texts" --threads "$THREADS" --dtype $dtype | field sentences_per_s) "
    done
    r[ort]+="$( (cd "$PEERS" && node ort.js "$WORK/onnx-$shape" "$THREADS") | field sentences_per_s) "
  done
  for key in eager_fp32 sb_fp32 ort eager_bf16 sb_bf16; do r[$key]=$(tr ' ' '\n' <<<"${r[$key]}" | grep . | best); done
  rows+=("| $shape encode fp32, sentences/s | ${r[sb_fp32]} | eager ${r[eager_fp32]} | $(ratio "${r[sb_fp32]}" "${r[eager_fp32]}") |")
  rows+=("| $shape encode fp32, sentences/s | ${r[sb_fp32]} | ONNX Runtime ${r[ort]} | $(ratio "${r[sb_fp32]}" "${r[ort]}") |")
  rows+=("| $shape encode bf16, sentences/s | ${r[sb_bf16]} | eager bf16 ${r[eager_bf16]} | $(ratio "${r[sb_bf16]}" "${r[eager_bf16]}") |")
  # `sentbench eval` with the recipe's defaults on the same texts (one cold run each: tokenization and
  # every batch timed, as in a user's run), beside `bench encode`'s warm model-only figure.
  for dtype in fp32 bf16; do
    cat >"$WORK/eval-$shape-$dtype.toml" <<EOF
[run]
name = "eval-$shape-$dtype"
threads = $THREADS
[encoder]
plugin = "roberta"
model = "$model"
dtype = "$([[ $dtype == bf16 ]] && echo bfloat16 || echo float32)"
[[eval]]
type = "sts"
name = "stsb-dev-400"
path = "$sts"
format = "stsb"
EOF
    e=""
    for ((k = 0; k < rounds; k++)); do
      rm -rf "$WORK/eval-run"
      "$sentbench" -q eval "$WORK/eval-$shape-$dtype.toml" --no-cache -o "$WORK/eval-run" >/dev/null
      e+="$($py -c "import json,sys; r=json.load(open(sys.argv[1])); print([t for t in r['tasks'] if t['name']=='stsb-dev-400'][0]['model']['items_per_second'])" "$WORK/eval-run/results.json") "
    done
    e=$(tr ' ' '\n' <<<"$e" | grep . | best)
    rows+=("| $shape eval $dtype (defaults), texts/s | $e | bench encode ${r[sb_$dtype]} | $(ratio "$e" "${r[sb_$dtype]}") |")
  done
  if [[ " $TRAIN_SHAPES " == *" $shape "* ]]; then
    declare -A t=()
    for ((k = 0; k < rounds; k++)); do
      for dtype in fp32 bf16; do
        t[eager_$dtype]+="$($py "$ref" train --model "$model" --pairs "$pairs" --batch 64 --steps 5 --threads "$THREADS" --dtype $dtype | field pairs_per_s) "
        t[sb_$dtype]+="$("$sentbench" -q bench train --model "$model" --pairs "$pairs" --batch 64 --steps 5 --threads "$THREADS" --dtype $dtype | field pairs_per_s) "
      done
    done
    for key in eager_fp32 sb_fp32 eager_bf16 sb_bf16; do t[$key]=$(tr ' ' '\n' <<<"${t[$key]}" | grep . | best); done
    rows+=("| $shape train fp32 (batch 64), pairs/s | ${t[sb_fp32]} | eager ${t[eager_fp32]} | $(ratio "${t[sb_fp32]}" "${t[eager_fp32]}") |")
    rows+=("| $shape train bf16 (batch 64), pairs/s | ${t[sb_bf16]} | eager bf16 ${t[eager_bf16]} | $(ratio "${t[sb_bf16]}" "${t[eager_bf16]}") |")
    unset t
  fi
  unset r
done

# Tokenizer, one thread: the golden texts through Hugging Face tokenizers and through sentbench.
golden=$SHARED/data/roberta-tokenizer/golden.jsonl
golden_texts=$WORK/golden-texts.jsonl
$py -c "import json,sys; [print(json.dumps(json.loads(l)['text'])) for l in open(sys.argv[1], encoding='utf-8')]" "$golden" >"$golden_texts"
hf=""; sb=""
for ((k = 0; k < rounds; k++)); do
  hf+="$( (cd "$PEERS" && RAYON_NUM_THREADS=1 node tok.js "$SHARED/data/roberta-tokenizer/tokenizer.json" "$golden") | field mb_per_s) "
  sb+="$("$sentbench" -q bench encode --model "$WORK/mini" --input "$golden_texts" --jsonl --tokenize-only --threads 1 | field tokenize_mb_per_s) "
done
hf=$(tr ' ' '\n' <<<"$hf" | grep . | best); sb=$(tr ' ' '\n' <<<"$sb" | grep . | best)
rows+=("| tokenizer, 1 thread, MB/s (10,584 golden texts) | $sb | HF tokenizers $hf | $(ratio "$sb" "$hf") |")

echo
echo "threads=$THREADS, rounds=$rounds (best of each), $(nproc) cores, $(date -u +%F)"
echo "| what | sentbench | peer | ratio |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
