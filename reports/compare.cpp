// `compare` and `regress`: side-by-side tables with paired bootstraps, and the regression gate.
#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "json_view.hpp"
#include "report_view.hpp"
#include "sentbench/errors.hpp"
#include "text_table.hpp"

namespace sentbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Align = TextTable::Align;

std::optional<double> finite_or_none(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

// A metric of the model's scores: the main metric falls back to main_score.
std::optional<double> model_metric(const TaskResult& t, const std::string& name) {
  auto it = t.model.metrics.find(name);
  if (it != t.model.metrics.end()) return finite_or_none(it->second);
  if (name == t.main_metric) return finite_or_none(t.model.main_score);
  return std::nullopt;
}

bool timed(const ScorerResult& s, double min_seconds = 0) {
  return !s.cache_hit && s.encode_seconds > 0 && s.encode_seconds >= min_seconds && s.items_per_second() > 0;
}

std::string interval_text(const BootstrapResult& b) {
  return fmt::format("[{}, {}]", signed_fixed(b.low), signed_fixed(b.high));
}

std::string level_text(double alpha) { return fmt::format("{:g}%", 100.0 * (1.0 - alpha)); }

std::string not_testable_text(const BootstrapResult& b, const BootstrapOptions& options) {
  return fmt::format("not testable: {} items < {} (a bootstrap over so few items understates the spread)", b.items, options.min_items);
}

std::string verdict_text(const BootstrapResult& b, const BootstrapOptions& options) {
  if (!b.testable) return not_testable_text(b, options);
  return b.excludes_zero() ? "excludes 0: significant" : "includes 0: not significant";
}

nlohmann::json optional_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// What makes two runs one configuration: the resolved recipe without the run's seed, name and output
// folder. A report without its recipe is a configuration of its own.
std::string configuration_key(const Report& r, std::size_t index) {
  if (!r.recipe.is_object() || r.recipe.empty()) return fmt::format("#{}", index);
  nlohmann::json recipe = r.recipe;
  if (recipe.contains("run") && recipe["run"].is_object()) {
    for (const char* key : {"seed", "name", "output_dir"}) recipe["run"].erase(key);
  }
  return recipe.dump();
}

}  // namespace

bool Comparison::seed_variance() const {
  return std::any_of(groups.begin(), groups.end(), [](const SeedGroup& g) { return g.members.size() > 1; });
}

Comparison compare_reports(const std::vector<Report>& reports, const std::vector<std::string>& sources,
                           const BootstrapOptions& options) {
  if (reports.size() < 2) throw UsageError("compare needs at least two reports");
  Comparison c;
  c.bootstrap = options;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    c.labels.push_back(i < 26 ? std::string(1, static_cast<char>('A' + i)) : fmt::format("R{}", i + 1));
    c.sources.push_back(i < sources.size() ? sources[i] : c.labels.back());
    c.run_names.push_back(reports[i].run_name);
    c.commits.push_back(reports[i].git_commit);
  }
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const std::string key = configuration_key(reports[i], i);
    const auto it = std::find(keys.begin(), keys.end(), key);
    if (it == keys.end()) {
      keys.push_back(key);
      c.groups.push_back({c.labels[i], {i}});
    } else {
      SeedGroup& g = c.groups[static_cast<std::size_t>(it - keys.begin())];
      g.members.push_back(i);
      g.label += "," + c.labels[i];
    }
    c.group_of.push_back(static_cast<std::size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin()));
  }
  const Report& first = reports[0];
  std::set<std::string> compared;
  for (const TaskResult& t : first.tasks) {
    if (!t.ran()) continue;
    std::vector<const TaskResult*> found = {&t};
    std::vector<std::string> missing;
    for (std::size_t i = 1; i < reports.size(); ++i) {
      const TaskResult* other = reports[i].find_task(t.name);
      if (!other || !other->ran()) missing.push_back(c.labels[i]);
      found.push_back(other);
    }
    if (!missing.empty()) {
      c.notes.push_back(fmt::format("task {} is not compared: it did not run in {}", t.name, fmt::join(missing, ", ")));
      continue;
    }
    compared.insert(t.name);
    TaskComparison tc;
    tc.name = t.name;
    tc.type = t.type;
    tc.main_metric = t.main_metric;
    // Shared metrics: the main metric, then every metric each report has, in name order.
    std::vector<std::string> names;
    for (const auto& [name, v] : t.model.metrics) {
      if (name == t.main_metric) continue;
      bool everywhere = true;
      for (const TaskResult* other : found) everywhere = everywhere && other->model.metrics.count(name);
      if (everywhere) names.push_back(name);
    }
    std::sort(names.begin(), names.end(), metric_less);
    names.insert(names.begin(), t.main_metric);
    for (const std::string& name : names) {
      MetricRow row{name, {}, false, t.metric(name).is_count ? 0 : 4};
      for (const TaskResult* other : found) row.values.push_back(model_metric(*other, name));
      tc.rows.push_back(std::move(row));
    }
    MetricRow speed{"encode items/s", {}, true};
    MetricRow wall{"wall seconds", {}, true};
    for (const TaskResult* other : found) {
      speed.values.push_back(timed(other->model) ? std::optional<double>(other->model.items_per_second()) : std::nullopt);
      wall.values.push_back(finite_or_none(other->model.wall_seconds));
    }
    tc.rows.push_back(std::move(speed));
    tc.rows.push_back(std::move(wall));

    tc.bootstrap.resize(reports.size());
    for (std::size_t i = 1; i < reports.size(); ++i) {
      const TaskResult& other = *found[i];
      if (other.dataset_hash != t.dataset_hash) {
        tc.notes.push_back(fmt::format("{}: dataset hash {} differs from A's {}: no bootstrap, the items are not the same", c.labels[i],
                                       other.dataset_hash.empty() ? "(none)" : other.dataset_hash, t.dataset_hash.empty() ? "(none)" : t.dataset_hash));
        continue;
      }
      std::string why;
      const auto paired = pair_items(t, other, &why);
      if (!paired) {
        tc.notes.push_back(fmt::format("{}: no bootstrap: {}", c.labels[i], why));
        continue;
      }
      tc.bootstrap[i] = paired_bootstrap(*paired, options);
    }
    if (c.seed_variance()) {
      for (const SeedGroup& g : c.groups) {
        std::vector<double> scores;
        for (const std::size_t m : g.members) scores.push_back(found[m]->model.main_score);
        tc.seeds.push_back(seed_spread(scores));
      }
      tc.seed_tests.resize(c.groups.size());
      for (std::size_t g = 1; g < c.groups.size(); ++g) tc.seed_tests[g] = seed_test(tc.seeds[0], tc.seeds[g], options.alpha);
    }
    c.tasks.push_back(std::move(tc));
  }
  for (std::size_t i = 1; i < reports.size(); ++i) {
    for (const TaskResult& t : reports[i].tasks) {
      if (t.ran() && !compared.count(t.name) && !first.find_task(t.name)) {
        c.notes.push_back(fmt::format("task {} is only in {}", t.name, c.labels[i]));
      }
    }
  }

  bool any_training = false;
  for (const Report& r : reports) any_training = any_training || r.training.has_value();
  auto training_row = [&](const std::string& name, bool relative, auto get, int decimals = 4) {
    MetricRow row{name, {}, relative, decimals};
    for (const Report& r : reports) row.values.push_back(r.training ? finite_or_none(get(*r.training)) : std::nullopt);
    c.training.push_back(std::move(row));
  };
  if (any_training) {
    training_row("steps", false, [](const TrainingSummary& t) { return static_cast<double>(t.steps); }, 0);
    training_row("final loss (mean of last 10 steps)", false, [](const TrainingSummary& t) { return t.final_loss_mean; });
    training_row("train seconds", true, [](const TrainingSummary& t) { return t.seconds; });
    training_row("train pairs/s", true, [](const TrainingSummary& t) { return t.pairs_per_s; });
    training_row("train tokens/s", true, [](const TrainingSummary& t) { return t.tokens_per_s; });
  }
  MetricRow encode{"encode items/s, all tasks", {}, true};
  for (const Report& r : reports) {
    const double v = r.encode_items_per_second();
    encode.values.push_back(v > 0 ? std::optional<double>(v) : std::nullopt);
  }
  c.training.push_back(std::move(encode));
  MetricRow memory{"peak memory MiB", {}, true};
  for (const Report& r : reports) {
    memory.values.push_back(r.peak_rss_bytes ? std::optional<double>(static_cast<double>(*r.peak_rss_bytes) / (1024.0 * 1024.0)) : std::nullopt);
  }
  if (std::any_of(memory.values.begin(), memory.values.end(), [](const auto& v) { return v.has_value(); })) {
    c.training.push_back(std::move(memory));
  }
  return c;
}

namespace {

// A row of values with a delta column after each report but the first.
std::vector<std::string> row_cells(const MetricRow& row) {
  std::vector<std::string> cells = {row.name};
  const std::optional<double>& base = row.values[0];
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    const auto& v = row.values[i];
    cells.push_back(!v ? "-" : row.relative ? human_rate(*v) : fixed(*v, row.decimals));
    if (i == 0) continue;
    if (!v || !base) {
      cells.push_back("-");
    } else if (row.relative) {
      cells.push_back(*base != 0 ? signed_percent(*v / *base - 1.0) : "-");
    } else {
      cells.push_back(signed_fixed(*v - *base, row.decimals));
    }
  }
  return cells;
}

TextTable comparison_table(const Comparison& c, const std::string& first_header) {
  std::vector<std::string> header = {first_header};
  std::vector<Align> align = {Align::kLeft};
  for (std::size_t i = 0; i < c.labels.size(); ++i) {
    header.push_back(c.labels[i]);
    align.push_back(Align::kRight);
    if (i > 0) header.push_back(fmt::format("{} − {}", c.labels[i], c.labels[0])), align.push_back(Align::kRight);
  }
  return TextTable(header, align);
}

}  // namespace

std::string render_comparison(const Comparison& c) {
  std::string out = "# Comparison\n\n";
  TextTable who({"", "report", "run", "commit"});
  for (std::size_t i = 0; i < c.labels.size(); ++i) who.add_row({c.labels[i], c.sources[i], c.run_names[i], c.commits[i]});
  out += who.str() + "\n";
  for (const TaskComparison& t : c.tasks) {
    out += fmt::format("## {} ({}, main metric {})\n\n", t.name, t.type, t.main_metric);
    TextTable table = comparison_table(c, "metric");
    for (const MetricRow& row : t.rows) table.add_row(row_cells(row));
    out += table.str() + "\n";
    bool any = false;
    for (std::size_t i = 1; i < t.bootstrap.size(); ++i) {
      const auto& b = t.bootstrap[i];
      if (!b) continue;
      if (!any) {
        out += fmt::format("Paired bootstrap of {} over {} items ({} resamples, seed {}, {} interval):\n\n", t.main_metric, b->items,
                           c.bootstrap.resamples, c.bootstrap.seed, level_text(b->alpha));
        any = true;
      }
      out += fmt::format("- {} − {}: {} {}, ", c.labels[i], c.labels[0], signed_fixed(b->delta), interval_text(*b));
      if (c.group_of[i] != c.group_of[0]) {
        out += verdict_text(*b, c.bootstrap) + "\n";
      } else {
        // Over items a seed change can look significant; it is still no effect of the recipe.
        out += fmt::format("{}; {} and {} differ only in run.seed: this is seed noise, not an effect\n",
                           !b->testable ? not_testable_text(*b, c.bootstrap) : b->excludes_zero() ? "excludes 0 over items" : "includes 0",
                           c.labels[i], c.labels[0]);
      }
    }
    if (!t.seeds.empty()) {
      out += fmt::format("\nBetween seeds ({} over the runs of each configuration, mean ± std):\n\n", t.main_metric);
      for (std::size_t g = 0; g < c.groups.size(); ++g) {
        const SeedSpread& sp = t.seeds[g];
        out += fmt::format("- {}: {} ± {} over {} run{}", c.groups[g].label, fixed(sp.mean), fixed(sp.std), sp.runs, sp.runs == 1 ? "" : "s");
        if (g > 0 && t.seed_tests[g]) {
          const SeedTest& st = *t.seed_tests[g];
          out += fmt::format("; − {}: {} [{}, {}] (t interval, {}, df {:.1f}), {}", c.groups[0].label, signed_fixed(st.delta),
                             signed_fixed(st.low), signed_fixed(st.high), level_text(st.alpha), st.df,
                             st.excludes_zero() ? "excludes 0: significant" : "includes 0: not significant");
        } else if (g > 0) {
          out += fmt::format("; − {}: {} (one run on each side: no spread to test against)", c.groups[0].label,
                             signed_fixed(sp.mean - t.seeds[0].mean));
        }
        out += "\n";
      }
    }
    for (const std::string& note : t.notes) out += "- " + note + "\n";
    if (any || !t.notes.empty()) out += "\n";
  }
  if (c.tasks.empty()) out += "No task ran in every report.\n\n";
  if (!c.seed_variance() && !c.tasks.empty()) {
    out += "Seed variance is not covered: each configuration has one run, and the bootstrap resamples items, not "
           "seeds. Pass runs of several seeds (the same recipe with different run.seed) to compare against the "
           "between-seed spread.\n\n";
  }
  TextTable training = comparison_table(c, "training and speed");
  for (const MetricRow& row : c.training) training.add_row(row_cells(row));
  out += "## Training and speed\n\n" + training.str() + "\n";
  if (!c.notes.empty()) {
    out += "Notes:\n\n";
    for (const std::string& note : c.notes) out += "- " + note + "\n";
    out += "\n";
  }
  return out;
}

nlohmann::json comparison_json(const Comparison& c) {
  using nlohmann::json;
  auto rows_json = [](const std::vector<MetricRow>& rows) {
    json out = json::array();
    for (const MetricRow& r : rows) {
      json values = json::array();
      for (const auto& v : r.values) values.push_back(optional_json(v));
      out.push_back({{"metric", r.name}, {"values", values}, {"relative", r.relative}});
    }
    return out;
  };
  json reports = json::array();
  for (std::size_t i = 0; i < c.labels.size(); ++i) {
    reports.push_back({{"label", c.labels[i]}, {"source", c.sources[i]}, {"run", c.run_names[i]}, {"commit", c.commits[i]}});
  }
  json tasks = json::array();
  for (const TaskComparison& t : c.tasks) {
    json boot = json::array();
    for (std::size_t i = 1; i < t.bootstrap.size(); ++i) {
      const auto& b = t.bootstrap[i];
      boot.push_back(b ? json{{"against", c.labels[0]}, {"report", c.labels[i]}, {"delta", b->delta}, {"low", b->low}, {"high", b->high},
                              {"level", 1.0 - b->alpha}, {"resamples", b->resamples}, {"seed", b->seed}, {"items", b->items},
                              {"excludes_zero", b->excludes_zero()}, {"testable", b->testable}}
                       : json(nullptr));
    }
    json seeds = json::array();
    for (std::size_t g = 0; g < t.seeds.size(); ++g) {
      json entry = {{"group", c.groups[g].label}, {"runs", t.seeds[g].runs}, {"mean", t.seeds[g].mean}, {"std", t.seeds[g].std}};
      if (g > 0 && t.seed_tests[g]) {
        const SeedTest& st = *t.seed_tests[g];
        entry["against_first"] = {{"delta", st.delta}, {"low", st.low}, {"high", st.high}, {"df", st.df},
                                  {"level", 1.0 - st.alpha}, {"excludes_zero", st.excludes_zero()}};
      }
      seeds.push_back(std::move(entry));
    }
    tasks.push_back({{"name", t.name}, {"type", t.type}, {"main_metric", t.main_metric}, {"rows", rows_json(t.rows)},
                     {"bootstrap", boot}, {"seeds", seeds}, {"notes", t.notes}});
  }
  json groups = json::array();
  for (const SeedGroup& g : c.groups) {
    json members = json::array();
    for (const std::size_t m : g.members) members.push_back(c.labels[m]);
    groups.push_back({{"label", g.label}, {"reports", members}});
  }
  return {{"schema", "sentbench.comparison/1"}, {"reports", reports}, {"configurations", groups}, {"seed_variance", c.seed_variance()}, {"tasks", tasks},
          {"training", rows_json(c.training)}, {"notes", c.notes}};
}

Tolerances tolerances_from_recipe(const nlohmann::json& recipe, Tolerances base) {
  const JsonView tolerance = JsonView(recipe, "the current report's recipe").at("report").at("tolerance");
  if (tolerance.value().is_null()) return base;
  tolerance.expect_object();
  auto number = [&](const char* key, double& out) {
    if (!tolerance.has(key)) return;
    out = tolerance.num(key);
    base.origin[key] = "recipe";
  };
  number("main_score", base.main_score);
  number("min_drop", base.min_drop);
  number("alpha", base.alpha);
  number("throughput", base.throughput);
  if (tolerance.has("significance")) {
    base.significance = tolerance.boolean("significance");
    base.origin["significance"] = "recipe";
  }
  return base;
}

bool RegressionReport::regressed() const {
  return std::any_of(findings.begin(), findings.end(), [](const RegressionFinding& f) { return f.regressed; });
}

RegressionReport check_regressions(const Report& baseline, const Report& current, const Tolerances& tol) {
  if (!(tol.main_score >= 0)) throw ConfigError(fmt::format("tolerance main_score must be >= 0, not {}", tol.main_score));
  if (!(tol.min_drop >= 0)) throw ConfigError(fmt::format("tolerance min_drop must be >= 0, not {}", tol.min_drop));
  if (!(tol.alpha > 0 && tol.alpha < 1)) throw ConfigError(fmt::format("tolerance alpha must lie in (0, 1), not {}", tol.alpha));
  if (!(tol.throughput >= 0 && tol.throughput < 1)) {
    throw ConfigError(fmt::format("tolerance throughput is a fraction in [0, 1) (0.2 = 20%), not {}", tol.throughput));
  }
  RegressionReport out;
  out.tolerances = tol;
  BootstrapOptions boot{tol.resamples, tol.seed, tol.alpha};
  boot.min_items = tol.min_items;

  for (const TaskResult& base : baseline.tasks) {
    if (!base.ran()) continue;
    const TaskResult* cur = current.find_task(base.name);
    RegressionFinding score{base.name, base.main_metric, base.model.main_score, kNaN, kNaN, false, false, ""};
    if (!cur || !cur->ran()) {
      score.regressed = !(cur && tol.allow_skipped);
      score.reason = cur ? "not run in the current run: " + cur->why_not_run() : "missing from the current run";
      if (!score.regressed) score.reason += " (not compared: --allow-skipped)";
      out.findings.push_back(std::move(score));
      continue;
    }
    if (cur->dataset_hash != base.dataset_hash) {
      out.warnings.push_back(fmt::format("{}: dataset changed (hash {} -> {}); scores are not strictly comparable and no bootstrap is run",
                                         base.name, base.dataset_hash, cur->dataset_hash));
    }
    if (cur->version != base.version) {
      out.warnings.push_back(fmt::format("{}: task version changed ({} -> {})", base.name, base.version, cur->version));
    }
    score.current = cur->model.main_score;
    score.change = score.current - score.baseline;
    // A drop is a change for the worse: downwards for a higher-is-better main metric, upwards otherwise.
    const bool higher_is_better = base.metric(base.main_metric).higher_is_better;
    const double drop = higher_is_better ? -score.change : score.change;
    std::vector<std::string> reasons;
    if (!std::isfinite(score.current)) {
      score.regressed = true;
      reasons.push_back("the current main score is not a number");
    } else if (drop > tol.main_score) {
      score.regressed = true;
      reasons.push_back(fmt::format("dropped {} > tolerance {}", fixed(drop), fixed(tol.main_score)));
    }
    std::optional<BootstrapResult> b;
    if (cur->dataset_hash == base.dataset_hash) {
      std::string why;
      if (const auto paired = pair_items(base, *cur, &why)) {
        b = paired_bootstrap(*paired, boot);
      } else {
        reasons.push_back("no bootstrap: " + why);
      }
    }
    if (b && !b->testable) {
      reasons.push_back(not_testable_text(*b, boot));
    } else if (b) {
      const bool significant_drop = higher_is_better ? b->high < 0 : b->low > 0;
      reasons.push_back(fmt::format("{} CI {} {}", level_text(b->alpha), interval_text(*b),
                                    b->excludes_zero() ? "excludes 0" : "includes 0"));
      if (tol.significance && significant_drop && drop > tol.min_drop && !score.regressed) {
        score.regressed = true;
        reasons.back() += fmt::format(": a significant drop of {} (> min_drop {})", fixed(drop), fixed(tol.min_drop));
      }
    }
    score.reason = fmt::format("{}", fmt::join(reasons, "; "));
    out.findings.push_back(std::move(score));

    // Encode throughput of the model on this task, when both runs timed it long enough to mean something.
    if (timed(base.model, tol.min_timed_seconds) && timed(cur->model, tol.min_timed_seconds)) {
      RegressionFinding speed{base.name, "encode items/s", base.model.items_per_second(), cur->model.items_per_second(), 0, true, false, ""};
      speed.change = speed.current / speed.baseline - 1.0;
      speed.regressed = -speed.change > tol.throughput;
      speed.reason = speed.regressed ? fmt::format("slower by {:.1f}% > tolerance {:.1f}%", -100 * speed.change, 100 * tol.throughput) : "";
      out.findings.push_back(std::move(speed));
    } else if (!base.model.cache_hit && !cur->model.cache_hit) {
      out.warnings.push_back(fmt::format("{}: encode throughput not gated: timed over less than {} s", base.name, tol.min_timed_seconds));
    }
  }
  for (const TaskResult& t : current.tasks) {
    if (!baseline.find_task(t.name)) out.warnings.push_back(fmt::format("{}: new task, no baseline to compare with", t.name));
  }

  if (baseline.training && current.training) {
    const TrainingSummary& b = *baseline.training;
    const TrainingSummary& c = *current.training;
    if (b.world_size != c.world_size) {
      out.warnings.push_back(fmt::format("training throughput compared across world sizes: baseline {} rank{}, current {}",
                                         b.world_size, b.world_size == 1 ? "" : "s", c.world_size));
    }
    if (b.step_seconds >= tol.min_timed_seconds && c.step_seconds >= tol.min_timed_seconds) {
      const std::pair<const char*, double TrainingSummary::*> rates[] = {{"train pairs/s", &TrainingSummary::pairs_per_s},
                                                                          {"train tokens/s", &TrainingSummary::tokens_per_s}};
      for (const auto& [name, field] : rates) {
        if (!(b.*field > 0) || !std::isfinite(c.*field)) continue;
        RegressionFinding f{"training", name, b.*field, c.*field, c.*field / b.*field - 1.0, true, false, ""};
        f.regressed = -f.change > tol.throughput;
        f.reason = f.regressed ? fmt::format("slower by {:.1f}% > tolerance {:.1f}%", -100 * f.change, 100 * tol.throughput) : "";
        out.findings.push_back(std::move(f));
      }
    } else {
      out.warnings.push_back(fmt::format("training throughput not gated: timed over less than {} s", tol.min_timed_seconds));
    }
  }
  return out;
}

namespace {

// The run whose value of `rate` is the median of `runs` (the lower middle for an even count).
const Report& median_run(const std::vector<Report>& runs, const std::function<double(const Report&)>& rate) {
  std::vector<const Report*> sorted;
  for (const Report& r : runs) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [&](const Report* a, const Report* b) { return rate(*a) < rate(*b); });
  return *sorted[(sorted.size() - 1) / 2];
}

// One side's runs as one report: each task's main score is the mean over the runs that ran it; speed
// figures come from the median run; no per-item scores (the seeds, not the items, are resampled).
Report mean_report(const std::vector<Report>& runs) {
  const Report& middle = median_run(runs, [](const Report& r) { return r.encode_items_per_second(); });
  Report out = middle;
  if (const auto* fastest = &median_run(runs, [](const Report& r) { return r.training ? r.training->tokens_per_s : 0.0; });
      fastest->training) {
    out.training = fastest->training;
  }
  for (TaskResult& t : out.tasks) {
    t.model.per_item = {};
    if (!t.ran()) continue;
    double sum = 0;
    int n = 0;
    for (const Report& r : runs) {
      const TaskResult* other = r.find_task(t.name);
      if (other && other->ran()) sum += other->model.main_score, ++n;
    }
    t.model.main_score = sum / n;
  }
  return out;
}

std::vector<double> main_scores(const std::vector<Report>& runs, const std::string& task) {
  std::vector<double> v;
  for (const Report& r : runs) {
    const TaskResult* t = r.find_task(task);
    if (t && t->ran() && std::isfinite(t->model.main_score)) v.push_back(t->model.main_score);
  }
  return v;
}

}  // namespace

RegressionReport check_regressions(const std::vector<Report>& baselines, const std::vector<Report>& currents, const Tolerances& tol) {
  if (baselines.empty() || currents.empty()) throw UsageError("regress needs at least one baseline and one current run");
  if (baselines.size() == 1 && currents.size() == 1) return check_regressions(baselines[0], currents[0], tol);
  Tolerances without_bootstrap = tol;
  without_bootstrap.significance = false;
  RegressionReport out = check_regressions(mean_report(baselines), mean_report(currents), without_bootstrap);
  out.tolerances = tol;
  out.baseline_runs = baselines.size();
  out.current_runs = currents.size();
  for (RegressionFinding& f : out.findings) {
    if (f.relative || f.task == "training" || !std::isfinite(f.current)) continue;
    // The mean reports carry no per-item scores: drop the single-run gate's "no bootstrap" remark.
    std::vector<std::string> kept;
    std::size_t from = 0;
    while (from <= f.reason.size() && !f.reason.empty()) {
      const std::size_t to = std::min(f.reason.find("; ", from), f.reason.size());
      const std::string part = f.reason.substr(from, to - from);
      if (part.rfind("no bootstrap", 0) != 0) kept.push_back(part);
      from = to + 2;
    }
    f.reason = fmt::format("{}", fmt::join(kept, "; "));
    const std::vector<double> a = main_scores(baselines, f.task), b = main_scores(currents, f.task);
    if (a.empty() || b.empty()) continue;
    const std::optional<SeedTest> t = seed_test(seed_spread(a), seed_spread(b), tol.alpha);
    const std::string means = fmt::format("means over {} and {} runs", a.size(), b.size());
    if (!t) {
      f.reason = f.reason.empty() ? means : means + "; " + f.reason;
      continue;
    }
    const TaskResult* base = nullptr;
    for (const Report& r : baselines) base = base ? base : r.find_task(f.task);
    const bool higher_is_better = !base || base->metric(base->main_metric).higher_is_better;
    const double drop = higher_is_better ? -f.change : f.change;
    const bool significant_drop = higher_is_better ? t->high < 0 : t->low > 0;
    std::string reason = fmt::format("{}; seed t interval {} [{}, {}] {}", means, level_text(t->alpha), signed_fixed(t->low),
                                     signed_fixed(t->high), t->excludes_zero() ? "excludes 0" : "includes 0");
    if (tol.significance && significant_drop && drop > tol.min_drop && !f.regressed) {
      f.regressed = true;
      reason += fmt::format(": a significant drop of {} (> min_drop {})", fixed(drop), fixed(tol.min_drop));
    }
    f.reason = f.reason.empty() ? reason : reason + "; " + f.reason;
  }
  return out;
}

std::string render_regressions(const RegressionReport& r, const std::string& baseline_source, const std::string& current_source) {
  const Tolerances& t = r.tolerances;
  auto origin = [&](const char* key) {
    auto it = t.origin.find(key);
    return it == t.origin.end() ? std::string("default") : it->second;
  };
  std::string out = fmt::format("regress: baseline {}, current {}\n", baseline_source, current_source);
  out += fmt::format("tolerances: main score may drop {} ({})", fixed(t.main_score), origin("main_score"));
  if (t.significance && r.window_runs > 0) {
    out += fmt::format("; a significant drop fails above {} ({}; outside the window's {} t prediction interval ({}))",
                       fixed(t.min_drop), origin("min_drop"), level_text(t.alpha), origin("alpha"));
  } else if (t.significance) {
    out += fmt::format("; a significant drop fails above {} ({}; paired bootstrap, {} interval ({}), {} resamples, seed {})", fixed(t.min_drop),
                       origin("min_drop"), level_text(t.alpha), origin("alpha"), t.resamples, t.seed);
  } else {
    out += fmt::format("; significance not used ({})", origin("significance"));
  }
  if (t.significance && r.window_runs == 0) {
    out += fmt::format("; fewer than {} paired items: not testable", t.min_items);
  }
  out += fmt::format("; throughput may drop {:.1f}% ({})\n", 100 * t.throughput, origin("throughput"));
  if (t.significance && r.window_runs > 0) {
    out += fmt::format("(main scores against the median of {} runs; a drop is significant when the current score lies "
                       "outside the interval where one more run of the window would fall, mean ± t·s·√(1 + 1/n), "
                       "which needs 3 runs or more)\n",
                       r.window_runs);
  } else if (t.significance && r.baseline_runs == 1 && r.current_runs == 1) {
    out += "(one run a side: the bootstrap resamples items; seed-to-seed variance is not covered)\n";
  } else if (t.significance) {
    out += fmt::format("({} baseline and {} current runs: main scores are means, tested against the between-seed spread)\n",
                       r.baseline_runs, r.current_runs);
  }
  out += "\n";

  TextTable table({"", "task", "check", "baseline", "current", "change", "why"},
                  {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kLeft});
  std::vector<std::string> failed;
  for (const RegressionFinding& f : r.findings) {
    const std::string change = f.relative ? signed_percent(f.change) : signed_fixed(f.change);
    table.add_row({f.regressed ? "REGRESSED" : "ok", f.task, f.what, f.relative ? human_rate(f.baseline) : fixed(f.baseline),
                   f.relative ? human_rate(f.current) : fixed(f.current), change, f.reason});
    if (f.regressed) failed.push_back(fmt::format("{} {} {}", f.task, f.what, std::isfinite(f.change) ? change : f.reason));
  }
  out += table.str() + "\n";
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  if (!r.warnings.empty()) out += "\n";
  if (failed.empty()) {
    out += fmt::format("PASS: {} checks, no regression\n", r.findings.size());
  } else {
    out += fmt::format("FAIL: {} of {} checks regressed: {}\n", failed.size(), r.findings.size(), fmt::join(failed, ", "));
  }
  return out;
}

}  // namespace sentbench
