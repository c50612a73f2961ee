// report.html: one self-contained page — inline CSS and SVG, no script, nothing fetched — so it opens
// from a CI artifact or an e-mail attachment exactly as it was written.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "html_style.hpp"

#include "report_view.hpp"
#include "svg.hpp"
#include "text_table.hpp"
#include "writers.hpp"

namespace sentbench {
namespace {

using svg::escape;

constexpr const char* kModelColor = "#2563eb";
constexpr const char* kBaselineColors[] = {"#9ca3af", "#f59e0b", "#10b981", "#a855f7", "#ef4444"};

constexpr const char* kPageStyle = R"(
main { max-width: 1120px; margin: 0 auto; padding: 16px 24px 48px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.note { color: #666; font-size: 13px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
pre { background: #fff; border: 1px solid #ddd; padding: 8px; overflow-x: auto; }
)";

// A table: header, rows, and which columns hold numbers (right-aligned). Cells are escaped here.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& numeric) {
  auto is_num = [&](std::size_t i) { return i < numeric.size() && numeric[i]; };
  std::string out = "<table>\n<tr>";
  for (std::size_t i = 0; i < header.size(); ++i) out += fmt::format("<th{}>{}</th>", is_num(i) ? " class=\"num\"" : "", escape(header[i]));
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) out += fmt::format("<td{}>{}</td>", is_num(i) ? " class=\"num\"" : "", escape(row[i]));
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// The summary line is written for Markdown; in HTML its code quotes would show as backticks.
std::string without_backticks(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), '`'), text.end());
  return text;
}

std::string baseline_color(const std::vector<std::string>& all, const std::string& name) {
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == name) return kBaselineColors[i % (sizeof kBaselineColors / sizeof *kBaselineColors)];
  }
  return kBaselineColors[0];
}

std::string results_section(const Report& report) {
  const std::vector<std::string> baselines = baseline_names(report);
  std::vector<std::string> header = {"task", "type", "metric", "model"};
  std::vector<bool> numeric = {false, false, false, true};
  for (const auto& b : baselines) header.push_back(b), numeric.push_back(true);
  header.insert(header.end(), {"model − best baseline", "items"});
  numeric.insert(numeric.end(), {true, true});
  std::vector<std::vector<std::string>> rows;
  std::string charts, skipped;
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) {
      skipped += fmt::format("<li>{}: {}</li>\n", escape(t.name), escape(t.why_not_run()));
      continue;
    }
    std::vector<std::string> row = {t.name, t.type, t.main_metric, fixed(t.model.main_score)};
    std::vector<svg::Bar> bars = {{"model", t.model.main_score, kModelColor, fixed(t.model.main_score)}};
    for (const auto& b : baselines) {
      auto it = t.baselines.find(b);
      row.push_back(it == t.baselines.end() ? "-" : fixed(it->second.main_score));
      if (it != t.baselines.end()) bars.push_back({b, it->second.main_score, baseline_color(baselines, b), fixed(it->second.main_score)});
    }
    const double best = best_baseline_score(t);
    row.push_back(std::isfinite(best) ? signed_fixed(t.model.main_score - best) : "-");
    row.push_back(std::to_string(t.items));
    rows.push_back(std::move(row));
    svg::BarChartOptions options;
    options.title = fmt::format("{}: {}", t.name, t.main_metric);
    options.width = 360;
    options.label_width = 92;
    charts += svg::bar_chart(bars, options);
  }
  std::string out = "<section id=\"results\">\n<h2>Results</h2>\n";
  if (rows.empty() && skipped.empty()) return out + "<p class=\"note\">No evaluation tasks ran.</p>\n</section>\n";
  if (!rows.empty()) out += table(header, rows, numeric);
  if (!skipped.empty()) out += "<ul class=\"note\">\n" + skipped + "</ul>\n";
  if (!charts.empty()) out += "<h3>Model against baselines</h3>\n<div class=\"charts\">\n" + charts + "</div>\n";
  return out + "</section>\n";
}

// Colours of the quality curves (one per task metric), after the model's blue.
constexpr const char* kQualityColors[] = {"#10b981", "#a855f7", "#ef4444", "#f59e0b", "#0ea5e9", "#64748b"};

// The loss curve, the quality curve beside it when the log has scores taken during training, and the
// learning rate, of one training log; `label` ends each title (a stage's name) when not empty.
std::string curve_charts(const TrainingSummary& t, const std::string& label) {
  std::string out;
  std::vector<double> step, loss, lr;
  for (const CurvePoint& p : t.curve) {
    step.push_back(static_cast<double>(p.step));
    loss.push_back(p.loss);
    lr.push_back(p.lr);
  }
  if (t.curve_bucket > 1) {
    out += fmt::format("<p class=\"note\">Each point is the mean of {} consecutive steps.</p>\n", t.curve_bucket);
  }
  const std::string suffix = label.empty() ? "" : ": " + label;
  svg::LineChartOptions o;
  o.x_label = "step";
  out += "<div class=\"charts\">\n";
  o.title = "Training loss" + suffix;
  o.y_label = "loss";
  out += svg::line_chart({{"loss", step, loss, kModelColor}}, o);
  if (!t.eval_curve.empty()) {
    std::vector<double> at;
    for (const std::int64_t s : t.eval_curve.step) at.push_back(static_cast<double>(s));
    std::vector<svg::Series> quality;
    for (const auto& [name, values] : t.eval_curve.series) {
      quality.push_back({name, at, values, kQualityColors[quality.size() % (sizeof kQualityColors / sizeof *kQualityColors)]});
    }
    o.title = "Quality during training" + suffix;
    o.y_label = "score";
    out += svg::line_chart(quality, o);
  }
  o.title = "Learning rate" + suffix;
  o.y_label = "lr";
  out += svg::line_chart({{"learning rate", step, lr, "#f59e0b"}}, o);
  return out + "</div>\n";
}

std::string training_section(const Report& report) {
  std::string out = "<section id=\"training\">\n<h2>Training</h2>\n";
  if (!report.training) return out + "<p class=\"note\">This run did not train.</p>\n</section>\n";
  const TrainingSummary& t = *report.training;
  out += table({"steps", "wall time", "pairs/s", "tokens/s", "final loss", "mean loss, last 10 steps"},
               {{std::to_string(t.steps), human_seconds(t.seconds), human_rate(t.pairs_per_s), human_rate(t.tokens_per_s),
                 fixed(t.final_loss), fixed(t.final_loss_mean)}},
               std::vector<bool>(6, true));
  if (t.stages.empty()) {
    out += curve_charts(t, "");
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const TrainingSummary& stage : t.stages) {
      rows.push_back({stage.name, stage.plugin, std::to_string(stage.steps), human_seconds(stage.seconds),
                      fixed(stage.final_loss), fixed(stage.final_loss_mean)});
    }
    out += fmt::format("<p class=\"note\">{} stages, in order, each starting from the model the one before it "
                       "trained.</p>\n", t.stages.size());
    out += table({"stage", "plugin", "steps", "wall time", "final loss", "mean loss, last 10 steps"}, rows,
                 {false, false, true, true, true, true});
    for (std::size_t i = 0; i < t.stages.size(); ++i) {
      const TrainingSummary& stage = t.stages[i];
      out += fmt::format("<h3>Stage {}: {} <span class=\"note\">({})</span></h3>\n", i + 1, escape(stage.name),
                         escape(stage.plugin));
      out += curve_charts(stage, stage.name);
    }
  }
  if (!t.steps_per_dataset.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, n] : t.steps_per_dataset) {
      rows.push_back({name, std::to_string(n), fmt::format("{:.1f}%", 100.0 * static_cast<double>(n) / static_cast<double>(std::max<std::int64_t>(1, t.steps)))});
    }
    out += "<h3>Steps per dataset</h3>\n" + table({"dataset", "steps", "share"}, rows, {false, true, true});
  }
  return out + "</section>\n";
}

std::string speed_section(const Report& report) {
  const bool memory = any_task_peak_memory(report);
  std::string out = "<section id=\"speed\">\n<h2>Speed</h2>\n<div class=\"charts\">\n";
  std::vector<svg::Bar> encode;
  std::vector<std::vector<std::string>> rows;
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) continue;
    const bool timed = !t.model.cache_hit && t.model.encode_seconds > 0;
    encode.push_back({t.name, timed ? t.model.items_per_second() : std::nan(""), kModelColor,
                      timed ? human_rate(t.model.items_per_second()) + "/s" : "cached"});
    auto add = [&](const std::string& scorer, const ScorerResult& s) {
      rows.push_back({t.name, scorer, std::to_string(s.encoded_items),
                      s.cache_hit ? "cached" : s.encode_seconds > 0 ? human_seconds(s.encode_seconds) : "-",
                      s.cache_hit || s.encode_seconds <= 0 ? "-" : human_rate(s.items_per_second()), human_seconds(s.wall_seconds)});
      if (memory) rows.back().push_back(human_bytes(s.peak_rss_bytes));
    };
    add("model", t.model);
    for (const auto& [b, s] : t.baselines) add(b, s);
  }
  if (!encode.empty()) {
    svg::BarChartOptions o;
    o.title = "Model encoding throughput";
    o.x_label = "items per second";
    out += svg::bar_chart(encode, o);
  }
  if (report.training && !report.training->curve.empty()) {
    std::vector<double> step, tokens;
    for (const CurvePoint& p : report.training->curve) step.push_back(static_cast<double>(p.step)), tokens.push_back(p.tokens_per_s);
    svg::LineChartOptions o;
    o.title = "Training throughput";
    o.x_label = "step";
    o.y_label = "tokens/s";
    out += svg::line_chart({{"tokens/s", step, tokens, "#10b981"}}, o);
  }
  out += "</div>\n";
  if (!rows.empty()) {
    std::vector<std::string> header = {"task", "scorer", "encoded", "encode time", "items/s", "wall time"};
    if (memory) header.push_back("peak memory");
    out += table(header, rows, {false, false, true, true, true, true, true});
  }
  std::string facts;
  const double rate = report.encode_items_per_second();
  facts += fmt::format("<li>model encoding over all tasks: {} items/s</li>\n", rate > 0 ? human_rate(rate) : "- (cached)");
  if (report.training) {
    facts += fmt::format("<li>training: {} pairs/s, {} tokens/s{}</li>\n", human_rate(report.training->pairs_per_s),
                         human_rate(report.training->tokens_per_s), ranks_note(report.training->world_size));
  }
  facts += fmt::format("<li>peak memory (whole process, VmHWM): {}</li>\n", human_bytes(report.peak_rss_bytes));
  return out + "<ul class=\"note\">\n" + facts + "</ul>\n</section>\n";
}

std::string metrics_section(const Report& report) {
  std::string out;
  for (const TaskResult& t : report.tasks) {
    if (!t.ran()) continue;
    std::vector<std::string> header = {"metric", "model"};
    for (const auto& [b, s] : t.baselines) header.push_back(b);
    std::vector<std::vector<std::string>> rows;
    for (const std::string& metric : metric_names(t)) {
      std::vector<std::string> row = {metric, metric_cell(t, t.model, metric)};
      for (const auto& [b, s] : t.baselines) row.push_back(metric_cell(t, s, metric));
      rows.push_back(std::move(row));
    }
    std::vector<bool> numeric(header.size(), true);
    numeric[0] = false;
    out += fmt::format("<h3>{} <span class=\"note\">({}, {} {})</span></h3>\n", escape(t.name), escape(t.type), t.items,
                       item_noun(t, t.items));
    out += table(header, rows, numeric);
    if (!t.notes.empty()) {
      out += "<ul class=\"note\">\n";
      for (const auto& [k, v] : t.notes) out += fmt::format("<li>{}: {}</li>\n", escape(k), escape(v));
      out += "</ul>\n";
    }
  }
  return out.empty() ? out : "<section id=\"metrics\">\n<h2>Metrics</h2>\n" + out + "</section>\n";
}

std::string run_section(const Report& report) {
  std::vector<std::vector<std::string>> facts;
  for (const auto& [k, v] : run_facts(report)) facts.push_back({k, without_backticks(v)});
  std::string out = "<section id=\"run\">\n<h2>Run</h2>\n" + table({"field", "value"}, facts, {});
  std::vector<std::vector<std::string>> data;
  for (const TaskResult& t : report.tasks) data.push_back({t.name, t.version.empty() ? "-" : t.version, t.dataset, t.dataset_hash.empty() ? "-" : t.dataset_hash});
  if (!data.empty()) out += "<h3>Datasets</h3>\n" + table({"task", "version", "dataset", "hash"}, data, {});
  out += "<details><summary>Resolved recipe</summary>\n<pre>" + escape(report.recipe.dump(2)) + "</pre>\n</details>\n";
  return out + "</section>\n";
}

}  // namespace

std::string render_html(const Report& report) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may be fetched, not even a favicon: the page must render the same offline.
  out += "<link rel=\"icon\" href=\"data:,\">\n";
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", escape(report.title), std::string(kBaseStyle) + kPageStyle);
  out += fmt::format("<h1>{}</h1>\n<p class=\"summary\">{}</p>\n", escape(report.title), escape(without_backticks(one_line_summary(report))));
  out += "<nav><a href=\"#results\">Results</a><a href=\"#training\">Training</a><a href=\"#speed\">Speed</a>"
         "<a href=\"#metrics\">Metrics</a><a href=\"#run\">Run</a></nav>\n";
  out += results_section(report);
  out += training_section(report);
  out += speed_section(report);
  out += metrics_section(report);
  out += run_section(report);
  out += fmt::format("<p class=\"note\">Written by sentbench {} from report schema {}.</p>\n", escape(report.sentbench_version), kReportSchema);
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace sentbench
