// `sentbench sweep`: the plan (a grid of --set values × seeds → named runs) and the sweep report
// (sweep.json, sweep.md, sweep.html) built from the runs' report.json files. Plain C++ like the rest of
// reports/: the command that starts the runs lives in harness/cli/cmd_sweep.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bootstrap.hpp"
#include "report.hpp"

namespace sentbench {

// ---- the plan ---------------------------------------------------------------------------------------

// One `--grid KEY=V1,V2,...`: a recipe key (as `--set` takes it) and its values in the order given.
struct GridAxis {
  std::string key;                  // "stage[1].lr"
  std::vector<std::string> values;  // TOML values as typed: "1e-3", "\"mean\"", "[1, 2]"
  std::string label;                // the key in run names: its last path component when unique ("lr")
};

// Parses one --grid option. Values are split at commas outside brackets, braces and quotes, so arrays
// ("KEY=[1,2],[3,4]") and quoted strings with commas work. UsageError saying what is wrong and how to
// write it (no '=', an empty key or value, a repeated value).
GridAxis parse_grid_axis(const std::string& text);

// One run of the sweep.
struct SweepRun {
  std::string name;         // its folder under the sweep folder: "lr=1e-3,batch=64,seed=43"
  std::string config_name;  // the same without the seed: what its seeds share
  std::size_t config = 0;   // index of its configuration (grid combination) in SweepPlan::configs
  std::vector<std::pair<std::string, std::string>> settings;  // (key, value) per axis, in --grid order
  std::optional<std::int64_t> seed;                           // set when the sweep has several seeds
  // The --set overrides of this run, after the sweep's own --set options: "key=value" per axis and
  // "run.seed=N" for a seeded run.
  std::vector<std::string> overrides() const;
};

// One grid combination and its runs (one per seed).
struct SweepConfig {
  std::string name;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::size_t> runs;  // indices into SweepPlan::runs, in seed order
};

struct SweepPlan {
  std::vector<GridAxis> axes;
  std::vector<std::int64_t> seeds;  // empty: one run per configuration with the recipe's own seed
  std::vector<SweepConfig> configs; // the Cartesian product, first axis slowest
  std::vector<SweepRun> runs;       // configuration-major, seeds inner
};

// The Cartesian product of the axes, times `seeds` seeds (base_seed, base_seed + 1, ...; one seed keeps the
// recipe's and leaves it out of the names). Names: "label=value" per axis joined by ',' (then ",seed=N");
// labels are each key's last path component ("stage[1].lr" → "lr") unless two axes (or "seed") would share
// one, then the whole key without brackets ("stage1.lr"); value characters other than letters, digits and
// ". _ + - @" become '_' (TOML quotes are dropped). A name over 120 characters, or one that two different
// settings would share after that, gets the first 8 hex digits of its settings' hash. UsageError for a key
// given twice, for no axis, or for run.seed on the grid together with seeds > 1.
SweepPlan plan_sweep(std::vector<GridAxis> axes, int seeds, std::int64_t base_seed);

// A value as a name shows it ("\"mean\"" → "mean", "../a b" → ".._a_b").
std::string name_safe_value(const std::string& value);

// ---- the report -------------------------------------------------------------------------------------

// What the sweep knows about one run when it writes the report.
struct SweepRunOutcome {
  std::string status = "pending";  // "done", "failed (exit 1)", "interrupted", "pending"
  std::optional<Report> report;    // the run's report.json when it finished
  double elapsed_seconds = 0;      // wall time of the run's process in this sweep (0: not run now)
};

// A task's main score over the finished seeds of one configuration.
struct SweepScore {
  std::size_t runs = 0;
  double mean = 0;  // NaN when no run scored the task
  double std = 0;   // sample standard deviation (n - 1); 0 for one run
  std::vector<double> values;  // per finished run, in seed order
};

struct SweepConfigSummary {
  std::string name;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> runs;         // run names, seed order
  std::vector<std::string> run_status;   // per run
  std::vector<std::int64_t> seeds;       // per run (empty when the sweep has no seeds of its own)
  std::size_t finished = 0;
  std::vector<SweepScore> scores;        // per SweepSummary::tasks
  double train_tokens_per_s = 0;         // means over finished runs; NaN when none recorded
  double encode_items_per_s = 0;
  double train_seconds = 0;
  // Paired bootstrap of the sort task's main score, this configuration − the best one, on the runs of the
  // first seed both finished. nullopt (with `vs_best_note`) for the best itself or when items do not pair.
  std::optional<BootstrapResult> vs_best;
  std::string vs_best_note;
  std::string vs_best_seed;  // which runs were paired: "seed 42"
  // With seeds: Welch's t interval of the sort task's mean over seeds, this configuration − the best, from
  // the between-seed spread (as compare does); set when either side has two finished runs or more. Δ best
  // shows it rather than the item bootstrap, which covers one seed's item noise and not the seeds'.
  std::optional<SeedTest> vs_best_seeds;
};

struct SweepTask {
  std::string name;
  std::string metric;
  bool higher_is_better = true;
};

struct SweepSummary {
  std::string schema = "sentbench.sweep/1";
  std::string title;
  std::string recipe;              // the recipe file
  std::vector<std::string> sets;   // the sweep's own --set options
  std::vector<GridAxis> axes;
  std::vector<std::int64_t> seeds;
  std::vector<SweepTask> tasks;    // every task any finished run scored, in first-seen order
  std::size_t sort_task = 0;       // index into tasks
  std::vector<SweepConfigSummary> configs;  // sorted: best first, configurations without scores last
  BootstrapOptions bootstrap;
  std::size_t runs = 0, finished = 0;
  std::vector<std::string> notes;
};

struct SweepReportOptions {
  std::string title;
  std::string recipe;
  std::vector<std::string> sets;
  std::string sort_task;  // empty: the first task; ConfigError naming the tasks when unknown
  BootstrapOptions bootstrap;
};

// Aggregates the runs (outcomes[i] belongs to plan.runs[i]) per configuration and sorts them.
SweepSummary summarize_sweep(const SweepPlan& plan, const std::vector<SweepRunOutcome>& outcomes,
                             const SweepReportOptions& options = {});

std::string sweep_to_json(const SweepSummary& summary);
// Aligned Markdown tables: the configurations with mean ± std per task, speed, and the interval against
// the best; grid values that differ from the best configuration's in bold.
std::string render_sweep_markdown(const SweepSummary& summary);
// One self-contained page like report.html, with score-against-value plots per axis.
std::string render_sweep_html(const SweepSummary& summary);
// Writes sweep.json, sweep.md and sweep.html into `dir`; returns the files.
std::vector<std::filesystem::path> write_sweep_report(const SweepSummary& summary, const std::filesystem::path& dir);

}  // namespace sentbench
