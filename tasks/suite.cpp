// Running the [[eval]] suite: tasks from the registry, baselines beside the model, cache, outputs.
#include "suite.hpp"

#include <chrono>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embedding_cache.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench {
namespace {

json scores_json(const Scores& s) {
  json j = {{"main_score", s.main_score},
            {"metrics", s.metrics},
            {"encode_seconds", s.encode_seconds},
            {"encoded_items", s.encoded_items},
            {"items_per_second", s.encode_seconds > 0 ? s.encoded_items / s.encode_seconds : 0.0},
            {"cache_hit", s.cache_hit},
            {"wall_seconds", s.wall_seconds}};
  j["per_item"] = {{"ids", s.item_ids}, {"scores", s.item_scores}};
  if (!s.item_reference.empty()) j["per_item"]["reference"] = s.item_reference;
  return j;
}

std::vector<std::string> wanted_baselines(const Config& table) {
  if (!table.contains("baselines")) return {"lexical", "random-init"};
  std::vector<std::string> names = table.get_strings("baselines");
  for (const auto& n : names) {
    if (n != "lexical" && n != "random-init") table.fail("baselines", fmt::format("unknown baseline '{}' (expected \"lexical\" or \"random-init\")", n));
  }
  return names;
}

}  // namespace

std::vector<TaskResult> run_suite(const Config& recipe, Encoder& encoder, const SuiteOptions& options) {
  register_builtin_tasks();
  std::optional<EmbeddingCache> cache;
  if (options.use_cache) cache.emplace(options.cache_dir);
  const fs::path details_dir = options.details ? options.output_dir / "details" : fs::path();
  if (!details_dir.empty()) fs::create_directories(details_dir);

  TaskContext context;
  context.encode = options.encode;
  context.encode.show_progress = true;
  context.cache = cache ? &*cache : nullptr;
  context.details_dir = details_dir;
  context.seed = options.seed;
  context.model_key = model_key(encoder);

  std::unique_ptr<Encoder> untrained;  // built once, on first need
  std::vector<TaskResult> results;
  for (const Config& table : recipe.tables("eval")) {
    const std::string name = table.get_string("name", table.get_string("type"));
    if (options.stop_requested && options.stop_requested()) {
      TaskResult skipped;
      skipped.name = name;
      skipped.type = table.get_string("type");
      skipped.dataset = table.contains("path") ? table.get_path("path").string() : "";
      skipped.notes["skipped"] = "not run: the run was interrupted";
      results.push_back(std::move(skipped));
      continue;
    }
    if (table.get_bool("optional", false) && table.contains("path") && !fs::exists(table.get_path("path"))) {
      log::warn("skipping optional task {}: {} does not exist", name, table.get_path("path").string());
      TaskResult skipped;
      skipped.name = name;
      skipped.type = table.get_string("type");
      skipped.dataset = table.get_path("path").string();
      skipped.notes["skipped"] = "data not found: " + skipped.dataset;
      results.push_back(std::move(skipped));
      continue;
    }
    std::unique_ptr<Task> task = make_task(table);
    TaskResult r;
    r.name = task->name();
    r.type = task->type();
    r.version = task->version();
    r.dataset = task->dataset();
    r.dataset_hash = task->dataset_hash();
    r.main_metric = task->main_metric();
    r.items = task->items();
    log::info("task {} ({}, {} items)", r.name, r.type, r.items);

    context.label = "model";
    r.model = task->evaluate(encoder, context);
    for (const std::string& baseline : wanted_baselines(table)) {
      if (baseline == "lexical") {
        context.label = task->lexical_name();
        r.baselines[task->lexical_name()] = task->evaluate_lexical(context);
        r.notes[task->lexical_name()] = task->lexical_settings();
      } else {
        if (!untrained) untrained = encoder.random_init(options.seed);
        if (!untrained) {
          r.notes["random-init"] = "the encoder backend has no random-init form";
          continue;
        }
        TaskContext rc = context;
        rc.label = "random-init";
        rc.model_key = model_key(*untrained);
        r.baselines["random-init"] = task->evaluate(*untrained, rc);
      }
    }
    log::info("  {} {:.4f} (model){}", r.main_metric, r.model.main_score, [&] {
      std::string s;
      for (const auto& [b, sc] : r.baselines) s += fmt::format(", {:.4f} ({})", sc.main_score, b);
      return s;
    }());
    results.push_back(std::move(r));
  }
  return results;
}

std::string results_json(const std::vector<TaskResult>& results) {
  json tasks = json::array();
  for (const auto& r : results) {
    json t = {{"name", r.name}, {"type", r.type}, {"version", r.version}, {"dataset", r.dataset},
              {"dataset_hash", r.dataset_hash}, {"main_metric", r.main_metric}, {"items", r.items},
              {"notes", r.notes}};
    if (!r.notes.count("skipped")) {
      t["model"] = scores_json(r.model);
      t["baselines"] = json::object();
      for (const auto& [name, s] : r.baselines) t["baselines"][name] = scores_json(s);
    }
    tasks.push_back(std::move(t));
  }
  return json{{"schema", "sentbench.results/1"}, {"tasks", tasks}}.dump(2) + "\n";
}

void print_results_table(const std::vector<TaskResult>& results, std::ostream& out) {
  std::set<std::string> baseline_names;
  for (const auto& r : results) for (const auto& [b, s] : r.baselines) baseline_names.insert(b);
  std::string header = fmt::format("{:<22} {:<10} {:>8}", "task", "metric", "model");
  for (const auto& b : baseline_names) header += fmt::format(" {:>11}", b);
  header += fmt::format(" {:>12} {:>9}", "encode/s", "seconds");
  out << header << '\n' << std::string(header.size(), '-') << '\n';
  for (const auto& r : results) {
    if (r.notes.count("skipped")) {
      out << fmt::format("{:<22} skipped: {}\n", r.name, r.notes.at("skipped"));
      continue;
    }
    std::string line = fmt::format("{:<22} {:<10} {:>8.4f}", r.name, r.main_metric, r.model.main_score);
    for (const auto& b : baseline_names) {
      auto it = r.baselines.find(b);
      line += it == r.baselines.end() ? fmt::format(" {:>11}", "-") : fmt::format(" {:>11.4f}", it->second.main_score);
    }
    const std::string rate = r.model.cache_hit ? "cached"
                             : r.model.encode_seconds > 0 ? fmt::format("{:.0f}", r.model.encoded_items / r.model.encode_seconds)
                                                          : "-";
    line += fmt::format(" {:>12} {:>9.1f}", rate, r.model.wall_seconds);
    out << line << '\n';
  }
}

}  // namespace sentbench
