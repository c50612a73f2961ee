// report.md: the report as Markdown tables for terminals and code reviews.
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "report_view.hpp"
#include "text_table.hpp"
#include "writers.hpp"

namespace sentbench {
namespace {

using Align = TextTable::Align;

std::string results_section(const Report& report) {
  const std::vector<std::string> baselines = baseline_names(report);
  std::vector<std::string> header = {"task", "type", "metric", "model"};
  std::vector<Align> align = {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight};
  for (const auto& b : baselines) header.push_back(b), align.push_back(Align::kRight);
  header.insert(header.end(), {"model − best baseline", "items"});
  align.insert(align.end(), {Align::kRight, Align::kRight});
  TextTable table(header, align);
  std::string skipped;
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) {
      skipped += fmt::format("- {}: {}\n", t.name, t.why_not_run());
      continue;
    }
    std::vector<std::string> row = {t.name, t.type, t.main_metric, fixed(t.model.main_score)};
    for (const auto& b : baselines) {
      auto it = t.baselines.find(b);
      row.push_back(it == t.baselines.end() ? "-" : fixed(it->second.main_score));
    }
    const double best = best_baseline_score(t);
    row.push_back(std::isfinite(best) ? signed_fixed(t.model.main_score - best) : "-");
    row.push_back(std::to_string(t.items));
    table.add_row(row);
  }
  std::string out = "## Results\n\n";
  if (table.empty() && skipped.empty()) return out + "No evaluation tasks ran.\n\n";
  if (!table.empty()) out += table.str() + "\n";
  if (!skipped.empty()) out += skipped + "\n";
  return out;
}

std::string metrics_section(const Report& report) {
  std::string out;
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) continue;
    std::vector<std::string> header = {"metric", "model"};
    std::vector<Align> align = {Align::kLeft, Align::kRight};
    for (const auto& [b, s] : t.baselines) header.push_back(b), align.push_back(Align::kRight);
    TextTable table(header, align);
    for (const std::string& metric : metric_names(t)) {
      std::vector<std::string> row = {metric, metric_cell(t, t.model, metric)};
      for (const auto& [b, s] : t.baselines) row.push_back(metric_cell(t, s, metric));
      table.add_row(row);
    }
    out += fmt::format("### {} ({}, {} {})\n\n", t.name, t.type, t.items, item_noun(t, t.items));
    out += table.str() + "\n";
    for (const auto& [k, v] : t.notes) out += fmt::format("- {}: {}\n", k, v);
    if (!t.notes.empty()) out += "\n";
  }
  return out.empty() ? out : "## Metrics\n\n" + out;
}

std::string speed_section(const Report& report) {
  const bool memory = any_task_peak_memory(report);
  std::vector<std::string> header = {"task", "scorer", "encoded", "encode time", "items/s", "wall time"};
  if (memory) header.push_back("peak memory");
  TextTable table(header, {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kRight});
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) continue;
    auto add = [&](const std::string& scorer, const ScorerResult& s) {
      table.add_row({t.name, scorer, std::to_string(s.encoded_items),
                     s.cache_hit ? "cached" : s.encode_seconds > 0 ? human_seconds(s.encode_seconds) : "-",
                     s.cache_hit || s.encode_seconds <= 0 ? "-" : human_rate(s.items_per_second()),
                     human_seconds(s.wall_seconds), memory ? human_bytes(s.peak_rss_bytes) : ""});
    };
    add("model", t.model);
    for (const auto& [b, s] : t.baselines) add(b, s);
  }
  std::string out = "## Speed\n\n";
  if (!table.empty()) out += table.str() + "\n";
  const double encode = report.encode_items_per_second();
  out += fmt::format("- model encoding over all tasks: {} items/s\n", encode > 0 ? human_rate(encode) : "- (cached)");
  if (report.training) {
    out += fmt::format("- training: {} pairs/s, {} tokens/s{}\n", human_rate(report.training->pairs_per_s),
                       human_rate(report.training->tokens_per_s), ranks_note(report.training->world_size));
  }
  if (report.probe.is_object() && report.probe.contains("texts_per_s") && report.probe["texts_per_s"].is_number()) {
    out += fmt::format("- probe: {} texts/s\n", human_rate(report.probe["texts_per_s"].get<double>()));
  }
  out += fmt::format("- peak memory (whole process): {}\n\n", human_bytes(report.peak_rss_bytes));
  return out;
}

// Scores taken during training: up to 10 of the logged evaluation steps, one column per task metric.
std::string quality_table(const EvalCurve& curve) {
  if (curve.empty()) return "";
  std::vector<std::string> header = {"step"};
  for (const auto& [name, values] : curve.series) header.push_back(name);
  TextTable table(header, std::vector<Align>(header.size(), Align::kRight));
  const std::vector<std::size_t> rows = sample_indices(curve.step.size(), 10);
  for (const std::size_t i : rows) {
    std::vector<std::string> row = {std::to_string(curve.step[i])};
    for (const auto& [name, values] : curve.series) row.push_back(fixed(values[i]));
    table.add_row(row);
  }
  return fmt::format("Quality during training ({} of {} evaluations):\n\n", rows.size(), curve.step.size()) +
         table.str() + "\n";
}

// The loss curve (10 sampled points) and the quality table of one training log.
std::string curves(const TrainingSummary& t) {
  std::string out;
  if (!t.curve.empty()) {
    TextTable curve({"step", "loss", "lr", "grad norm", "tokens/s"}, std::vector<Align>(5, Align::kRight));
    for (const std::size_t i : sample_indices(t.curve.size(), 10)) {
      const CurvePoint& p = t.curve[i];
      curve.add_row({std::to_string(p.step), fixed(p.loss), std::isfinite(p.lr) ? fmt::format("{:.3e}", p.lr) : "-",
                     fixed(p.grad_norm, 3), human_rate(p.tokens_per_s)});
    }
    out += fmt::format("Loss curve ({} of {} points{}):\n\n", std::min<std::size_t>(10, t.curve.size()), t.curve.size(),
                       t.curve_bucket > 1 ? fmt::format(", each the mean of {} steps", t.curve_bucket) : "");
    out += curve.str() + "\n";
  }
  return out + quality_table(t.eval_curve);
}

std::string training_section(const Report& report) {
  if (!report.training) return "";
  const TrainingSummary& t = *report.training;
  std::string out = "## Training\n\n";
  TextTable summary({"steps", "wall time", "pairs/s", "tokens/s", "final loss", "mean loss, last 10 steps"},
                    std::vector<Align>(6, Align::kRight));
  summary.add_row({std::to_string(t.steps), human_seconds(t.seconds), human_rate(t.pairs_per_s),
                   human_rate(t.tokens_per_s), fixed(t.final_loss), fixed(t.final_loss_mean)});
  out += summary.str() + "\n";
  if (t.stages.empty()) {
    out += curves(t);
  } else {
    TextTable stages({"stage", "plugin", "steps", "wall time", "final loss", "mean loss, last 10 steps"},
                     {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight});
    for (const TrainingSummary& stage : t.stages) {
      stages.add_row({stage.name, stage.plugin, std::to_string(stage.steps), human_seconds(stage.seconds),
                      fixed(stage.final_loss), fixed(stage.final_loss_mean)});
    }
    out += fmt::format("{} stages, in order, each starting from the model the one before it trained:\n\n",
                       t.stages.size()) + stages.str() + "\n";
    for (std::size_t i = 0; i < t.stages.size(); ++i) {
      const TrainingSummary& stage = t.stages[i];
      out += fmt::format("### Stage {}: {} ({})\n\n", i + 1, stage.name, stage.plugin);
      const std::string c = curves(stage);
      out += c.empty() ? "No steps logged.\n\n" : c;
    }
  }
  if (!t.steps_per_dataset.empty()) {
    TextTable mix({"dataset", "steps", "share"}, {Align::kLeft, Align::kRight, Align::kRight});
    for (const auto& [name, n] : t.steps_per_dataset) {
      mix.add_row({name, std::to_string(n), fmt::format("{:.1f}%", 100.0 * static_cast<double>(n) / static_cast<double>(std::max<std::int64_t>(1, t.steps)))});
    }
    out += "Steps per dataset:\n\n" + mix.str() + "\n";
  }
  return out;
}

std::string run_section(const Report& report) {
  TextTable table({"field", "value"});
  for (const auto& [key, value] : run_facts(report)) table.add_row({key, value});
  std::string out = "## Run\n\n" + table.str() + "\n";
  TextTable data({"task", "version", "dataset", "hash"});
  for (const TaskResult& t : report.tasks) data.add_row({t.name, t.version.empty() ? "-" : t.version, t.dataset, t.dataset_hash.empty() ? "-" : t.dataset_hash});
  if (!data.empty()) out += "Datasets:\n\n" + data.str() + "\n";
  out += "The resolved recipe is recipe.toml in the run folder (and `run.recipe` in report.json).\n";
  return out;
}

}  // namespace

std::string render_markdown(const Report& report) {
  std::string out = fmt::format("# {}\n\n", report.title);
  out += one_line_summary(report) + "\n\n";
  out += results_section(report);
  out += metrics_section(report);
  out += speed_section(report);
  out += training_section(report);
  out += run_section(report);
  return out;
}

}  // namespace sentbench
