// What report.md and report.html both show, computed once so the two never disagree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report.hpp"

namespace sentbench {

// Whether any scorer of any task recorded its own peak memory (else the column is left out).
bool any_task_peak_memory(const Report& report);
// Every baseline name of any task, sorted: the columns of the results table.
std::vector<std::string> baseline_names(const Report& report);
// The best baseline main score of a task; NaN without baselines.
double best_baseline_score(const TaskResult& task);
// Metric name order: by name, with cutoffs compared as numbers ("map@5" before "map@10").
bool metric_less(const std::string& a, const std::string& b);
// A task's metric names: the main metric first, then the others in metric_less order.
std::vector<std::string> metric_names(const TaskResult& task);
// A metric of a scorer as a cell; counts (the task type marks them: queries_skipped, subsets) without decimals.
std::string metric_cell(const TaskResult& task, const ScorerResult& scorer, const std::string& metric);
// What the task's items are ("queries", "pairs", ...), singular for a count of 1; from its metadata.
std::string item_noun(const TaskResult& task, std::int64_t count);
// Up to k indices spread evenly over [0, n), always including the first and the last.
std::vector<std::size_t> sample_indices(std::size_t n, std::size_t k);
// The run's metadata as label/value rows: run, sentbench, plugins, encoder, machine, memory.
std::vector<std::pair<std::string, std::string>> run_facts(const Report& report);
// "run `x` · sentbench 0.1.0 (abc) · encoder ... · 3 tasks": the line under the title.
std::string one_line_summary(const Report& report);

}  // namespace sentbench
