#!/usr/bin/env bash
# Builds plugins/example the way a third party would, against an installed sentbench, and checks the
# installed `sentbench plugins` loads it.
#
# usage: example_out_of_tree.sh BUILD_DIR SOURCE_DIR SENTBENCH
#   BUILD_DIR   the main sentbench build (already built); the SDK is installed into BUILD_DIR/sdk-install
#   SOURCE_DIR  the sentbench source tree (plugins/example is built from there)
#   SENTBENCH   the sentbench binary to check with, normally BUILD_DIR/sdk-install/bin/sentbench: the
#               installed one, whose plugin folders hold no other plugin named "hashing"
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR SENTBENCH" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
sentbench=$3
prefix=$build_dir/sdk-install
example_build=$build_dir/example-out-of-tree
jobs=${SENTBENCH_TEST_JOBS:-2}

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The same compiler and build type as the main build: a plugin must match its host's C++ runtime.
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt" | head -n 1; }
compiler=$(cache_value CMAKE_CXX_COMPILER)
build_type=$(cache_value CMAKE_BUILD_TYPE)
generator=$(cache_value CMAKE_GENERATOR)
torch_dir=$(cache_value Torch_DIR)

step "install the SDK into $prefix"
rm -rf "$prefix" "$example_build"
cmake --install "$build_dir" --prefix "$prefix" > "$build_dir/sdk-install.log" \
  || { cat "$build_dir/sdk-install.log" >&2; fail "cmake --install failed"; }
[[ -f $prefix/include/sentbench/plugin.hpp ]] || fail "SDK headers not installed"
ls "$prefix"/lib*/cmake/sentbench/sentbenchConfig.cmake > /dev/null || fail "sentbenchConfig.cmake not installed"
[[ -x $sentbench ]] || fail "$sentbench is not an executable (was the CLI installed?)"

step "configure plugins/example standalone against $prefix"
configure_args=(-S "$source_dir/plugins/example" -B "$example_build" -DCMAKE_PREFIX_PATH="$prefix")
[[ -n $generator ]] && configure_args+=(-G "$generator")
[[ -n $compiler ]] && configure_args+=(-DCMAKE_CXX_COMPILER="$compiler")
[[ -n $build_type ]] && configure_args+=(-DCMAKE_BUILD_TYPE="$build_type")
[[ -n $torch_dir && $torch_dir != *NOTFOUND ]] && configure_args+=(-DTorch_DIR="$torch_dir")
cmake "${configure_args[@]}"
# It must have come through find_package, not the source tree.
grep -q "^sentbench_DIR:PATH=$prefix/" "$example_build/CMakeCache.txt" \
  || fail "find_package(sentbench) did not use the installed SDK: $(grep '^sentbench_DIR' "$example_build/CMakeCache.txt" || echo 'sentbench_DIR unset')"

step "build it"
cmake --build "$example_build" -j "$jobs"
plugin=$example_build/sentbench-hashing.so
[[ -f $plugin ]] || fail "build did not produce $plugin"

# Without the plugin path the installed sentbench must not know "hashing"; otherwise the check below
# would pass on some other copy of it.
step "sentbench plugins without SENTBENCH_PLUGIN_PATH"
without=$(env -u SENTBENCH_PLUGIN_PATH "$sentbench" plugins)
echo "$without"
if grep -Eq '^hashing[[:space:]]' <<< "$without"; then
  fail "the installed sentbench already finds a plugin named hashing, so the out-of-tree build cannot be checked"
fi

step "sentbench plugins with SENTBENCH_PLUGIN_PATH=$example_build"
with=$(SENTBENCH_PLUGIN_PATH="$example_build" "$sentbench" plugins)
echo "$with"
# A table row: name, kind, version, path. A refused file would be listed as "  <path>: <reason>".
awk -v path="$plugin" '$1 == "hashing" && $2 == "encoder" && $3 == "1.0.0" && substr($0, length($0) - length(path) + 1) == path { found = 1 }
                        END { exit !found }' <<< "$with" \
  || fail "the out-of-tree hashing plugin is not listed as loaded from $plugin"
if grep -Fq "$plugin:" <<< "$with"; then
  fail "the out-of-tree hashing plugin was refused"
fi
echo "PASS: out-of-tree example plugin builds against the installed SDK and loads"
