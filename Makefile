# The README's entry points. Each target installs dependencies, configures, builds, then runs.
#   make quickstart   the main job: run configs/quickstart.toml end to end
#   make test         the whole test suite (what CI runs)
#   make bench        the Google Benchmark suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build test quickstart bench clean

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

quickstart: build
	$(BUILD)/bin/sentbench data debian --check
	$(BUILD)/bin/sentbench run configs/quickstart.toml

bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTBENCH_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bin/sentbench_bench --benchmark_counters_tabular=true

clean:
	rm -rf $(BUILD)
