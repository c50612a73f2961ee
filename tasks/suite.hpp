// Suite: runs every [[eval]] of a recipe on an encoder and its baselines, prints the table and writes
// results.json (and per-item files with details).
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
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

// One [[eval]] table, its data loaded and checked: a task ready to score, or the reason it will not run
// (an optional task whose data is absent).
struct PreparedTask {
  std::vector<std::string> baselines;  // the baselines its table asks for, checked
  std::string name;
  std::string type;
  std::string dataset;
  std::string skipped;            // non-empty: not run, and why
  std::unique_ptr<Task> task;     // set when it runs
};

// Loads and validates the data of every [[eval]] table of `recipe` before anything is encoded: a
// malformed file or a bad key throws here (DataError / ConfigError naming the file and line), so a run
// never spends minutes on its first tasks to die on a later one's data.
std::vector<PreparedTask> prepare_suite(const Config& recipe);

// Scores `encoder` on each prepared task, with the baselines each table asks for. A task that throws
// while scoring is recorded as failed (TaskResult::failed) and the others still run; the
// caller decides the exit code (suite_failed()).
std::vector<TaskResult> run_suite(std::vector<PreparedTask>& tasks, Encoder& encoder, const SuiteOptions& options);
// Both steps at once (prepare_suite, then run_suite).
std::vector<TaskResult> run_suite(const Config& recipe, Encoder& encoder, const SuiteOptions& options);
// Whether any task failed while scoring.
bool suite_failed(const std::vector<TaskResult>& results);

// Terminal table: task, main metric, model, each baseline, encode items/s, seconds.
void print_results_table(const std::vector<TaskResult>& results, std::ostream& out);

}  // namespace sentbench
