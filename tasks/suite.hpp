// Suite: runs every [[eval]] of a recipe on an encoder and its baselines, prints the table and writes
// results.json (and per-item files with details).
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "task.hpp"

namespace sentbench {

struct SuiteOptions {
  std::filesystem::path output_dir;  // results.json goes here; details under output_dir/details
  bool details = false;
  bool use_cache = true;
  std::filesystem::path cache_dir;   // empty: the default cache folder
  EncodeOptions encode;
  std::uint64_t seed = 42;
  // Polled before each task: once true, the remaining tasks are recorded as skipped (interrupted) and
  // the finished ones returned.
  std::function<bool()> stop_requested;
};

// Scores `encoder` on each [[eval]] table of `recipe`, with the baselines each table asks for.
std::vector<TaskResult> run_suite(const Config& recipe, Encoder& encoder, const SuiteOptions& options);

// The results as JSON text (schema in reports/SCHEMA.md once reports land; see results_json()).
std::string results_json(const std::vector<TaskResult>& results);
// Terminal table: task, main metric, model, each baseline, encode items/s, seconds.
void print_results_table(const std::vector<TaskResult>& results, std::ostream& out);

}  // namespace sentbench
