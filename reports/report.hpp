// Report: everything one run produced — run metadata, training summary and curve, task results with
// baselines and per-item scores, speed and memory — assembled from a run folder and written as
// report.json (schema "sentbench.report/1", documented in reports/SCHEMA.md), report.md and report.html.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results.hpp"

namespace sentbench {

// The schema tag of report.json; the number is the major version, bumped only on breaking changes.
// Version 2 added each task's metadata ("info") and a "failed" state; version 1 reports still load.
inline constexpr const char* kReportSchema = "sentbench.report/2";

// One point of the training curve: a bucket of consecutive steps, averaged; `step` is its last step.
struct CurvePoint {
  std::int64_t step = 0;
  double loss = 0;
  double lr = 0;
  double grad_norm = 0;
  double pairs_per_s = 0;
  double tokens_per_s = 0;
};

// Scores taken during training (evaluation during training: train-log keys "eval/<task>/<metric>"),
// at the steps that logged any; NaN where a step lacks one of them.
struct EvalCurve {
  std::vector<std::int64_t> step;
  std::map<std::string, std::vector<double>> series;  // "<task>/<metric>" → one value per step
  bool empty() const { return step.empty(); }
};
inline constexpr std::size_t kMaxEvalPoints = 500;

// What training did, summarised from train_log.jsonl and run.json. A staged recipe ([[stage]]) has one
// summary per stage in `stages`; the run's own summary then counts the steps, work and rates of all
// stages together and takes final_loss, last_step and the curve from the last stage.
struct TrainingSummary {
  std::string name;                 // stages only: the stage's name
  std::string plugin;               // stages only: its recipe plugin
  std::int64_t steps = 0;           // logged steps
  std::int64_t last_step = 0;
  double seconds = 0;               // wall time of Recipe::train (run.json), else the sum of step times
  double step_seconds = 0;          // sum of logged step times
  double pairs = 0;                 // sum over steps of pairs_per_s × step_seconds
  double tokens = 0;
  double pairs_per_s = 0;           // pairs / step_seconds
  double tokens_per_s = 0;
  double final_loss = 0;            // loss of the last step
  double final_loss_mean = 0;       // mean loss of the last min(10, steps) steps: less noisy
  int world_size = 1;               // ranks that trained (run.json train.world_size)
  std::map<std::string, std::int64_t> steps_per_dataset;  // which mix component each step came from
  std::int64_t curve_bucket = 1;    // steps per curve point (the curve holds at most kMaxCurvePoints)
  std::vector<CurvePoint> curve;
  EvalCurve eval_curve;             // empty when the log has no "eval/..." values
  std::vector<TrainingSummary> stages;  // [[stage]] recipes: one per stage, in order
};
inline constexpr std::size_t kMaxCurvePoints = 500;

// The machine and libraries of the run.
struct MachineInfo {
  std::string cpu_model;
  int cores = 0;
  int threads = 0;        // LibTorch intra-op threads in effect
  bool avx512_bf16 = false;
  std::string blas;       // where libblas.so.3 pointed
  std::string torch_version;
  std::string hostname;
};

// A plugin the run used; the version is empty when the run folder did not record it.
struct PluginVersion {
  std::string kind;  // "encoder" or "recipe"
  std::string name;
  std::string version;
};

// The whole report; see reports/SCHEMA.md for the meaning of every field.
struct Report {
  std::string schema = kReportSchema;
  std::string title;
  std::string run_name;
  std::string sentbench_version;
  std::string git_commit;
  nlohmann::json recipe = nlohmann::json::object();   // the resolved recipe, as JSON
  std::vector<PluginVersion> plugins;
  nlohmann::json encoder = nlohmann::json::object();  // EncoderInfo as run.json recorded it
  MachineInfo machine;
  std::optional<std::int64_t> peak_rss_bytes;          // VmHWM of the process that ran the recipe
  // Peak resident memory of each phase of the run (load, train, evaluate), in order; empty for runs
  // before it was recorded or where the peak cannot be reset.
  std::vector<std::pair<std::string, std::int64_t>> phase_peak_rss_bytes;
  std::string command;                                  // the command line that ran it (run.json), "" if not recorded
  std::optional<TrainingSummary> training;
  nlohmann::json probe = nlohmann::json::object();
  std::vector<TaskResult> tasks;

  // The task of that name, or nullptr.
  const TaskResult* find_task(const std::string& name) const;
  // Encoded items per second over every task whose model embeddings were computed (not cached):
  // the run's overall encode throughput, 0 when nothing was timed.
  double encode_items_per_second() const;
};

// Options of assemble_report(); the defaults are what a run writes.
struct AssembleOptions {
  // Peak resident memory to record; nullopt: none (e.g. when re-rendering an old run from the CLI,
  // where this process's peak says nothing about the run).
  std::optional<std::int64_t> peak_rss_bytes;
  // The task results when the caller holds them (the runner, which just scored them); nullopt: read
  // the run folder's results.json.
  std::optional<std::vector<TaskResult>> results;
};

// Builds the report from a run folder: run.json (required), results.json and train_log.jsonl (each
// optional). ConfigError naming the file when one is missing or malformed.
Report assemble_report(const std::filesystem::path& run_dir, const AssembleOptions& options = {});

// report.json text and back. parse_report() checks the schema tag (ConfigError naming `source` when
// it is not a sentbench.report/1) and ignores fields it does not know (added by later minor changes).
std::string report_to_json(const Report& report);
Report parse_report(const std::string& text, const std::string& source);
// A report from a file, or from a run folder (its report.json, else assembled from the run files).
Report load_report(const std::filesystem::path& path);


// The report formats write_reports() knows: "json", "md", "html", "mteb" (a folder mteb/).
const std::vector<std::string>& report_formats();

// The formats a run asks for: its recipe's [report].formats, else json, md and html.
std::vector<std::string> recipe_formats(const Report& report);

// What the runner calls at the end of a run, after run.json is written: assembles the report (with
// this process's peak memory) and writes the requested formats into the run folder. Empty `formats`:
// the recipe's [report].formats, else json, md and html. Returns the files and folders written.
std::vector<std::filesystem::path> write_reports(const std::filesystem::path& run_dir,
                                                 const std::vector<std::string>& formats = {},
                                                 const std::vector<TaskResult>* results = nullptr);

// Writes `formats` of an already assembled report into `dir`; ConfigError on an unknown format.
std::vector<std::filesystem::path> write_report_files(const Report& report, const std::filesystem::path& dir,
                                                      const std::vector<std::string>& formats);

}  // namespace sentbench
