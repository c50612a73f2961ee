// The history of many runs (`sentbench history`, `sentbench regress --history`): each task's main score
// and each throughput figure as a series over the runs, ordered by date, with the step changes in them
// found by a piecewise-constant fit, and a median baseline of the latest passing runs for the gate.
//
// Step detection (detect_steps), after airspeed velocity's step_detect but with an explicit test:
//   - noise: sigma = 1.4826 · MAD(d) / √2 over the successive differences d_i = y_{i+1} − y_i of the
//     whole series. Differences cancel the level, so a step adds one outlier to d, which the median
//     ignores; √2 because a difference of two independent points has twice the variance. When more
//     than half the differences are exactly 0 (MAD = 0: deterministic scores), the mean absolute
//     deviation of d (× 1.2533, its normal-consistency factor) stands in.
//   - split: on a segment [a, b) the split t with a + m ≤ t ≤ b − m (m = min_segment points a side)
//     that lowers the least-squares cost of a constant fit the most: with n1 = t − a, n2 = b − t that is
//     the t maximising z = |mean(after) − mean(before)| / (sigma · √(1/n1 + 1/n2)).
//   - accept when z > threshold (default 5) AND the step is at least min_step (absolute, scores;
//     default 0.005) or min_relative_step (relative to the mean before, throughput; default 5%).
//     Then recurse on both sides (binary segmentation). The threshold is high because the series are
//     short, the maximum over ~25 candidate splits is taken and sigma is itself estimated from ~30
//     differences: in simulations of 30 points of uniform or normal noise, z > 5 alone fired in 0.4%
//     of series (z > 4: 1.5–2%), and together with the 0.005 step on ±0.005 noise in 0.03%; a drop of
//     0.02 in that noise is found at any position with at least 3 runs on each side.
//   - prune: the accepted changes are re-tested between their final neighbouring segments (a change
//     found early may have been measured against a mean that spanned another change); the weakest
//     that no longer passes is dropped until all pass. Before/after means, the step and z of a
//     change are those of its neighbouring segments.
// A change is placed with at least min_segment runs on each side: one in the newest min_segment − 1
// runs is at best seen blurred, a run or two early (the regression gate covers the newest run).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "report.hpp"

namespace sentbench {

// One report of the history and where and when it came from.
struct HistoryRun {
  Report report;
  std::string source;       // the report.json (or other report file) or run folder it was read from
  std::string run_id;       // run_identity.json's run_id, "" when there is none
  std::int64_t time = 0;    // seconds since 1970 (UTC); the sort key
  std::string date;         // the same as "2024-05-01T02:00:00Z"
  std::string date_from;    // where the date came from: "run_identity.json started" or "file mtime"
  // Every task ran (none failed or was skipped) and there was at least one: a run fit for a baseline.
  bool passed() const;
};

// Reads every report under `paths`. A path may be a report file (report.json or any JSON file with
// a sentbench.report schema), a run folder (holds run.json; its report.json, else assembled from the
// run files) or a folder searched recursively for both (run folders are not descended into). A report
// has no date of its own, so the date is the run folder's run_identity.json "started" (written when a
// training run starts, kept across --resume), else the modification time of the report file (of
// run.json when the report is assembled). A run copied elsewhere (e.g. a promoted baseline folder)
// appears once: runs with the same run id after the first by date are left out, with a note.
// Sorted by date, ties by source. ConfigError naming the path when nothing is found under one.
std::vector<HistoryRun> load_history(const std::vector<std::filesystem::path>& paths,
                                     std::vector<std::string>* notes = nullptr);
// The order load_history() returns: by time, then by source.
void sort_history(std::vector<HistoryRun>& runs);

// The step detector's settings; see the top of this file.
struct StepOptions {
  double min_step = 0.005;           // smallest absolute change of a score that counts
  double min_relative_step = 0.05;   // smallest relative change of a throughput that counts (0.05 = 5%)
  std::size_t min_segment = 3;       // points on each side of a change, at least
  double threshold = 5.0;            // z a change must exceed (in noise sigmas of the mean difference)
};

// One change in a plain series: points [0, index) before it, [index, next change) after.
struct Step {
  std::size_t index = 0;
  std::size_t n_before = 0, n_after = 0;
  double mean_before = 0, mean_after = 0;
  double statistic = 0;  // z of the neighbouring segments
};

// Noise sigma of a series from its successive differences (0 for fewer than 3 points).
double noise_sigma(const std::vector<double>& values);
// The changes in `values`, in order. `relative`: min_step is read as relative (min_relative_step).
std::vector<Step> detect_steps(const std::vector<double>& values, const StepOptions& options, bool relative);

// One run's value in a series.
struct HistoryPoint {
  std::size_t run = 0;  // index into History::runs
  double value = 0;
};

// A change in a series, with the runs on either side of it.
struct StepChange {
  std::size_t index = 0;       // first point after the change
  std::size_t run_before = 0;  // History::runs index of the last point before
  std::size_t run_after = 0;   // ... and of the first point after
  std::size_t n_before = 0, n_after = 0;
  double mean_before = 0, mean_after = 0;
  double step = 0;             // mean_after − mean_before
  double relative_step = 0;    // step / |mean_before|
  double statistic = 0;
  bool worse = false;          // lower for a higher-is-better figure, higher otherwise
};

// One task's main score ("<task>/<metric>") or one throughput figure ("<task>/encode items/s",
// "training/pairs/s", "training/tokens/s") over the runs that have it.
struct HistorySeries {
  std::string key;
  std::string task;
  std::string what;               // the metric or the throughput figure
  bool throughput = false;        // relative steps; shown as rates
  bool higher_is_better = true;
  double sigma = 0;               // noise_sigma of the values
  std::vector<HistoryPoint> points;
  std::vector<StepChange> changes;
};

struct History {
  std::vector<HistoryRun> runs;       // in date order
  std::vector<HistorySeries> series;  // scores (by task), then encode throughput, then training throughput
  std::vector<std::string> notes;     // duplicates left out, runs without a date, ...
  StepOptions options;
};

// Series and their changes from runs sorted by sort_history().
History build_history(std::vector<HistoryRun> runs, const StepOptions& options, std::vector<std::string> notes = {});

std::string history_markdown(const History& history);
std::string history_html(const History& history);
nlohmann::json history_json(const History& history);

// `regress --history`: the baseline made of the latest passing runs.
struct MedianBaseline {
  Report report;                   // the newest of the window, with medians in place of its figures
  std::vector<std::size_t> runs;   // indices into the history given, oldest first
  std::vector<std::string> used;   // the same runs as "source (run name, date, commit ...)"
  std::vector<std::string> notes;  // runs passed over and why
  std::map<std::string, std::vector<double>> window_scores;  // task -> the window's main scores (its spread)
};

// The date of a report file or run folder as load_history() finds it, and its run id.
struct RunDate {
  std::int64_t time = 0;
  std::string date;
  std::string from;
  std::string run_id;
};
RunDate run_date(const std::filesystem::path& path);

// The last `window` runs of `history` (sorted) that passed(), leaving out the current run itself
// (`current_path`, compared as canonical paths, or the same run id) and runs dated after it (when
// re-gating an older run, its baseline is what came before it). Each task's main score is the median
// over the window's runs that ran it; encode items/s, training pairs/s and tokens/s are the medians of
// those that timed them. No per-item scores are kept: a median of runs has no items to resample.
// ConfigError when no run qualifies.
MedianBaseline median_baseline(const std::vector<HistoryRun>& history, std::size_t window,
                               const std::filesystem::path& current_path, const RunDate& current_date);

// check_regressions() against a median baseline. A median has no per-item scores to bootstrap, so
// significance comes from the window's spread instead: a main score is a significant drop when it lies
// outside the (1 - alpha) t prediction interval of one more run of the window, mean ± t(n-1)·s·√(1 + 1/n)
// (n >= 3 runs), on the worse side, and dropped more than min_drop from the median. alpha is
// kHistoryAlpha unless the tolerances' origin says it was set (flag or recipe).
constexpr double kHistoryAlpha = 0.01;
RegressionReport check_against_median(const MedianBaseline& baseline, const Report& current, Tolerances tolerances);

}  // namespace sentbench
