// Export to MTEB's results layout, so sentbench numbers can be read beside MTEB's (mteb.TaskResult:
// one `<task>.json` per task; scores.<split> is a list of {main_score, hf_subset, languages, metrics}).
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace sentbench {
namespace {

ordered_json number(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

// sentbench metric names in MTEB's spelling: "ndcg@10" -> "ndcg_at_10", "p@10" -> "precision_at_10".
std::string mteb_metric_name(const std::string& name) {
  const auto at = name.find('@');
  if (at == std::string::npos) return name;
  const std::string base = name.substr(0, at);
  return (base == "p" ? "precision" : base) + "_at_" + name.substr(at + 1);
}

// The split a task scored: its [[eval]] table's "split" when the recipe names one, else "test".
std::string task_split(const Report& report, const TaskResult& task) {
  if (!report.recipe.is_object() || !report.recipe.contains("eval") || !report.recipe["eval"].is_array()) return "test";
  for (const auto& table : report.recipe["eval"]) {
    if (!table.is_object()) continue;
    const std::string name = table.contains("name") && table["name"].is_string() ? table["name"].get<std::string>()
                             : table.contains("type") && table["type"].is_string() ? table["type"].get<std::string>()
                                                                                     : "";
    if (name == task.name && table.contains("split") && table["split"].is_string()) return table["split"].get<std::string>();
  }
  return "test";
}

// A file name from a task name: path separators and other awkward characters become '_'.
std::string file_stem(const std::string& name) {
  std::string out;
  for (const char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return out.empty() || out == "." || out == ".." ? "task" : out;
}

}  // namespace

std::string mteb_task_json(const Report& report, const TaskResult& task, const MtebExportOptions& options) {
  ordered_json scores = ordered_json::object();
  scores["main_score"] = number(task.model.main_score);
  for (const auto& [name, value] : task.model.metrics) {
    const std::string mteb_name = task.metric(name).mteb_name;
    scores[mteb_name.empty() ? mteb_metric_name(name) : mteb_name] = number(value);
  }
  // Keys MTEB adds for the same values (STS: per similarity function; sentbench scores with cosine).
  for (const auto& [alias, metric] : task.info.mteb_aliases) {
    if (task.model.metrics.count(metric)) scores[alias] = number(task.model.metrics.at(metric));
  }
  if (!task.info.mteb_per_item.empty() && !task.model.per_item.empty()) {
    ordered_json per_item = ordered_json::array();
    for (const double v : task.model.per_item.scores) per_item.push_back(number(v));
    scores[task.info.mteb_per_item] = per_item;
  }
  scores["hf_subset"] = "default";
  scores["languages"] = options.languages;

  ordered_json j;
  j["dataset_revision"] = task.dataset_hash.empty() ? "unknown" : task.dataset_hash;
  j["task_name"] = task.name;
  j["mteb_version"] = options.mteb_version.empty() ? ordered_json(nullptr) : ordered_json(options.mteb_version);
  j["scores"] = {{task_split(report, task), ordered_json::array({scores})}};
  j["evaluation_time"] = number(task.model.wall_seconds);
  j["kg_co2_emissions"] = nullptr;
  return j.dump(2) + "\n";
}

std::vector<fs::path> export_mteb(const Report& report, const fs::path& dir, const MtebExportOptions& options) {
  if (options.languages.empty()) throw ConfigError("MTEB export: at least one language is needed (e.g. eng-Latn)");
  std::vector<fs::path> written;
  for (const TaskResult& task : report.tasks) {
    if (!task.ran()) continue;
    const fs::path file = dir / (file_stem(task.name) + ".json");
    write_file_atomic(file, mteb_task_json(report, task, options));
    written.push_back(file);
  }
  return written;
}

}  // namespace sentbench
