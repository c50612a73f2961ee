// The results model's JSON form, in one place for results.json, report.json and every reader.
#include "results.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <limits>

#include <fmt/format.h>

#include "json_view.hpp"
#include "sentbench/errors.hpp"

using nlohmann::json;
using nlohmann::ordered_json;

namespace sentbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON has no NaN or infinity: null stands for an undefined value.
ordered_json number(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

ordered_json numbers(const std::vector<double>& values) {
  ordered_json out = ordered_json::array();
  for (const double v : values) out.push_back(number(v));
  return out;
}

ordered_json scorer_json(const ScorerResult& s) {
  ordered_json metrics = ordered_json::object();
  for (const auto& [k, v] : s.metrics) metrics[k] = number(v);
  ordered_json j = {{"main_score", number(s.main_score)},
                    {"metrics", metrics},
                    {"encode_seconds", number(s.encode_seconds)},
                    {"encoded_items", s.encoded_items},
                    {"items_per_second", number(s.items_per_second())},  // derived, written for readers
                    {"cache_hit", s.cache_hit},
                    {"wall_seconds", number(s.wall_seconds)},
                    {"peak_rss_bytes", s.peak_rss_bytes ? ordered_json(*s.peak_rss_bytes) : ordered_json(nullptr)}};
  j["per_item"] = {{"ids", s.per_item.ids}, {"scores", numbers(s.per_item.scores)}};
  if (!s.per_item.reference.empty()) j["per_item"]["reference"] = numbers(s.per_item.reference);
  return j;
}

ItemScores read_items(const JsonView& v) {
  ItemScores items;
  if (v.value().is_null()) return items;
  v.expect_object();
  if (v.has("ids")) {
    const JsonView ids = v.at("ids");
    ids.expect_array();
    for (std::size_t i = 0; i < ids.value().size(); ++i) items.ids.push_back(ids.at(i).as_str());
  }
  for (const char* key : {"scores", "reference"}) {
    if (!v.has(key)) continue;
    const JsonView list = v.at(key);
    list.expect_array();
    auto& out = std::string(key) == "scores" ? items.scores : items.reference;
    for (std::size_t i = 0; i < list.value().size(); ++i) out.push_back(list.at(i).as_num());
  }
  if (!items.ids.empty() && items.ids.size() != items.scores.size()) {
    v.at("ids").fail(fmt::format("has {} ids for {} scores", items.ids.size(), items.scores.size()));
  }
  if (!items.reference.empty() && items.reference.size() != items.scores.size()) {
    v.at("reference").fail(fmt::format("has {} values for {} scores", items.reference.size(), items.scores.size()));
  }
  return items;
}

ScorerResult read_scorer(const JsonView& v) {
  v.expect_object();
  ScorerResult s;
  s.main_score = v.num("main_score", kNaN);
  if (v.has("metrics")) {
    const JsonView m = v.at("metrics");
    m.expect_object();
    for (const auto& [key, value] : m.value().items()) s.metrics[key] = m.at(key).as_num();
  }
  s.encode_seconds = v.num("encode_seconds");
  s.encoded_items = v.integer("encoded_items");
  s.cache_hit = v.boolean("cache_hit");
  s.wall_seconds = v.num("wall_seconds");
  if (v.has("peak_rss_bytes")) s.peak_rss_bytes = v.integer("peak_rss_bytes");
  s.per_item = read_items(v.at("per_item"));
  return s;
}

ordered_json info_json(const TaskTypeInfo& info) {
  ordered_json metrics = ordered_json::array();
  for (const MetricInfo& m : info.metrics) {
    ordered_json mj = {{"name", m.name}, {"higher_is_better", m.higher_is_better}, {"is_main", m.is_main},
                       {"is_count", m.is_count}};
    if (!m.mteb_name.empty()) mj["mteb_name"] = m.mteb_name;
    metrics.push_back(std::move(mj));
  }
  ordered_json j = {{"metrics", metrics},
                    {"item_statistic", to_string(info.item_statistic)},
                    {"item_noun", info.item_noun},
                    {"item_noun_one", info.item_noun_one}};
  if (!info.mteb_per_item.empty()) j["mteb_per_item"] = info.mteb_per_item;
  if (!info.mteb_aliases.empty()) {
    ordered_json aliases = ordered_json::object();
    for (const auto& [k, v] : info.mteb_aliases) aliases[k] = v;
    j["mteb_aliases"] = aliases;
  }
  return j;
}

TaskTypeInfo read_info(const JsonView& v, const std::string& type, const std::string& main_metric) {
  v.expect_object();
  TaskTypeInfo info;
  info.type = type;
  info.main_metric = main_metric;
  const JsonView metrics = v.at("metrics");
  metrics.expect_array();
  for (std::size_t i = 0; i < metrics.value().size(); ++i) {
    const JsonView m = metrics.at(i);
    m.expect_object();
    MetricInfo mi;
    mi.name = m.str("name");
    if (mi.name.empty()) m.at("name").fail("expected the metric's name");
    mi.higher_is_better = m.boolean("higher_is_better", true);
    mi.is_main = m.boolean("is_main", mi.name == main_metric);
    mi.is_count = m.boolean("is_count");
    mi.mteb_name = m.str("mteb_name");
    info.metrics.push_back(std::move(mi));
  }
  const std::string statistic = v.str("item_statistic", "mean");
  const auto parsed = item_statistic_from_string(statistic);
  if (!parsed) v.at("item_statistic").fail("expected \"mean\", \"spearman\", \"pearson\" or \"average_precision\"");
  info.item_statistic = *parsed;
  info.item_noun = v.str("item_noun", "items");
  info.item_noun_one = v.str("item_noun_one", "item");
  info.mteb_per_item = v.str("mteb_per_item");
  if (v.has("mteb_aliases")) {
    const JsonView a = v.at("mteb_aliases");
    a.expect_object();
    for (const auto& [key, value] : a.value().items()) info.mteb_aliases[key] = a.at(key).as_str();
  }
  return info;
}

}  // namespace

std::optional<std::int64_t> process_peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::int64_t kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB") return kib * 1024;
  }
  return std::nullopt;
}

bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

const char* to_string(ItemStatistic statistic) {
  switch (statistic) {
    case ItemStatistic::kMean: return "mean";
    case ItemStatistic::kSpearman: return "spearman";
    case ItemStatistic::kPearson: return "pearson";
    case ItemStatistic::kAveragePrecision: return "average_precision";
  }
  return "mean";
}

std::optional<ItemStatistic> item_statistic_from_string(const std::string& name) {
  if (name == "mean") return ItemStatistic::kMean;
  if (name == "spearman") return ItemStatistic::kSpearman;
  if (name == "pearson") return ItemStatistic::kPearson;
  if (name == "average_precision") return ItemStatistic::kAveragePrecision;
  return std::nullopt;
}

std::string TaskResult::why_not_run() const {
  if (!failed.empty()) return "FAILED (" + failed + ")";
  if (!skipped.empty()) return "skipped (" + skipped + ")";
  return "";
}

MetricInfo TaskResult::metric(const std::string& name) const {
  for (const MetricInfo& m : info.metrics) {
    if (m.name == name) return m;
  }
  MetricInfo m;
  m.name = name;
  m.is_main = name == main_metric;
  return m;
}

ordered_json task_result_to_json(const TaskResult& t) {
  ordered_json notes = ordered_json::object();
  for (const auto& [k, v] : t.notes) notes[k] = v;
  ordered_json j = {{"name", t.name}, {"type", t.type}, {"version", t.version}, {"dataset", t.dataset},
                    {"dataset_hash", t.dataset_hash}, {"main_metric", t.main_metric}, {"items", t.items},
                    {"info", info_json(t.info)}, {"notes", notes}};
  if (!t.skipped.empty()) j["skipped"] = t.skipped;
  if (!t.failed.empty()) j["failed"] = t.failed;
  if (t.ran()) {
    j["model"] = scorer_json(t.model);
    ordered_json baselines = ordered_json::object();
    for (const auto& [name, s] : t.baselines) baselines[name] = scorer_json(s);
    j["baselines"] = baselines;
  }
  return j;
}

TaskResult task_result_from_json(const JsonView& v) {
  v.expect_object();
  TaskResult t;
  t.name = v.str("name");
  if (t.name.empty()) v.at("name").fail("expected the task's name");
  t.type = v.str("type");
  t.version = v.str("version");
  t.dataset = v.str("dataset");
  t.dataset_hash = v.str("dataset_hash");
  t.main_metric = v.str("main_metric");
  t.items = v.integer("items");
  if (v.has("notes")) {
    const JsonView notes = v.at("notes");
    notes.expect_object();
    for (const auto& [key, value] : notes.value().items()) t.notes[key] = notes.at(key).as_str();
  }
  t.skipped = v.str("skipped");
  t.failed = v.str("failed");
  // results.json before schema 2 kept the skip reason among the notes.
  if (auto it = t.notes.find("skipped"); it != t.notes.end()) {
    if (t.skipped.empty()) t.skipped = it->second;
    t.notes.erase(it);
  }
  if (v.has("info")) {
    t.info = read_info(v.at("info"), t.type, t.main_metric);
  } else {
    upgrade_legacy_task_info(t);
  }
  if (t.ran()) {
    if (!v.has("model")) v.at("model").fail("expected the model's scores (or a \"skipped\" or \"failed\" reason)");
    t.model = read_scorer(v.at("model"));
    if (v.has("baselines")) {
      const JsonView b = v.at("baselines");
      b.expect_object();
      for (const auto& [name, value] : b.value().items()) t.baselines[name] = read_scorer(b.at(name));
    }
  }
  return t;
}

std::string results_to_json(const std::vector<TaskResult>& tasks) {
  ordered_json list = ordered_json::array();
  for (const TaskResult& t : tasks) list.push_back(task_result_to_json(t));
  return ordered_json{{"schema", kResultsSchema}, {"tasks", list}}.dump(2) + "\n";
}

std::vector<TaskResult> results_from_json(const std::string& text, const std::string& source) {
  json j = parse_json_text(text, source);
  const JsonView v(j, source);
  v.expect_object();
  const std::string schema = v.str("schema");
  if (schema != kResultsSchema && schema != "sentbench.results/1") {
    v.at("schema").fail(fmt::format("expected \"{}\" (results written by another sentbench version?)", kResultsSchema));
  }
  std::vector<TaskResult> tasks;
  const JsonView list = v.at("tasks");
  if (list.value().is_null()) return tasks;
  list.expect_array();
  for (std::size_t i = 0; i < list.value().size(); ++i) tasks.push_back(task_result_from_json(list.at(i)));
  return tasks;
}

void upgrade_legacy_task_info(TaskResult& t) {
  // Before results carried their metadata there were three task types, each with one main metric and
  // one count; everything else was higher-is-better. This is the only place that knows their names.
  TaskTypeInfo& info = t.info;
  info.type = t.type;
  info.main_metric = t.main_metric;
  info.metrics.clear();
  auto add = [&](const std::string& name, bool is_count = false, const std::string& mteb = "") {
    if (name.empty()) return;  // a task skipped before it knew its metric
    MetricInfo m;
    m.name = name;
    m.is_main = name == t.main_metric;
    m.is_count = is_count;
    m.mteb_name = mteb;
    info.metrics.push_back(std::move(m));
  };
  if (t.type == "retrieval") {
    info.item_noun = "queries";
    info.item_noun_one = "query";
    add(t.main_metric);
    add("queries_skipped", true);
  } else if (t.type == "sts") {
    info.item_statistic = ItemStatistic::kSpearman;
    info.item_noun = "pairs";
    info.item_noun_one = "pair";
    info.mteb_aliases = {{"cosine_spearman", "spearman"}, {"cosine_pearson", "pearson"}};
    add(t.main_metric);
  } else if (t.type == "clustering") {
    info.item_noun = "texts";
    info.item_noun_one = "text";
    info.mteb_per_item = "v_measures";
    add(t.main_metric);
    add("subsets", true);
  } else {
    add(t.main_metric);
  }
}

}  // namespace sentbench
