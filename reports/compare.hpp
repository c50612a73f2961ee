// Comparing runs: `sentbench compare` (side by side with deltas and paired bootstraps) and
// `sentbench regress` (the nightly gate: did the current run fall behind the baseline?).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootstrap.hpp"
#include "report.hpp"

namespace sentbench {

// One metric across the compared reports (nullopt where a report lacks it).
struct MetricRow {
  std::string name;
  std::vector<std::optional<double>> values;
  bool relative = false;  // speed figures: deltas shown in percent rather than absolute
  int decimals = 4;       // 0 for counts
};

// Runs of one configuration: reports whose resolved recipes agree but for run.seed (and the run's name
// and output folder). Their spread is what another seed would change.
struct SeedGroup {
  std::string label;                  // "A,B"
  std::vector<std::size_t> members;   // report indices
};

// One task present in every compared report: its metrics and, for each report after the first, the
// paired bootstrap of its main score against the first (nullopt with a note when items do not pair).
struct TaskComparison {
  std::string name;
  std::string type;
  std::string main_metric;
  std::vector<MetricRow> rows;
  std::vector<std::optional<BootstrapResult>> bootstrap;  // index i: report i vs report 0; [0] unused
  std::vector<SeedSpread> seeds;                          // per seed group (empty when every group has one run)
  std::vector<std::optional<SeedTest>> seed_tests;        // group g vs group 0; [0] unused
  std::vector<std::string> notes;
};

// The whole comparison: report labels (A, B, ...) and sources, tasks, training and speed rows.
struct Comparison {
  std::vector<std::string> labels;
  std::vector<std::string> sources;
  std::vector<std::string> run_names;
  std::vector<std::string> commits;
  BootstrapOptions bootstrap;
  std::vector<SeedGroup> groups;         // the reports grouped by configuration, in first-seen order
  std::vector<std::size_t> group_of;     // report index -> group index
  bool seed_variance() const;            // some group has runs of two seeds or more
  std::vector<TaskComparison> tasks;
  std::vector<MetricRow> training;
  std::vector<std::string> notes;  // tasks not in every report, changed datasets
};

// Compares reports[1..] with reports[0] on the tasks all of them ran. `sources` names each report
// (file paths) in the output. ConfigError when fewer than two reports are given.
Comparison compare_reports(const std::vector<Report>& reports, const std::vector<std::string>& sources,
                           const BootstrapOptions& options = {});
// Pipe tables (Markdown that also reads in a terminal) and the same as JSON.
std::string render_comparison(const Comparison& comparison);
nlohmann::json comparison_json(const Comparison& comparison);

// What counts as a regression. Defaults here; the current report's recipe [report].tolerance table
// overrides them, and command-line flags override both (see tolerances_from_recipe()).
struct Tolerances {
  double main_score = 0.01;      // a main score may drop this much (absolute) whatever the bootstrap says
  bool significance = true;      // also fail a drop whose bootstrap interval lies below zero ...
  double min_drop = 0.001;       // ... when it is larger than this (so float noise never fails a run)
  double alpha = 0.05;           // bootstrap interval level: 1 - alpha
  double throughput = 0.2;       // relative drop in items/s, pairs/s or tokens/s that fails (0.2 = 20%)
  double min_timed_seconds = 0.5;  // throughput timed over less than this is too noisy to gate on
  int resamples = 1000;
  std::uint64_t seed = 42;
  std::size_t min_items = BootstrapOptions::kMinBootstrapItems;  // fewer paired items: not testable
  // A task the current run skipped (an optional task whose data is absent) is reported, not failed:
  // for a test suite run on clones without the optional data; a nightly gate leaves it off.
  bool allow_skipped = false;
  std::map<std::string, std::string> origin;  // key -> "default", "recipe" or "flag", for the printout
};
// Applies the keys of recipe["report"]["tolerance"] that are present (main_score, significance,
// min_drop, alpha, throughput) on top of `base`; ConfigError naming the key when one is mistyped.
Tolerances tolerances_from_recipe(const nlohmann::json& recipe, Tolerances base);

// One check of the gate.
struct RegressionFinding {
  std::string task;       // task name, or "training"
  std::string what;       // the metric or speed figure
  double baseline = 0;
  double current = 0;
  double change = 0;      // current - baseline (absolute for scores, relative for speed)
  bool relative = false;
  bool regressed = false;
  std::string reason;     // why it failed or passed, with numbers
};

// The gate's verdict.
struct RegressionReport {
  std::vector<RegressionFinding> findings;
  std::vector<std::string> warnings;  // not failures: changed dataset hashes, task versions, ...
  Tolerances tolerances;
  std::size_t baseline_runs = 1;  // runs per side: more than one on both sides brings the between-seed spread in
  std::size_t current_runs = 1;
  // regress --history: the baseline is the median of this many runs, and significance is the current
  // score against their t prediction interval (0: not a history gate).
  std::size_t window_runs = 0;
  bool regressed() const;
};

// Checks `current` against `baseline`: every baseline task's main score (missing or skipped tasks
// regress), each task's encode throughput and the training throughput.
RegressionReport check_regressions(const Report& baseline, const Report& current, const Tolerances& tolerances);
// The same gate over several runs a side (the same recipe with different seeds): main scores are the
// means over each side's runs, and the significance test is a Student-t interval on the seed means
// (see SeedTest) instead of the item bootstrap, so a seed's luck is not taken for a regression.
// Throughput is gated on the median run of each side. One run a side is the single-run gate.
RegressionReport check_regressions(const std::vector<Report>& baselines, const std::vector<Report>& currents,
                                   const Tolerances& tolerances);
// The verdict as text: tolerances with their origin, one line per check, then a summary line.
std::string render_regressions(const RegressionReport& report, const std::string& baseline_source,
                               const std::string& current_source);

}  // namespace sentbench
