// See sweep_report.hpp.
#include "sweep_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "html_style.hpp"

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "svg.hpp"
#include "text_table.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxNameLength = 120;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

const char* const kGridHelp = "write it as --grid KEY=V1,V2,... with a recipe key as --set takes it, e.g. "
                              "--grid train.lr=1e-3,3e-3 or --grid 'stage[1].batch_size=32,64'";

// Keys as Config overrides take them: dotted names with [i] indices.
bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  for (const char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']')) return false;
  }
  return true;
}

// Letters, digits and a few punctuation marks that need no quoting in a shell or a URL.
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-' || c == '@';
}

std::string key_for_name(const std::string& key) {
  std::string out;
  for (const char c : key) {
    if (c == '[' || c == ']') continue;
    out += name_char(c) ? c : '_';
  }
  return out;
}

std::string last_component(const std::string& key) {
  const auto dot = key.rfind('.');
  return key_for_name(dot == std::string::npos ? key : key.substr(dot + 1));
}

std::string short_hash(const std::string& text) { return hash_bytes(text).substr(0, 8); }

std::string settings_text(const std::vector<std::pair<std::string, std::string>>& settings) {
  std::string s;
  for (const auto& [k, v] : settings) s += k + "=" + v + "\n";
  return s;
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double sum = 0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double ss = 0;
  for (const double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

const TaskResult* ran_task(const Report& report, const std::string& name) {
  const TaskResult* t = report.find_task(name);
  return t && t->ran() && std::isfinite(t->model.main_score) ? t : nullptr;
}

// ---- text ---------------------------------------------------------------------------------------------

std::string score_cell(const SweepScore& s) {
  if (s.runs == 0 || !std::isfinite(s.mean)) return "-";
  if (s.runs == 1) return fixed(s.mean);
  return fmt::format("{} ± {}", fixed(s.mean), fixed(s.std));
}

std::string rate_cell(double v) { return std::isfinite(v) && v > 0 ? human_rate(v) : "-"; }
std::string seconds_cell(double v) { return std::isfinite(v) && v > 0 ? human_seconds(v) : "-"; }

std::string vs_best_cell(const SweepSummary& s, std::size_t i) {
  const SweepConfigSummary& c = s.configs[i];
  if (i == 0 && c.finished > 0) return "best";
  const auto cell = [](const auto& t) {  // a SeedTest or a BootstrapResult
    return fmt::format("{} [{}, {}]{}", signed_fixed(t.delta), signed_fixed(t.low), signed_fixed(t.high),
                       t.excludes_zero() ? " *" : "");
  };
  if (c.vs_best_seeds) return cell(*c.vs_best_seeds);
  return c.vs_best ? cell(*c.vs_best) : "-";
}

std::string seeds_cell(const SweepConfigSummary& c) { return fmt::format("{}/{}", c.finished, c.runs.size()); }

// The grid value of configuration i for axis a, and whether it differs from the best configuration's.
std::pair<std::string, bool> grid_cell(const SweepSummary& s, std::size_t i, std::size_t a) {
  const std::string& v = s.configs[i].settings[a].second;
  return {v, !s.configs.empty() && i > 0 && v != s.configs[0].settings[a].second};
}

std::string task_header(const SweepTask& t) { return fmt::format("{} {}", t.name, t.metric); }

std::string headline(const SweepSummary& s) {
  std::string out = fmt::format("{} configuration{}", s.configs.size(), s.configs.size() == 1 ? "" : "s");
  if (!s.seeds.empty()) out += fmt::format(" × {} seeds", s.seeds.size());
  out += fmt::format(" = {} run{}, {} finished", s.runs, s.runs == 1 ? "" : "s", s.finished);
  if (!s.tasks.empty()) {
    const SweepTask& t = s.tasks[s.sort_task];
    out += fmt::format(" · sorted by {} {} ({} is better)", t.name, t.metric, t.higher_is_better ? "higher" : "lower");
  }
  return out;
}

std::string grid_line(const GridAxis& a) {
  std::string values;
  for (std::size_t i = 0; i < a.values.size(); ++i) values += (i ? ", " : "") + a.values[i];
  return fmt::format("{} = {}{}", a.key, values, a.label == a.key ? "" : fmt::format(" (\"{}\" in names)", a.label));
}

std::string legend(const SweepSummary& s) {
  std::string out = "± is the sample standard deviation over seeds. ";
  if (!s.tasks.empty()) {
    const SweepTask& t = s.tasks[s.sort_task];
    const double level = 100.0 * (1.0 - s.bootstrap.alpha);
    if (!s.seeds.empty()) {
      out += fmt::format("Δ best: the mean {} {} over seeds of the configuration minus the best one's, with the {:.0f}% "
                         "Welch t interval from the between-seed spread (a side with one finished run is assumed to "
                         "vary as the other; where neither has two, a paired bootstrap over items on one seed); * "
                         "marks an interval that excludes 0. ",
                         t.name, t.metric, level);
    } else {
      out += fmt::format("Δ best: {} {} of the configuration minus the best one's, with the {:.0f}% interval of a "
                         "paired bootstrap ({} resamples over items), which covers item noise, not another seed's "
                         "(sweep with --seeds N for that); * marks an interval that excludes 0. ",
                         t.name, t.metric, level, s.bootstrap.resamples);
    }
  }
  return out + "Grid values that differ from the best configuration's are highlighted.";
}

// ---- html ---------------------------------------------------------------------------------------------

constexpr const char* kSeriesColors[] = {"#2563eb", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#6b7280"};

constexpr const char* kPageStyle = R"(
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; }
td.diff { background: #fef3c7; font-weight: 600; }
tr.best td { background: #ecfdf5; }
.note { color: #666; font-size: 13px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
)";

using svg::escape;

struct Cell {
  std::string text;
  bool numeric = false;
  bool diff = false;
};

std::string html_table(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                       const std::vector<std::vector<Cell>>& rows, const std::vector<bool>& best_rows = {}) {
  std::string out = "<table>\n<tr>";
  for (std::size_t i = 0; i < header.size(); ++i) {
    out += fmt::format("<th{}>{}</th>", i < numeric.size() && numeric[i] ? " class=\"num\"" : "", escape(header[i]));
  }
  out += "</tr>\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += r < best_rows.size() && best_rows[r] ? "<tr class=\"best\">" : "<tr>";
    for (const Cell& c : rows[r]) {
      std::string cls = c.numeric ? "num" : "";
      if (c.diff) cls += cls.empty() ? "diff" : " diff";
      out += fmt::format("<td{}>{}</td>", cls.empty() ? "" : " class=\"" + cls + "\"", escape(c.text));
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// A value as a number for a plot's x axis: TOML integers and floats; nullopt for anything else.
std::optional<double> numeric_value(const std::string& text) {
  std::string t;
  for (const char c : text) {
    if (c != '_') t += c;  // TOML allows 1_000
  }
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Score against one axis's values: one line per task, each point the mean over the configurations with
// that value (so over the other axes' values too).
std::string axis_chart(const SweepSummary& s, std::size_t a) {
  const GridAxis& axis = s.axes[a];
  std::vector<double> xs;
  bool numeric = true;
  for (const auto& v : axis.values) {
    const auto x = numeric_value(v);
    if (!x) numeric = false;
    xs.push_back(x.value_or(0));
  }
  std::string x_label = axis.key;
  if (numeric) {
    const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
    if (*lo > 0 && *hi / *lo >= 20) {  // learning rates and the like: spread evenly on a log scale
      for (double& x : xs) x = std::log10(x);
      x_label = "log10(" + axis.key + ")";
    }
  } else {
    x_label = axis.key + ":";
    for (std::size_t i = 0; i < axis.values.size(); ++i) {
      xs[i] = static_cast<double>(i + 1);
      x_label += fmt::format(" {}={}", i + 1, axis.values[i]);
    }
  }
  std::vector<svg::Series> series;
  for (std::size_t t = 0; t < s.tasks.size(); ++t) {
    svg::Series line;
    line.name = s.tasks[t].name;
    line.color = kSeriesColors[t % (sizeof kSeriesColors / sizeof *kSeriesColors)];
    std::vector<std::pair<double, double>> points;
    for (std::size_t v = 0; v < axis.values.size(); ++v) {
      std::vector<double> means;
      for (const auto& c : s.configs) {
        if (c.settings[a].second == axis.values[v] && c.scores[t].runs > 0) means.push_back(c.scores[t].mean);
      }
      points.push_back({xs[v], mean_of(means)});
    }
    std::sort(points.begin(), points.end(), [](const auto& p, const auto& q) { return p.first < q.first; });
    for (const auto& [x, y] : points) line.x.push_back(x), line.y.push_back(y);
    series.push_back(std::move(line));
  }
  svg::LineChartOptions options;
  options.title = fmt::format("main score against {}", axis.key);
  options.x_label = x_label;
  options.y_label = "main score";
  options.width = 560;
  options.height = 260;
  return svg::line_chart(series, options);
}

std::string sort_task_chart(const SweepSummary& s) {
  if (s.tasks.empty()) return "";
  const SweepTask& task = s.tasks[s.sort_task];
  std::vector<svg::Bar> bars;
  std::size_t longest = 8;
  for (std::size_t i = 0; i < s.configs.size(); ++i) {
    const SweepScore& score = s.configs[i].scores[s.sort_task];
    if (score.runs == 0) continue;
    bars.push_back({s.configs[i].name, score.mean, i == 0 ? kSeriesColors[0] : "#9ca3af", score_cell(score)});
    longest = std::max(longest, s.configs[i].name.size());
  }
  svg::BarChartOptions options;
  options.title = fmt::format("{}: {} per configuration", task.name, task.metric);
  options.label_width = static_cast<int>(std::min<std::size_t>(360, 12 + 6 * longest));
  options.width = options.label_width + 480;  // room for "0.1234 ± 0.0123" after the longest bar
  return svg::bar_chart(bars, options);
}

}  // namespace

// ---- the plan -----------------------------------------------------------------------------------------

GridAxis parse_grid_axis(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    throw UsageError(fmt::format("--grid '{}': no '=' between the key and its values; {}", text, kGridHelp));
  }
  GridAxis axis;
  axis.key = trim(text.substr(0, eq));
  if (axis.key.empty()) throw UsageError(fmt::format("--grid '{}': the key before '=' is empty; {}", text, kGridHelp));
  if (!valid_key(axis.key)) {
    throw UsageError(fmt::format("--grid '{}': '{}' is not a recipe key such as train.lr or stage[1].lr; {}", text,
                                 axis.key, kGridHelp));
  }
  const std::string values = text.substr(eq + 1);
  if (trim(values).empty()) {
    throw UsageError(fmt::format("--grid '{}': no values after '='; {}", text, kGridHelp));
  }
  // Split at commas that are not inside [...], {...} or a quoted string.
  int depth = 0;
  char quote = 0;
  std::string current;
  std::vector<std::string> parts;
  for (const char c : values) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  if (quote || depth != 0) {
    throw UsageError(fmt::format("--grid '{}': an unclosed {} in the values; close it, and quote the whole option for the "
                                 "shell (--grid 'KEY=\"a, b\",c')", text, quote ? "quote" : "bracket"));
  }
  parts.push_back(current);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string v = trim(parts[i]);
    if (v.empty()) {
      throw UsageError(fmt::format("--grid '{}': value {} is empty (two commas in a row, or one at an end); {}", text,
                                   i + 1, kGridHelp));
    }
    if (!seen.insert(v).second) {
      throw UsageError(fmt::format("--grid '{}': the value {} is given twice; list each value once (use --seeds N for "
                                   "repeated runs)", text, v));
    }
    axis.values.push_back(v);
  }
  axis.label = last_component(axis.key);
  return axis;
}

std::string name_safe_value(const std::string& value) {
  std::string v = value;
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  std::string out;
  for (const char c : v) out += name_char(c) ? c : '_';
  return out.empty() ? "_" : out;
}

std::vector<std::string> SweepRun::overrides() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : settings) out.push_back(k + "=" + v);
  if (seed) out.push_back(fmt::format("run.seed={}", *seed));
  return out;
}

SweepPlan plan_sweep(std::vector<GridAxis> axes, int seeds, std::int64_t base_seed) {
  if (axes.empty()) throw UsageError("a sweep needs at least one --grid KEY=V1,V2,... (e.g. --grid train.lr=1e-3,3e-3)");
  if (seeds < 1) throw UsageError(fmt::format("--seeds {}: give 1 or more seeds per configuration", seeds));
  std::set<std::string> keys;
  for (const auto& a : axes) {
    if (!keys.insert(a.key).second) {
      throw UsageError(fmt::format("--grid {} is given twice: put all its values in one --grid {}=V1,V2,...", a.key, a.key));
    }
    if (a.values.empty()) throw UsageError(fmt::format("--grid {} has no values", a.key));
    if (seeds > 1 && a.key == "run.seed") {
      throw UsageError("--grid run.seed and --seeds both choose seeds: drop --seeds, or drop run.seed from the grid");
    }
  }
  // Labels: the last key component where it names one axis only (and is not "seed" when seeds are added).
  std::map<std::string, int> uses;
  for (auto& a : axes) {
    if (a.label.empty()) a.label = last_component(a.key);
    ++uses[a.label];
  }
  if (seeds > 1) ++uses["seed"];
  for (auto& a : axes) {
    if (uses[a.label] > 1) a.label = key_for_name(a.key);
  }

  SweepPlan plan;
  plan.axes = axes;
  for (int i = 0; i < seeds && seeds > 1; ++i) plan.seeds.push_back(base_seed + i);

  // The Cartesian product, first axis slowest (an odometer over the value indices).
  std::vector<std::size_t> at(axes.size(), 0);
  for (bool more = true; more;) {
    SweepConfig config;
    std::string name;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      config.settings.push_back({axes[a].key, axes[a].values[at[a]]});
      name += (a ? "," : "") + axes[a].label + "=" + name_safe_value(axes[a].values[at[a]]);
    }
    if (name.size() > kMaxNameLength) name = name.substr(0, kMaxNameLength - 9) + "-" + short_hash(settings_text(config.settings));
    config.name = name;
    plan.configs.push_back(std::move(config));
    more = false;
    for (std::size_t a = axes.size(); a-- > 0;) {
      if (++at[a] < axes[a].values.size()) {
        more = true;
        break;
      }
      at[a] = 0;
    }
  }
  // Different settings that came out as one name ("a/b" and "a_b"): tell them apart by their hash.
  std::map<std::string, int> names;
  for (const auto& c : plan.configs) ++names[c.name];
  for (auto& c : plan.configs) {
    if (names[c.name] > 1) c.name += "-" + short_hash(settings_text(c.settings));
  }

  for (std::size_t c = 0; c < plan.configs.size(); ++c) {
    SweepConfig& config = plan.configs[c];
    const std::size_t n = plan.seeds.empty() ? 1 : plan.seeds.size();
    for (std::size_t s = 0; s < n; ++s) {
      SweepRun run;
      run.config = c;
      run.config_name = config.name;
      run.settings = config.settings;
      run.name = config.name;
      if (!plan.seeds.empty()) {
        run.seed = plan.seeds[s];
        run.name += fmt::format(",seed={}", *run.seed);
      }
      config.runs.push_back(plan.runs.size());
      plan.runs.push_back(std::move(run));
    }
  }
  return plan;
}

// ---- the report ---------------------------------------------------------------------------------------

SweepSummary summarize_sweep(const SweepPlan& plan, const std::vector<SweepRunOutcome>& outcomes,
                             const SweepReportOptions& options) {
  if (outcomes.size() != plan.runs.size()) {
    throw Error(fmt::format("summarize_sweep: {} outcomes for {} runs", outcomes.size(), plan.runs.size()));
  }
  SweepSummary s;
  s.title = options.title.empty() ? "Sweep" : options.title;
  s.recipe = options.recipe;
  s.sets = options.sets;
  s.axes = plan.axes;
  s.seeds = plan.seeds;
  s.bootstrap = options.bootstrap;
  s.runs = plan.runs.size();

  // Tasks in the order the runs list them, each with its main metric and direction.
  std::set<std::string> known;
  for (const auto& o : outcomes) {
    if (!o.report) continue;
    ++s.finished;
    for (const TaskResult& t : o.report->tasks) {
      if (!t.ran() || !known.insert(t.name).second) continue;
      s.tasks.push_back({t.name, t.main_metric, t.metric(t.main_metric).higher_is_better});
    }
  }
  if (!options.sort_task.empty()) {
    auto it = std::find_if(s.tasks.begin(), s.tasks.end(), [&](const SweepTask& t) { return t.name == options.sort_task; });
    if (it == s.tasks.end()) {
      std::string names;
      for (const auto& t : s.tasks) names += (names.empty() ? "" : ", ") + t.name;
      throw ConfigError(fmt::format("--sort {}: no finished run scored a task of that name; the tasks are: {}",
                                    options.sort_task, names.empty() ? "(none yet)" : names));
    }
    s.sort_task = static_cast<std::size_t>(it - s.tasks.begin());
  }

  for (const SweepConfig& config : plan.configs) {
    SweepConfigSummary c;
    c.name = config.name;
    c.settings = config.settings;
    c.scores.resize(s.tasks.size());
    std::vector<double> tokens, items, seconds;
    for (const std::size_t r : config.runs) {
      const SweepRun& run = plan.runs[r];
      const SweepRunOutcome& o = outcomes[r];
      c.runs.push_back(run.name);
      c.run_status.push_back(o.status);
      if (run.seed) c.seeds.push_back(*run.seed);
      if (!o.report) continue;
      ++c.finished;
      for (std::size_t t = 0; t < s.tasks.size(); ++t) {
        if (const TaskResult* task = ran_task(*o.report, s.tasks[t].name)) c.scores[t].values.push_back(task->model.main_score);
      }
      if (o.report->training) {
        if (o.report->training->tokens_per_s > 0) tokens.push_back(o.report->training->tokens_per_s);
        if (o.report->training->seconds > 0) seconds.push_back(o.report->training->seconds);
      }
      if (const double v = o.report->encode_items_per_second(); v > 0) items.push_back(v);
    }
    for (SweepScore& score : c.scores) {
      score.runs = score.values.size();
      score.mean = mean_of(score.values);
      score.std = std_of(score.values);
    }
    c.train_tokens_per_s = mean_of(tokens);
    c.encode_items_per_s = mean_of(items);
    c.train_seconds = mean_of(seconds);
    s.configs.push_back(std::move(c));
  }

  // Best first by the sort task's mean; configurations that have no score keep their grid order at the end.
  std::vector<std::size_t> order(s.configs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!s.tasks.empty()) {
    const std::size_t t = s.sort_task;
    const bool higher = s.tasks[t].higher_is_better;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const double x = s.configs[a].scores[t].mean, y = s.configs[b].scores[t].mean;
      if (std::isfinite(x) != std::isfinite(y)) return std::isfinite(x);
      if (!std::isfinite(x)) return false;
      return higher ? x > y : x < y;
    });
  }
  std::vector<SweepConfigSummary> sorted;
  std::vector<const SweepConfig*> sorted_plan;
  for (const std::size_t i : order) sorted.push_back(std::move(s.configs[i])), sorted_plan.push_back(&plan.configs[i]);
  s.configs = std::move(sorted);

  // Each configuration against the best, paired item by item on one seed's runs.
  if (!s.tasks.empty() && !s.configs.empty() && std::isfinite(s.configs[0].scores[s.sort_task].mean)) {
    const std::string& task = s.tasks[s.sort_task].name;
    const SweepConfig& best = *sorted_plan[0];
    for (std::size_t i = 1; i < s.configs.size(); ++i) {
      SweepConfigSummary& c = s.configs[i];
      if (c.scores[s.sort_task].runs == 0) {
        c.vs_best_note = "no finished run scored " + task;
        continue;
      }
      const SweepConfig& mine = *sorted_plan[i];
      c.vs_best_note = "no seed both finished";
      for (std::size_t k = 0; k < std::min(best.runs.size(), mine.runs.size()); ++k) {
        const auto& a = outcomes[best.runs[k]].report;
        const auto& b = outcomes[mine.runs[k]].report;
        if (!a || !b) continue;
        const TaskResult* ta = ran_task(*a, task);
        const TaskResult* tb = ran_task(*b, task);
        if (!ta || !tb) continue;
        const std::optional<std::int64_t> seed = plan.runs[mine.runs[k]].seed;
        c.vs_best_seed = seed ? fmt::format("seed {}", *seed) : "the recipe's seed";
        std::string why;
        const std::optional<PairedItems> items = pair_items(*ta, *tb, &why);
        if (!items) {
          c.vs_best_note = "items do not pair: " + why;
          break;
        }
        try {
          c.vs_best = paired_bootstrap(*items, s.bootstrap);
          c.vs_best_note.clear();
        } catch (const Error& e) {
          c.vs_best_note = e.what();
        }
        break;
      }
      const SweepScore& mine_scores = c.scores[s.sort_task];
      const SweepScore& best_scores = s.configs[0].scores[s.sort_task];
      if (!s.seeds.empty() && mine_scores.runs > 0 && best_scores.runs > 0) {
        c.vs_best_seeds =
            seed_test(seed_spread(best_scores.values), seed_spread(mine_scores.values), s.bootstrap.alpha);
      }
    }
  }

  for (const auto& t : s.tasks) {
    std::size_t scored = 0;
    for (const auto& o : outcomes) scored += o.report && ran_task(*o.report, t.name) ? 1 : 0;
    if (scored < s.finished) s.notes.push_back(fmt::format("{} was scored by {} of the {} finished runs", t.name, scored, s.finished));
  }
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    const std::string& status = outcomes[r].status;
    if (status != "done") s.notes.push_back(fmt::format("{}: {}", plan.runs[r].name, status));
  }
  return s;
}

std::string sweep_to_json(const SweepSummary& s) {
  using json = nlohmann::ordered_json;
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json j;
  j["schema"] = s.schema;
  j["title"] = s.title;
  j["recipe"] = s.recipe;
  j["sets"] = s.sets;
  json grid = json::array();
  for (const auto& a : s.axes) grid.push_back({{"key", a.key}, {"label", a.label}, {"values", a.values}});
  j["grid"] = grid;
  j["seeds"] = s.seeds;
  j["runs"] = s.runs;
  j["finished"] = s.finished;
  json tasks = json::array();
  for (const auto& t : s.tasks) tasks.push_back({{"name", t.name}, {"metric", t.metric}, {"higher_is_better", t.higher_is_better}});
  j["tasks"] = tasks;
  j["sort_task"] = s.tasks.empty() ? json(nullptr) : json(s.tasks[s.sort_task].name);
  j["bootstrap"] = {{"resamples", s.bootstrap.resamples}, {"seed", s.bootstrap.seed}, {"level", 1.0 - s.bootstrap.alpha}};
  json configs = json::array();
  for (std::size_t i = 0; i < s.configs.size(); ++i) {
    const SweepConfigSummary& c = s.configs[i];
    json settings = json::object();
    for (const auto& [k, v] : c.settings) settings[k] = v;
    json runs = json::array();
    for (std::size_t r = 0; r < c.runs.size(); ++r) {
      json run = {{"name", c.runs[r]}, {"status", c.run_status[r]}};
      if (r < c.seeds.size()) run["seed"] = c.seeds[r];
      runs.push_back(run);
    }
    json scores = json::object();
    for (std::size_t t = 0; t < s.tasks.size(); ++t) {
      const SweepScore& sc = c.scores[t];
      scores[s.tasks[t].name] = {{"metric", s.tasks[t].metric}, {"runs", sc.runs}, {"mean", number(sc.mean)},
                                 {"std", sc.runs ? number(sc.std) : json(nullptr)}, {"values", sc.values}};
    }
    json vs_best = nullptr;
    if (c.vs_best) {
      const BootstrapResult& b = *c.vs_best;
      vs_best = {{"task", s.tasks[s.sort_task].name}, {"paired_on", c.vs_best_seed}, {"delta", b.delta},
                 {"low", b.low}, {"high", b.high}, {"items", b.items}, {"excludes_zero", b.excludes_zero()}};
    } else if (!c.vs_best_note.empty()) {
      vs_best = {{"note", c.vs_best_note}};
    }
    if (c.vs_best_seeds) {  // what Δ best shows when the sweep has seeds
      const SeedTest& t = *c.vs_best_seeds;
      if (vs_best.is_null()) vs_best = json::object();
      vs_best["task"] = s.tasks[s.sort_task].name;
      vs_best["seeds"] = {{"delta", t.delta}, {"low", t.low}, {"high", t.high}, {"df", t.df},
                          {"runs", c.scores[s.sort_task].runs}, {"excludes_zero", t.excludes_zero()}};
    }
    configs.push_back({{"rank", i + 1},
                       {"name", c.name},
                       {"best", i == 0 && c.finished > 0},
                       {"settings", settings},
                       {"runs", runs},
                       {"finished", c.finished},
                       {"scores", scores},
                       {"train_tokens_per_s", number(c.train_tokens_per_s)},
                       {"encode_items_per_s", number(c.encode_items_per_s)},
                       {"train_seconds", number(c.train_seconds)},
                       {"vs_best", vs_best}});
  }
  j["configurations"] = configs;
  j["notes"] = s.notes;
  return j.dump(2) + "\n";
}

std::string render_sweep_markdown(const SweepSummary& s) {
  using Align = TextTable::Align;
  std::string out = fmt::format("# {}\n\n{}\n\n", s.title, headline(s));
  if (!s.recipe.empty()) out += fmt::format("Recipe `{}`", s.recipe);
  for (const auto& set : s.sets) out += fmt::format(" --set `{}`", set);
  if (!s.recipe.empty()) out += "\n\n";
  for (const auto& a : s.axes) out += fmt::format("- grid: `{}`\n", grid_line(a));
  if (!s.seeds.empty()) out += fmt::format("- seeds: {}\n", fmt::join(s.seeds, ", "));
  out += "\n";

  std::vector<std::string> header = {"#"};
  std::vector<Align> align = {Align::kRight};
  for (const auto& a : s.axes) header.push_back(a.label), align.push_back(Align::kLeft);
  header.push_back("runs"), align.push_back(Align::kRight);
  for (const auto& t : s.tasks) header.push_back(task_header(t)), align.push_back(Align::kRight);
  for (const char* h : {"Δ best (95% CI)", "train tokens/s", "encode items/s", "train time"}) {
    header.push_back(h), align.push_back(Align::kRight);
  }
  if (s.bootstrap.alpha != 0.05) header[header.size() - 4] = fmt::format("Δ best ({:.0f}% CI)", 100.0 * (1.0 - s.bootstrap.alpha));
  TextTable table(header, align);
  for (std::size_t i = 0; i < s.configs.size(); ++i) {
    const SweepConfigSummary& c = s.configs[i];
    std::vector<std::string> row = {std::to_string(i + 1)};
    for (std::size_t a = 0; a < s.axes.size(); ++a) {
      const auto [v, diff] = grid_cell(s, i, a);
      row.push_back(diff ? "**" + v + "**" : v);
    }
    row.push_back(seeds_cell(c));
    for (const SweepScore& sc : c.scores) row.push_back(score_cell(sc));
    row.insert(row.end(), {vs_best_cell(s, i), rate_cell(c.train_tokens_per_s), rate_cell(c.encode_items_per_s),
                           seconds_cell(c.train_seconds)});
    table.add_row(row);
  }
  out += "## Configurations\n\n" + table.str() + "\n" + legend(s) + "\n\n";

  TextTable runs({"run", "status"}, {Align::kLeft, Align::kLeft});
  for (const auto& c : s.configs) {
    for (std::size_t r = 0; r < c.runs.size(); ++r) runs.add_row({c.runs[r], c.run_status[r]});
  }
  out += "## Runs\n\n" + runs.str() + "\n";
  std::vector<std::string> notes = s.notes;
  for (const auto& c : s.configs) {
    if (!c.vs_best && !c.vs_best_seeds && !c.vs_best_note.empty() && &c != &s.configs.front()) notes.push_back(c.name + ": no interval, " + c.vs_best_note);
  }
  if (!notes.empty()) {
    out += "## Notes\n\n";
    for (const auto& n : notes) out += "- " + n + "\n";
    out += "\n";
  }
  return out;
}

std::string render_sweep_html(const SweepSummary& s) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n";  // nothing fetched, not even a favicon
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", escape(s.title), std::string(kBaseStyle) + kPageStyle);
  out += fmt::format("<h1>{}</h1>\n<p class=\"summary\">{}</p>\n", escape(s.title), escape(headline(s)));
  out += "<nav><a href=\"#configurations\">Configurations</a><a href=\"#plots\">Plots</a><a href=\"#runs\">Runs</a></nav>\n";
  out += "<ul class=\"note\">\n";
  if (!s.recipe.empty()) {
    std::string line = "recipe <code>" + escape(s.recipe) + "</code>";
    for (const auto& set : s.sets) line += " --set <code>" + escape(set) + "</code>";
    out += "<li>" + line + "</li>\n";
  }
  for (const auto& a : s.axes) out += "<li>grid: <code>" + escape(grid_line(a)) + "</code></li>\n";
  if (!s.seeds.empty()) out += fmt::format("<li>seeds: {}</li>\n", fmt::join(s.seeds, ", "));
  out += "</ul>\n";

  std::vector<std::string> header = {"#"};
  std::vector<bool> numeric = {true};
  for (const auto& a : s.axes) header.push_back(a.label), numeric.push_back(false);
  header.push_back("runs"), numeric.push_back(true);
  for (const auto& t : s.tasks) header.push_back(task_header(t)), numeric.push_back(true);
  for (const char* h : {"Δ best (95% CI)", "train tokens/s", "encode items/s", "train time"}) header.push_back(h), numeric.push_back(true);
  std::vector<std::vector<Cell>> rows;
  std::vector<bool> best_rows;
  for (std::size_t i = 0; i < s.configs.size(); ++i) {
    const SweepConfigSummary& c = s.configs[i];
    std::vector<Cell> row = {{std::to_string(i + 1), true}};
    for (std::size_t a = 0; a < s.axes.size(); ++a) {
      const auto [v, diff] = grid_cell(s, i, a);
      row.push_back({v, false, diff});
    }
    row.push_back({seeds_cell(c), true});
    for (const SweepScore& sc : c.scores) row.push_back({score_cell(sc), true});
    for (const std::string& v : {vs_best_cell(s, i), rate_cell(c.train_tokens_per_s), rate_cell(c.encode_items_per_s),
                                 seconds_cell(c.train_seconds)}) {
      row.push_back({v, true});
    }
    rows.push_back(std::move(row));
    best_rows.push_back(i == 0 && c.finished > 0);
  }
  out += "<section id=\"configurations\">\n<h2>Configurations</h2>\n" + html_table(header, numeric, rows, best_rows);
  out += "<p class=\"note\">" + escape(legend(s)) + "</p>\n</section>\n";

  out += "<section id=\"plots\">\n<h2>Plots</h2>\n<div class=\"charts\">\n";
  std::size_t charts = 0;
  for (std::size_t a = 0; a < s.axes.size(); ++a) {
    if (s.axes[a].values.size() < 2 || s.tasks.empty()) continue;
    out += "<div class=\"chart\">" + axis_chart(s, a) + "</div>\n";
    ++charts;
  }
  if (const std::string bars = sort_task_chart(s); !bars.empty()) out += "<div class=\"chart\">" + bars + "</div>\n", ++charts;
  out += "</div>\n";
  if (charts == 0) out += "<p class=\"note\">No finished run to plot yet.</p>\n";
  else out += "<p class=\"note\">Each point of a score-against-value plot is the mean over the configurations with that value "
              "(over the other grid keys' values and the seeds).</p>\n";
  out += "</section>\n";

  std::vector<std::vector<Cell>> run_rows;
  for (const auto& c : s.configs) {
    for (std::size_t r = 0; r < c.runs.size(); ++r) run_rows.push_back({{c.runs[r]}, {c.run_status[r]}});
  }
  out += "<section id=\"runs\">\n<h2>Runs</h2>\n" + html_table({"run", "status"}, {}, run_rows);
  std::vector<std::string> notes = s.notes;
  for (std::size_t i = 1; i < s.configs.size(); ++i) {
    const auto& c = s.configs[i];
    if (!c.vs_best && !c.vs_best_seeds && !c.vs_best_note.empty()) notes.push_back(c.name + ": no interval, " + c.vs_best_note);
  }
  if (!notes.empty()) {
    out += "<ul class=\"note\">\n";
    for (const auto& n : notes) out += "<li>" + escape(n) + "</li>\n";
    out += "</ul>\n";
  }
  out += "</section>\n";
  out += "<p class=\"note\">Written by sentbench sweep (schema " + escape(s.schema) + ").</p>\n";
  return out + "</main>\n</body>\n</html>\n";
}

std::vector<fs::path> write_sweep_report(const SweepSummary& summary, const fs::path& dir) {
  fs::create_directories(dir);
  const std::vector<std::pair<fs::path, std::string>> files = {{dir / "sweep.json", sweep_to_json(summary)},
                                                               {dir / "sweep.md", render_sweep_markdown(summary)},
                                                               {dir / "sweep.html", render_sweep_html(summary)}};
  std::vector<fs::path> written;
  for (const auto& [path, text] : files) {
    write_file_atomic(path, text);
    written.push_back(path);
  }
  return written;
}

}  // namespace sentbench
