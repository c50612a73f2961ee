// Shared views of a report for the Markdown and HTML writers.
#include "report_view.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "text_table.hpp"

namespace sentbench {

bool any_task_peak_memory(const Report& report) {
  for (const TaskResult& t : report.tasks) {
    if (t.model.peak_rss_bytes) return true;
    for (const auto& [b, s] : t.baselines) {
      if (s.peak_rss_bytes) return true;
    }
  }
  return false;
}

std::vector<std::string> baseline_names(const Report& report) {
  std::set<std::string> names;
  for (const TaskResult& t : report.tasks) {
    for (const auto& [b, s] : t.baselines) names.insert(b);
  }
  return {names.begin(), names.end()};
}

double best_baseline_score(const TaskResult& task) {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (const auto& [b, s] : task.baselines) {
    if (std::isfinite(s.main_score) && !(s.main_score <= best)) best = s.main_score;
  }
  return best;
}

bool metric_less(const std::string& a, const std::string& b) {
  const auto at_a = a.find('@'), at_b = b.find('@');
  const std::string base_a = a.substr(0, at_a), base_b = b.substr(0, at_b);
  if (base_a != base_b || at_a == std::string::npos || at_b == std::string::npos) return a < b;
  const std::string k_a = a.substr(at_a + 1), k_b = b.substr(at_b + 1);
  const bool digits = !k_a.empty() && !k_b.empty() && k_a.find_first_not_of("0123456789") == std::string::npos &&
                      k_b.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || k_a.size() > 9 || k_b.size() > 9) return a < b;
  return std::stol(k_a) < std::stol(k_b);
}

std::vector<std::string> metric_names(const TaskResult& task) {
  std::set<std::string, bool (*)(const std::string&, const std::string&)> names(&metric_less);
  for (const auto& [k, v] : task.model.metrics) names.insert(k);
  for (const auto& [b, s] : task.baselines) {
    for (const auto& [k, v] : s.metrics) names.insert(k);
  }
  std::vector<std::string> out;
  if (!task.main_metric.empty()) out.push_back(task.main_metric);
  for (const auto& n : names) {
    if (n != task.main_metric) out.push_back(n);
  }
  return out;
}

std::string metric_cell(const TaskResult& task, const ScorerResult& scorer, const std::string& metric) {
  auto it = scorer.metrics.find(metric);
  const double v = it != scorer.metrics.end() ? it->second
                   : scorer.metrics.empty()   ? scorer.main_score
                                              : std::numeric_limits<double>::quiet_NaN();
  if (task.metric(metric).is_count) return std::isfinite(v) ? fmt::format("{:.0f}", v) : "-";
  return fixed(v);
}

std::string item_noun(const TaskResult& task, std::int64_t count) {
  return count == 1 ? task.info.item_noun_one : task.info.item_noun;
}

std::vector<std::size_t> sample_indices(std::size_t n, std::size_t k) {
  std::vector<std::size_t> out;
  if (n == 0 || k == 0) return out;
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t i = k == 1 ? n - 1 : static_cast<std::size_t>(std::llround(static_cast<double>(j) * static_cast<double>(n - 1) / static_cast<double>(k - 1)));
    if (out.empty() || out.back() != i) out.push_back(i);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> run_facts(const Report& report) {
  std::vector<std::pair<std::string, std::string>> facts;
  facts.emplace_back("run", report.run_name);
  facts.emplace_back("sentbench", fmt::format("{} (commit {})", report.sentbench_version.empty() ? "?" : report.sentbench_version,
                                              report.git_commit.empty() ? "unknown" : report.git_commit));
  std::vector<std::string> plugins;
  for (const PluginVersion& p : report.plugins) {
    plugins.push_back(fmt::format("{} {} ({})", p.name, p.version.empty() ? "(version not recorded)" : p.version, p.kind));
  }
  facts.emplace_back("plugins", plugins.empty() ? "-" : fmt::format("{}", fmt::join(plugins, ", ")));
  const nlohmann::json& e = report.encoder;
  if (e.is_object() && !e.empty()) {
    auto str = [&](const char* k) { return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string(); };
    auto num = [&](const char* k) { return e.contains(k) && e[k].is_number() ? e[k].get<double>() : 0.0; };
    std::string text = str("name");
    if (!str("model").empty()) text += fmt::format(" `{}`", str("model"));
    text += fmt::format(": dim {:.0f}, {} parameters, pooling {}, max {:.0f} tokens", num("dim"), human_rate(num("parameters")),
                        str("pooling").empty() ? "-" : str("pooling"), num("max_tokens"));
    facts.emplace_back("encoder", text);
  }
  const MachineInfo& m = report.machine;
  facts.emplace_back("CPU", fmt::format("{} ({} cores, avx512_bf16 {})", m.cpu_model.empty() ? "unknown" : m.cpu_model, m.cores,
                                        m.avx512_bf16 ? "yes" : "no"));
  facts.emplace_back("threads", std::to_string(m.threads));
  facts.emplace_back("BLAS", m.blas.empty() ? "unknown" : m.blas);
  facts.emplace_back("LibTorch", m.torch_version.empty() ? "unknown" : m.torch_version);
  if (!m.hostname.empty()) facts.emplace_back("host", m.hostname);
  facts.emplace_back("peak memory", report.peak_rss_bytes ? human_bytes(report.peak_rss_bytes) + " (VmHWM of the whole process)" : "-");
  if (!report.phase_peak_rss_bytes.empty()) {
    std::vector<std::string> phases;
    for (const auto& [name, bytes] : report.phase_peak_rss_bytes) phases.push_back(fmt::format("{} {}", name, human_bytes(bytes)));
    facts.emplace_back("peak memory by phase", fmt::format("{}", fmt::join(phases, ", ")));
  }
  if (!report.command.empty()) facts.emplace_back("command", report.command);
  return facts;
}

std::string one_line_summary(const Report& report) {
  std::size_t ran = 0, skipped = 0, failed = 0;
  for (const TaskResult& t : report.tasks) (t.ran() ? ran : t.failed.empty() ? skipped : failed)++;
  std::string line = fmt::format("Run `{}` · sentbench {} (`{}`)", report.run_name, report.sentbench_version,
                                 report.git_commit.empty() ? "unknown" : report.git_commit);
  if (report.encoder.is_object() && report.encoder.contains("name") && report.encoder["name"].is_string()) {
    line += fmt::format(" · encoder {}", report.encoder["name"].get<std::string>());
  }
  if (report.training) line += fmt::format(" · trained {} steps in {}", report.training->steps, human_seconds(report.training->seconds));
  line += fmt::format(" · {} task{}", ran, ran == 1 ? "" : "s");
  if (skipped) line += fmt::format(" ({} skipped)", skipped);
  if (failed) line += fmt::format(" ({} FAILED)", failed);
  return line;
}

}  // namespace sentbench
