# The README's entry points. Each target installs dependencies, configures, builds, then runs.
#   make quickstart   the main job: run configs/quickstart.toml end to end
#   make check-data   maintainers: is the Debian data snapshot stale against this machine's apt lists?
#   make test         the whole test suite (what CI runs)
#   make bench        the Google Benchmark suite
#   make fuzz         the libFuzzer targets (clang build in build-fuzz), FUZZ_SECONDS each
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: deps configure build test quickstart check-data bench fuzz clean

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Only the executable and the plugins the quickstart loads are built (not the test suite).
# --overwrite: a second `make quickstart` starts afresh, the previous run moved into runs/quickstart/superseded-<time>/
quickstart: configure
	cmake --build $(BUILD) -j $(JOBS) --target sentbench_cli sentbench_plugin_roberta sentbench_plugin_contrastive sentbench_plugin_mlm
	$(BUILD)/bin/sentbench data debian --info
	$(BUILD)/bin/sentbench run --overwrite configs/quickstart.toml

# Maintainers: is the committed Debian snapshot built from this machine's apt lists? (Rebuild with
# `sentbench data debian`, review, commit.)
check-data: configure
	cmake --build $(BUILD) -j $(JOBS) --target sentbench_cli
	$(BUILD)/bin/sentbench data debian --check

bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTBENCH_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bin/sentbench_bench --benchmark_counters_tabular=true

# Only the fuzz targets and what they link are built (libsentbench, the dataset readers, the BPE tokenizer).
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTBENCH_BUILD_FUZZ=ON \
	  -DSENTBENCH_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target sentbench_fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_BUILD)

clean:
	rm -rf $(BUILD)
