// Running the [[eval]] suite: tasks from the registry, baselines beside the model, cache, outputs.
#include "suite.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "embedding_cache.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

std::vector<std::string> wanted_baselines(const Config& table) {
  if (!table.contains("baselines")) return {"lexical", "random-init"};
  std::vector<std::string> names = table.get_strings("baselines");
  for (const auto& n : names) {
    if (n != "lexical" && n != "random-init") table.fail("baselines", fmt::format("unknown baseline '{}' (expected \"lexical\" or \"random-init\")", n));
  }
  return names;
}

}  // namespace

std::vector<PreparedTask> prepare_suite(const Config& recipe) {
  std::vector<PreparedTask> prepared;
  for (const Config& table : recipe.tables("eval")) {
    PreparedTask p;
    p.type = table.get_string("type");
    p.name = table.get_string("name", p.type);
    p.dataset = table.contains("path") ? table.get_path("path").string() : "";
    p.baselines = wanted_baselines(table);  // a bad baseline name fails now, not after the model is scored
    if (table.get_bool("optional", false) && table.contains("path") && !fs::exists(table.get_path("path"))) {
      log::warn("skipping optional task {}: {} does not exist (set its path, or $SENTBENCH_DATA where the recipe uses it)", p.name, p.dataset);
      p.skipped = "data not found: " + p.dataset;
    } else {
      p.task = make_task(table);
      log::debug("task {} ready: {} items of {}", p.name, p.task->items(), p.dataset);
    }
    prepared.push_back(std::move(p));
  }
  return prepared;
}

std::vector<TaskResult> run_suite(const Config& recipe, Encoder& encoder, const SuiteOptions& options) {
  std::vector<PreparedTask> prepared = prepare_suite(recipe);
  return run_suite(prepared, encoder, options);
}

bool suite_failed(const std::vector<TaskResult>& results) {
  return std::any_of(results.begin(), results.end(), [](const TaskResult& r) { return !r.failed.empty(); });
}

std::vector<TaskResult> run_suite(std::vector<PreparedTask>& tasks, Encoder& encoder, const SuiteOptions& options) {
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
  for (PreparedTask& p : tasks) {
    const TaskTypeSpec* spec = find_task_type(p.type);
    TaskResult r;
    r.name = p.name;
    r.type = p.type;
    r.dataset = p.dataset;
    if (spec) {
      r.info = spec->info;
      r.main_metric = spec->info.main_metric;
    }
    if (options.stop_requested && options.stop_requested()) {
      r.skipped = "not run: the run was interrupted";
      results.push_back(std::move(r));
      continue;
    }
    if (!p.task) {
      r.skipped = p.skipped;
      results.push_back(std::move(r));
      continue;
    }
    Task& task = *p.task;
    r.name = task.name();
    r.type = task.type();
    r.version = task.version();
    r.dataset = task.dataset();
    r.dataset_hash = task.dataset_hash();
    r.main_metric = task.main_metric();
    r.items = task.items();
    log::info("task {} ({}, {} items)", r.name, r.type, r.items);
    try {
      context.label = "model";
      r.model = task.evaluate(encoder, context);
      r.model.peak_rss_bytes = process_peak_rss_bytes();
      for (const std::string& baseline : p.baselines) {
        if (baseline == "lexical") {
          if (task.lexical_name().empty()) {
            r.notes["lexical"] = "the task type has no lexical baseline";
            continue;
          }
          context.label = task.lexical_name();
          r.baselines[task.lexical_name()] = task.evaluate_lexical(context);
          r.notes[task.lexical_name()] = task.lexical_settings();
        } else {
          if (!untrained) untrained = encoder.random_init(options.seed);
          if (!untrained) {
            r.notes["random-init"] = "the encoder backend has no random-init form";
            continue;
          }
          TaskContext rc = context;
          rc.label = "random-init";
          rc.model_key = model_key(*untrained);
          r.baselines["random-init"] = task.evaluate(*untrained, rc);
        }
      }
    } catch (const std::exception& e) {
      // The finished tasks are worth keeping: record this one as failed and go on with the next.
      log::error("task {} failed: {}", r.name, e.what());
      r.failed = e.what();
      r.model = {};
      r.baselines.clear();
      results.push_back(std::move(r));
      p.task.reset();  // its data is no longer needed
      continue;
    }
    log::info("  {} {:.4f} (model){}", r.main_metric, r.model.main_score, [&] {
      std::string s;
      for (const auto& [b, sc] : r.baselines) s += fmt::format(", {:.4f} ({})", sc.main_score, b);
      return s;
    }());
    results.push_back(std::move(r));
    p.task.reset();
  }
  return results;
}

void print_results_table(const std::vector<TaskResult>& results, std::ostream& out) {
  std::set<std::string> baseline_names;
  for (const auto& r : results) for (const auto& [b, s] : r.baselines) baseline_names.insert(b);
  std::size_t name_width = 22;  // widened to the longest task name so the columns stay aligned
  for (const auto& r : results) name_width = std::max(name_width, r.name.size());
  std::string header = fmt::format("{:<{}} {:<10} {:>8}", "task", name_width, "metric", "model");
  for (const auto& b : baseline_names) header += fmt::format(" {:>11}", b);
  header += fmt::format(" {:>12} {:>9}", "encode/s", "seconds");
  out << header << '\n' << std::string(header.size(), '-') << '\n';
  for (const auto& r : results) {
    if (!r.ran()) {
      out << fmt::format("{:<{}} {}: {}\n", r.name, name_width, r.failed.empty() ? "skipped" : "FAILED",
                         r.failed.empty() ? r.skipped : r.failed);
      continue;
    }
    std::string line = fmt::format("{:<{}} {:<10} {:>8.4f}", r.name, name_width, r.main_metric, r.model.main_score);
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
