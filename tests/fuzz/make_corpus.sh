#!/usr/bin/env bash
# Seed corpora for the fuzz targets, built from the test fixtures (and the committed Debian data) into a
# folder of the build tree: tests/fuzz/make_corpus.sh SOURCE_DIR OUT_DIR. Nothing from ../shared.
set -euo pipefail
src=$1
out=$2
rm -rf "$out"
mkdir -p "$out"/{recipe,pairs,safetensors,datasets,bpe}
fx=$src/tests/fixtures

# recipe: every fixture recipe and the shipped ones
n=0
for f in "$fx"/recipes/*.toml "$fx"/recipes/base/*.toml "$src"/configs/*.toml; do
  cp "$f" "$out/recipe/$((n++))-$(basename "$f")"
done

# pairs: every example format, a slice of the Debian pairs, and data configs (read_data_config)
printf '["a", "b"]\n["a", "b", "c"]\n' >"$out/pairs/lists.jsonl"
printf '{"texts": ["a", "b", "c"]}\n{"query": "q", "pos": ["p1", "p2"], "neg": "n"}\n{"query": "q", "pos": "p", "neg": []}\n' \
  >"$out/pairs/objects.jsonl"
printf '["caf\\u00e9 \xc3\xa9", "bad \xff byte"]\r\n\n["x", "y"]' >"$out/pairs/bytes.jsonl"
{ gzip -dc "$src/datasets/data/debian/pairs.jsonl.gz" || true; } | head -n 20 >"$out/pairs/debian.jsonl"
for f in "$src"/configs/data/*.json; do
  [[ -f $f ]] && head -c 4000 "$f" >"$out/pairs/config-$(basename "$f")"
done

# safetensors (see fuzz_safetensors.cpp): each hand-made file twice, as it stands after a 0x01 byte (8-byte
# little-endian header length, JSON header, data) and as 0x00, header, 0x00, data
safetensors() {  # NAME HEADER DATA_BYTES
  local len=${#2}
  { printf '\x01'; printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' $((len & 255)) \
    $(((len >> 8) & 255)) $(((len >> 16) & 255)) $(((len >> 24) & 255)))"; printf '%s' "$2"; head -c "$3" /dev/zero; } \
    >"$out/safetensors/raw-$1"
  { printf '\x00%s\x00' "$2"; head -c "$3" /dev/zero; } >"$out/safetensors/json-$1"
}
safetensors one.safetensors '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' 16
safetensors two.safetensors \
  '{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}' 16
safetensors empty.safetensors '{"e":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}' 0
safetensors all-dtypes.safetensors \
  '{"f16":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"f64":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},"i32":{"dtype":"I32","shape":[],"data_offsets":[16,20]}}' 24

# regressions: headers the reader once answered with a raw nlohmann exception (tests/unit/io_test.cpp)
safetensors dtype-null.safetensors '{"w":{"dtype":null,"shape":[1],"data_offsets":[0,4]}}' 4
safetensors metadata-string.safetensors '{"__metadata__":"pt","w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' 4
safetensors offsets-fraction.safetensors '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}}' 4

# datasets: one selector byte (see fuzz_datasets.cpp), then the file
with() { printf "\\x$(printf %02x "$1")"; cat "${@:2}"; }
for d in "$fx"/data/beir*/; do
  name=$(basename "$d")
  { printf '\x00'; cat "$d/corpus.jsonl"; printf '\x1e'; cat "$d/queries.jsonl"; printf '\x1e'; cat "$d"/qrels/test.tsv; } \
    >"$out/datasets/$name"
done
for f in "$fx"/data/sts/sts-*.csv; do with 1 "$f" >"$out/datasets/$(basename "$f")"; done
with 2 "$fx/data/sts/SICK_mini.txt" >"$out/datasets/SICK_mini.txt"
{ printf '\x03'; printf 'id\tsentence1\tsentence2\tscore\tsplit\n'; tail -n +2 "$fx/data/sts/pairs.tsv"; } \
  >"$out/datasets/named.tsv"
for f in "$fx"/data/clustering/*.jsonl; do with 4 "$f" >"$out/datasets/clustering-$(basename "$f")"; done
for f in "$fx"/data/clustering/*.tsv; do with 5 "$f" >"$out/datasets/clustering-$(basename "$f")"; done
with 6 "$fx/data/clusters.tsv" >"$out/datasets/texts.txt"
printf '\x07"a\\nb"\n{"text": "c"}\n""\n' >"$out/datasets/texts.jsonl"

# bpe: lines of Debian descriptions, and text that exercises every pre-token class
head -c 3000 "$fx/debian/test_main_i18n_Translation-en" >"$out/bpe/debian.txt"
printf "Hello world! It's 2026; don't   stop.\n\tcaf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 123,456 <s>\n" >"$out/bpe/mixed.txt"
printf 'bad \xff \xe2\x82 \xed\xa0\x80 \xc0\xaf end' >"$out/bpe/invalid.txt"
echo "fuzz corpora: $(find "$out" -type f | wc -l) seed files in $out"
