#!/usr/bin/env bash
# The one list of sentbench's system dependencies (Debian 12). Idempotent: when every package is
# already installed it only runs dpkg-query and exits within a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  # LibTorch (CPU) and what its distributed headers need; OpenBLAS so matmul is not the reference BLAS
  libtorch-dev libgloo-dev libopenblas0-pthread libopenblas-pthread-dev
  # harness building blocks
  libtomlplusplus-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libboost-dev libboost-filesystem-dev libboost-system-dev
  zlib1g-dev libutf8proc-dev libxxhash-dev
  # the Debian data builder reads apt's lz4-compressed package lists
  liblz4-dev
  # tests and benchmarks; chromium renders report.html headless in the report tests
  libgtest-dev libgmock-dev libbenchmark-dev chromium
  # `ip netns` and veth pairs for distributed_netns_tests (two ranks as two hosts; run as root)
  iproute2
  # make fuzz (tests/fuzz): clang with libFuzzer and the sanitizer runtimes (clang 14 on Debian 12)
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Translation-en carries Debian's long package descriptions, which the quickstart data builder reads.
  $SUDO apt-get update -o Acquire::Languages=en -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch uses whatever libblas.so.3 points to: make sure it is OpenBLAS, not the reference BLAS.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ -n "$blas" && "$blas" != *openblas* ]]; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  alt=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas | head -1 || true)
  [[ -n "$alt" ]] && $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$alt"
  echo "install-deps: libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
fi
