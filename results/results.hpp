// The results model: what one evaluation task produced for the model and each baseline, with the
// metadata that lets reports, compare, regress and the MTEB export treat every task type alike
// (which metric is the main one, which way is better, which are counts, how the main score is computed
// from per-item values). Tasks fill it; everything downstream reads it. Plain C++ over nlohmann_json:
// no LibTorch, no task type. The JSON form is documented in reports/SCHEMA.md ("tasks[]").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sentbench {

class JsonView;

// How a task's main score follows from its per-item values (what a paired bootstrap recomputes).
enum class ItemStatistic {
  kMean,      // mean of per-item scores (nDCG@10 per query, V-measure per subset, AP per query, ...)
  kSpearman,  // Spearman between per-item scores and the reference (STS: cosine against gold)
  kPearson,   // Pearson between per-item scores and the reference
  kAveragePrecision,  // average precision of per-item scores (higher = more likely positive) against 0/1 references
};
const char* to_string(ItemStatistic statistic);
// "mean" / "spearman" / "pearson" / "average_precision"; nullopt for anything else.
std::optional<ItemStatistic> item_statistic_from_string(const std::string& name);

// One metric a task type reports.
struct MetricInfo {
  std::string name;             // as in ScorerResult::metrics, e.g. "ndcg@10"
  bool higher_is_better = true;
  bool is_main = false;         // the task's main metric
  bool is_count = false;        // a count (queries skipped, subsets): shown as an integer, never compared
  std::string mteb_name;        // its key in MTEB's result files ("" = the name with '@k' → '_at_k')

  // The three kinds a task type declares: its main score, another score, a count.
  static MetricInfo main(std::string name) { return {std::move(name), true, true, false, {}}; }
  static MetricInfo score(std::string name, bool higher_is_better = true) {
    return {std::move(name), higher_is_better, false, false, {}};
  }
  static MetricInfo count(std::string name) { return {std::move(name), false, false, true, {}}; }
};

// Per-item values behind a main score (per query, per STS pair, per clustering subset), kept so that
// two runs can be compared with a paired bootstrap. `reference` holds the gold values when the
// statistic correlates items with them; it is empty when the main score is a mean over items.
struct ItemScores {
  std::vector<std::string> ids;
  std::vector<double> scores;
  std::vector<double> reference;
  bool empty() const { return scores.empty(); }
};

// One scorer (the model or a baseline) on one task.
struct ScorerResult {
  double main_score = 0;
  std::map<std::string, double> metrics;
  double encode_seconds = 0;    // time spent embedding (0 on a cache hit or for lexical baselines)
  std::int64_t encoded_items = 0;
  bool cache_hit = false;
  double wall_seconds = 0;
  std::optional<std::int64_t> peak_rss_bytes;  // the process's peak resident memory when it finished
  ItemScores per_item;
  // Encoded items per second; 0 when nothing was timed (cache hit, lexical baseline).
  double items_per_second() const { return encode_seconds > 0 ? static_cast<double>(encoded_items) / encode_seconds : 0.0; }
};

// What a task type says about its results; the task registry keeps one per type and every result of
// that type carries a copy, so readers need no knowledge of the type.
struct TaskTypeInfo {
  std::string type;
  std::string main_metric;
  std::vector<MetricInfo> metrics;   // the main one included, in display order
  ItemStatistic item_statistic = ItemStatistic::kMean;
  std::string item_noun = "items";   // what an item is, plural: "queries", "pairs", "texts"
  std::string item_noun_one = "item";
  std::string mteb_per_item;         // MTEB's key for the per-item list, if it keeps one ("v_measures")
  std::map<std::string, std::string> mteb_aliases;  // extra MTEB keys: "cosine_spearman" -> "spearman"
};

// One [[eval]] task: identity, state, the model's scores and each baseline's.
struct TaskResult {
  std::string name;
  std::string type;
  std::string version;        // bumps when the scoring of the task type changes
  std::string dataset;        // path
  std::string dataset_hash;
  std::string main_metric;    // e.g. "ndcg@10", "spearman", "v_measure"
  std::int64_t items = 0;     // queries, pairs, or texts
  TaskTypeInfo info;          // the type's metadata (main_metric mirrors info.main_metric)
  std::map<std::string, std::string> notes;  // baseline settings ("bm25" -> "k1=0.9 b=0.4")
  std::string skipped;        // non-empty: why the task did not run (optional data absent, interrupted)
  std::string failed;         // non-empty: the error that stopped it while scoring
  ScorerResult model;
  std::map<std::string, ScorerResult> baselines;  // "bm25", "tfidf", "random-init"

  bool ran() const { return skipped.empty() && failed.empty(); }
  // "skipped (why)" or "FAILED (error)" for a task that did not run; "" for one that did.
  std::string why_not_run() const;
  // The metadata of a metric; a default (higher is better, not a count) for one the type does not list.
  MetricInfo metric(const std::string& name) const;
};

// VmHWM of this process (peak resident set) in bytes, from /proc/self/status; nullopt when unreadable.
// What the suite records per scorer and a run per report.
std::optional<std::int64_t> process_peak_rss_bytes();
// Resets the process's peak resident memory (VmHWM) to its current size (Linux: "5" to
// /proc/self/clear_refs), so the next reading is the peak of what ran since. False where unsupported.
bool reset_peak_rss();

// The one JSON form of a task result (results.json's and report.json's "tasks[]" entries) and back.
// Reading names the file and field of a bad value (ConfigError). Results written before the metadata
// existed (sentbench.results/1, sentbench.report/1) are upgraded with the metadata of the three task
// types that existed then (upgrade_legacy_task_info).
nlohmann::ordered_json task_result_to_json(const TaskResult& task);
TaskResult task_result_from_json(const JsonView& view);
// results.json: {"schema": "sentbench.results/2", "tasks": [...]}; reads /1 too.
inline constexpr const char* kResultsSchema = "sentbench.results/2";
std::string results_to_json(const std::vector<TaskResult>& tasks);
std::vector<TaskResult> results_from_json(const std::string& text, const std::string& source);
// Fills `info` of a result written before results carried metadata (an empty info.metrics) from its type.
void upgrade_legacy_task_info(TaskResult& task);

}  // namespace sentbench
