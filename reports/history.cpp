// `sentbench history` and `regress --history`: series over many reports, their step changes, and a
// median baseline. The method is stated in history.hpp.
#include "history.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include "html_style.hpp"

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "svg.hpp"
#include "text_table.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

using nlohmann::json;
using Align = TextTable::Align;

constexpr double kInf = std::numeric_limits<double>::infinity();

double mean_of(const std::vector<double>& v, std::size_t a, std::size_t b) {
  double sum = 0;
  for (std::size_t i = a; i < b; ++i) sum += v[i];
  return sum / static_cast<double>(b - a);
}

double median_of(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string iso_utc(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2024-05-01T02:00:00Z" (what run_identity.json records) as seconds since 1970; nullopt otherwise.
std::optional<std::int64_t> parse_iso_utc(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t mtime_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

bool is_run_folder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "run.json", ec) || fs::is_regular_file(dir / "report.json", ec);
}

// A JSON file whose schema tag says it is a report (so run.json, results.json and other JSON files a
// folder may hold are passed over without a warning).
bool is_report_file(const fs::path& file) {
  if (file.extension() != ".json") return false;
  std::string text;
  try {
    text = read_file(file);
  } catch (const Error&) {
    return false;
  }
  const json j = json::parse(text, nullptr, false);
  return j.is_object() && j.contains("schema") && j["schema"].is_string() &&
         j["schema"].get<std::string>().rfind("sentbench.report/", 0) == 0;
}

// What one path argument holds: report files and run folders (explicit: named on the command line).
struct Found {
  fs::path path;
  bool explicit_path = false;
};

std::vector<Found> find_reports(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw ConfigError(fmt::format("{}: no such file or folder; give run folders, report.json files or a folder that "
                                  "holds them (e.g. runs/nightly)",
                                  path.string()));
  }
  if (!fs::is_directory(path, ec) || is_run_folder(path)) return {{path, true}};
  std::vector<Found> found;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    if (it->is_directory(ec)) {
      // A run folder is one run: its checkpoints, stages and model files are not searched.
      if (is_run_folder(p)) found.push_back({p, false}), it.disable_recursion_pending();
    } else if (it->is_regular_file(ec) && is_report_file(p)) {
      found.push_back({p, false});
    }
  }
  if (found.empty()) {
    throw ConfigError(fmt::format(
        "no report found under {}: it holds no run folder (a folder with run.json or report.json) and no JSON file "
        "with a sentbench.report schema; point history at the folder that holds the runs' folders (e.g. "
        "runs/nightly), or write a missing report with `sentbench report RUN_DIR`",
        path.string()));
  }
  return found;
}

template <typename T>
std::string commit_of(const T& run) {
  return run.report.git_commit.empty() ? "?" : run.report.git_commit.substr(0, 12);
}

}  // namespace

// ---- loading ---------------------------------------------------------------------------------------

bool HistoryRun::passed() const {
  if (report.tasks.empty()) return false;
  return std::all_of(report.tasks.begin(), report.tasks.end(), [](const TaskResult& t) { return t.ran(); });
}

RunDate run_date(const fs::path& path) {
  std::error_code ec;
  const bool dir = fs::is_directory(path, ec);
  fs::path run_dir;
  if (dir) {
    run_dir = path;
  } else if (path.filename() == "report.json" && is_run_folder(path.parent_path().empty() ? "." : path.parent_path())) {
    run_dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  }
  RunDate out;
  if (!run_dir.empty() && fs::is_regular_file(run_dir / "run_identity.json", ec)) {
    try {
      const json identity = json::parse(read_file(run_dir / "run_identity.json"), nullptr, false);
      if (identity.is_object()) {
        if (identity.contains("run_id") && identity["run_id"].is_string()) out.run_id = identity["run_id"].get<std::string>();
        if (identity.contains("started") && identity["started"].is_string()) {
          if (const auto t = parse_iso_utc(identity["started"].get<std::string>())) {
            out.time = *t;
            out.date = iso_utc(*t);
            out.from = "run_identity.json started";
            return out;
          }
        }
      }
    } catch (const Error&) {
      // unreadable identity: fall back to the file time below
    }
  }
  // No start time recorded (an evaluation-only run, a report file on its own): the time the report was
  // written, which for a nightly job is close enough to order the runs.
  fs::path file = path;
  if (dir) file = fs::is_regular_file(path / "report.json", ec) ? path / "report.json" : path / "run.json";
  out.time = mtime_of(file);
  out.date = iso_utc(out.time);
  out.from = "file mtime";
  return out;
}

void sort_history(std::vector<HistoryRun>& runs) {
  std::stable_sort(runs.begin(), runs.end(), [](const HistoryRun& a, const HistoryRun& b) {
    return a.time != b.time ? a.time < b.time : a.source < b.source;
  });
}

std::vector<HistoryRun> load_history(const std::vector<fs::path>& paths, std::vector<std::string>* notes) {
  if (paths.empty()) throw UsageError("history needs at least one folder or report file");
  std::vector<HistoryRun> runs;
  std::set<std::string> seen_paths;
  for (const fs::path& arg : paths) {
    for (const Found& f : find_reports(arg)) {
      std::error_code ec;
      const std::string canonical = fs::weakly_canonical(f.path, ec).string();
      if (!seen_paths.insert(canonical).second) continue;  // named twice (a folder and a run inside it)
      HistoryRun run;
      try {
        run.report = load_report(f.path);
      } catch (const Error& e) {
        if (f.explicit_path) throw;
        // One broken run folder in a long history should not hide the rest: say so and go on.
        if (notes) notes->push_back(fmt::format("left out {}: {}", f.path.string(), e.what()));
        continue;
      }
      const RunDate d = run_date(f.path);
      run.source = f.path.string();
      run.run_id = d.run_id;
      run.time = d.time;
      run.date = d.date;
      run.date_from = d.from;
      runs.push_back(std::move(run));
    }
  }
  sort_history(runs);
  // A run copied elsewhere (a promoted baseline folder) keeps its run id: count it once.
  std::map<std::string, std::string> first_of;
  std::vector<HistoryRun> kept;
  for (HistoryRun& r : runs) {
    if (!r.run_id.empty()) {
      auto [it, fresh] = first_of.emplace(r.run_id, r.source);
      if (!fresh) {
        if (notes) notes->push_back(fmt::format("left out {}: the same run as {} (run id {})", r.source, it->second, r.run_id));
        continue;
      }
    }
    kept.push_back(std::move(r));
  }
  return kept;
}

// ---- step detection --------------------------------------------------------------------------------

double noise_sigma(const std::vector<double>& y) {
  if (y.size() < 3) return 0;
  std::vector<double> d;
  for (std::size_t i = 0; i + 1 < y.size(); ++i) d.push_back(y[i + 1] - y[i]);
  const double center = median_of(d);
  std::vector<double> dev;
  for (const double x : d) dev.push_back(std::fabs(x - center));
  const double mad = median_of(dev);
  if (mad > 0) return 1.4826 * mad / std::sqrt(2.0);
  // Most differences are exactly 0 (deterministic scores): the mean absolute deviation still sees the
  // occasional change, where the median sees none.
  double mean = 0;
  for (const double x : d) mean += x;
  mean /= static_cast<double>(d.size());
  double mean_dev = 0;
  for (const double x : d) mean_dev += std::fabs(x - mean);
  mean_dev /= static_cast<double>(d.size());
  return 1.2533 * mean_dev / std::sqrt(2.0);
}

namespace {

// The two-segment test of [a, t) against [t, b).
struct SplitTest {
  double before = 0, after = 0, z = 0;
  bool passes = false;
};

SplitTest split_test(const std::vector<double>& y, std::size_t a, std::size_t t, std::size_t b, double sigma,
                     const StepOptions& o, bool relative) {
  SplitTest s;
  s.before = mean_of(y, a, t);
  s.after = mean_of(y, t, b);
  const double diff = std::fabs(s.after - s.before);
  const double spread = sigma * std::sqrt(1.0 / static_cast<double>(t - a) + 1.0 / static_cast<double>(b - t));
  s.z = spread > 0 ? diff / spread : (diff > 0 ? kInf : 0.0);
  const bool large = relative ? (s.before != 0 ? diff / std::fabs(s.before) >= o.min_relative_step : diff > 0) : diff >= o.min_step;
  s.passes = s.z > o.threshold && large;
  return s;
}

void segment(const std::vector<double>& y, std::size_t a, std::size_t b, double sigma, const StepOptions& o, bool relative,
             std::vector<std::size_t>& cuts) {
  const std::size_t m = std::max<std::size_t>(1, o.min_segment);
  if (b - a < 2 * m) return;
  // The split that lowers the least-squares cost most: n1·n2/n · (mean2 − mean1)², i.e. the largest z.
  std::size_t best = 0;
  double best_gain = -1;
  double total = 0;
  for (std::size_t i = a; i < b; ++i) total += y[i];
  double left = 0;
  for (std::size_t i = a; i < a + m; ++i) left += y[i];
  for (std::size_t t = a + m; t + m <= b; ++t) {
    const double n1 = static_cast<double>(t - a), n2 = static_cast<double>(b - t);
    const double diff = (total - left) / n2 - left / n1;
    const double gain = diff * diff / (1.0 / n1 + 1.0 / n2);
    if (gain > best_gain) best_gain = gain, best = t;
    left += y[t];
  }
  if (!split_test(y, a, best, b, sigma, o, relative).passes) return;
  cuts.push_back(best);
  segment(y, a, best, sigma, o, relative, cuts);
  segment(y, best, b, sigma, o, relative, cuts);
}

}  // namespace

std::vector<Step> detect_steps(const std::vector<double>& y, const StepOptions& o, bool relative) {
  if (o.min_segment < 1) throw ConfigError("min_segment must be at least 1");
  if (!(o.threshold > 0)) throw ConfigError(fmt::format("the step threshold must be > 0, not {}", o.threshold));
  for (const double v : y) {
    if (!std::isfinite(v)) throw ConfigError("detect_steps: the series holds a value that is not a number");
  }
  const double sigma = noise_sigma(y);
  std::vector<std::size_t> cuts;
  segment(y, 0, y.size(), sigma, o, relative, cuts);
  std::sort(cuts.begin(), cuts.end());
  // Re-test each change between its final neighbours; drop the weakest failing one until all pass.
  for (;;) {
    std::optional<std::size_t> weakest;
    double weakest_z = kInf;
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      const std::size_t a = i == 0 ? 0 : cuts[i - 1], b = i + 1 == cuts.size() ? y.size() : cuts[i + 1];
      const SplitTest s = split_test(y, a, cuts[i], b, sigma, o, relative);
      if (!s.passes && (!weakest || s.z < weakest_z)) weakest = i, weakest_z = s.z;
    }
    if (!weakest) break;
    cuts.erase(cuts.begin() + static_cast<std::ptrdiff_t>(*weakest));
  }
  std::vector<Step> steps;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const std::size_t a = i == 0 ? 0 : cuts[i - 1], b = i + 1 == cuts.size() ? y.size() : cuts[i + 1];
    const SplitTest s = split_test(y, a, cuts[i], b, sigma, o, relative);
    steps.push_back({cuts[i], cuts[i] - a, b - cuts[i], s.before, s.after, s.z});
  }
  return steps;
}

// ---- series ----------------------------------------------------------------------------------------

History build_history(std::vector<HistoryRun> runs, const StepOptions& options, std::vector<std::string> notes) {
  History h;
  h.runs = std::move(runs);
  h.notes = std::move(notes);
  h.options = options;
  // Ordered: scores (0), encode throughput (1), training throughput (2), each by key.
  std::map<std::pair<int, std::string>, HistorySeries> series;
  auto add = [&](int group, const std::string& task, const std::string& what, bool throughput, bool higher, std::size_t run,
                 double value) {
    HistorySeries& s = series[{group, task + "/" + what}];
    if (s.key.empty()) {
      s.key = task + "/" + what;
      s.task = task;
      s.what = what;
      s.throughput = throughput;
      s.higher_is_better = higher;
    }
    s.points.push_back({run, value});
  };
  for (std::size_t i = 0; i < h.runs.size(); ++i) {
    const Report& r = h.runs[i].report;
    for (const TaskResult& t : r.tasks) {
      if (!t.ran()) continue;
      if (std::isfinite(t.model.main_score)) {
        add(0, t.name, t.main_metric, false, t.metric(t.main_metric).higher_is_better, i, t.model.main_score);
      }
      // Cache hits and lexical scorers were not timed: no point rather than a zero.
      if (!t.model.cache_hit && t.model.encode_seconds > 0 && t.model.items_per_second() > 0) {
        add(1, t.name, "encode items/s", true, true, i, t.model.items_per_second());
      }
    }
    if (r.training && r.training->step_seconds > 0) {
      if (r.training->pairs_per_s > 0) add(2, "training", "pairs/s", true, true, i, r.training->pairs_per_s);
      if (r.training->tokens_per_s > 0) add(2, "training", "tokens/s", true, true, i, r.training->tokens_per_s);
    }
  }
  for (auto& [key, s] : series) {
    std::vector<double> y;
    for (const HistoryPoint& p : s.points) y.push_back(p.value);
    s.sigma = noise_sigma(y);
    for (const Step& st : detect_steps(y, options, s.throughput)) {
      StepChange c;
      c.index = st.index;
      c.run_before = s.points[st.index - 1].run;
      c.run_after = s.points[st.index].run;
      c.n_before = st.n_before;
      c.n_after = st.n_after;
      c.mean_before = st.mean_before;
      c.mean_after = st.mean_after;
      c.step = st.mean_after - st.mean_before;
      c.relative_step = st.mean_before != 0 ? c.step / std::fabs(st.mean_before) : 0.0;
      c.statistic = st.statistic;
      c.worse = s.higher_is_better ? c.step < 0 : c.step > 0;
      s.changes.push_back(c);
    }
    h.series.push_back(std::move(s));
  }
  return h;
}

// ---- output ----------------------------------------------------------------------------------------

namespace {

std::string value_text(const HistorySeries& s, double v) { return s.throughput ? human_rate(v) : fixed(v); }

std::string step_text(const HistorySeries& s, const StepChange& c) {
  return s.throughput ? signed_percent(c.relative_step) : signed_fixed(c.step);
}

std::string z_text(double z) { return std::isfinite(z) ? fmt::format("{:.1f}", z) : "inf"; }

std::string day_of(const std::string& date) { return date.substr(0, 10); }

std::string commit_range(const History& h, const StepChange& c) {
  const std::string a = commit_of(h.runs[c.run_before]), b = commit_of(h.runs[c.run_after]);
  return a == b ? a + " (same commit: not a code change)" : a + ".." + b;
}

std::string method_text(const StepOptions& o) {
  return fmt::format(
      "binary segmentation of a piecewise-constant least-squares fit; a change needs {} runs on each side, "
      "z = |mean after − mean before| / (σ·√(1/n₁ + 1/n₂)) > {:g} with σ = 1.4826·MAD(successive differences)/√2, "
      "and a step of at least {:g} (scores) or {:g}% (throughput)",
      o.min_segment, o.threshold, o.min_step, 100 * o.min_relative_step);
}

std::string date_sources(const History& h) {
  std::map<std::string, std::size_t> from;
  for (const HistoryRun& r : h.runs) ++from[r.date_from];
  std::vector<std::string> parts;
  for (const auto& [what, n] : from) parts.push_back(fmt::format("{} ({} run{})", what, n, n == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string headline(const History& h) {
  if (h.runs.empty()) return "History: no runs";
  return fmt::format("History of {} run{}, {} to {}", h.runs.size(), h.runs.size() == 1 ? "" : "s", day_of(h.runs.front().date),
                     day_of(h.runs.back().date));
}

std::size_t change_count(const History& h) {
  std::size_t n = 0;
  for (const HistorySeries& s : h.series) n += s.changes.size();
  return n;
}

std::vector<std::vector<std::string>> change_rows(const History& h) {
  std::vector<std::vector<std::string>> rows;
  for (const HistorySeries& s : h.series) {
    for (const StepChange& c : s.changes) {
      const HistoryRun& after = h.runs[c.run_after];
      rows.push_back({s.key, c.worse ? "worse" : "better", fmt::format("{} ({} runs)", value_text(s, c.mean_before), c.n_before),
                      fmt::format("{} ({} runs)", value_text(s, c.mean_after), c.n_after), step_text(s, c), z_text(c.statistic),
                      commit_range(h, c), fmt::format("{} ({})", after.report.run_name.empty() ? after.source : after.report.run_name, day_of(after.date))});
    }
  }
  return rows;
}

const std::vector<std::string> kChangeHeader = {"series", "", "before", "after", "step", "z", "commits", "first run after"};

std::vector<std::string> series_row(const HistorySeries& s) {
  return {s.key, std::to_string(s.points.size()), value_text(s, s.points.front().value), value_text(s, s.points.back().value),
          s.throughput ? human_rate(s.sigma) : fixed(s.sigma), std::to_string(s.changes.size())};
}

const std::vector<std::string> kSeriesHeader = {"series", "runs", "first", "last", "noise σ", "changes"};

}  // namespace

std::string history_markdown(const History& h) {
  std::string out = fmt::format("# {}\n\n", headline(h));
  out += fmt::format("Dates from: {}.\n", date_sources(h));
  out += fmt::format("Step detection: {}.\n\n", method_text(h.options));
  const std::size_t n = change_count(h);
  out += fmt::format("## Changes ({})\n\n", n);
  if (n == 0) {
    out += "No step change in any series.\n\n";
  } else {
    TextTable t(kChangeHeader, {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kLeft, Align::kLeft});
    for (auto& row : change_rows(h)) t.add_row(std::move(row));
    out += t.str() + "\n";
    out += "`git log --oneline BEFORE..AFTER` lists the commits that can have caused a change.\n\n";
  }
  out += "## Series\n\n";
  if (h.series.empty()) {
    out += "No series: no task ran in these runs.\n";
  } else {
    TextTable t(kSeriesHeader, {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kRight});
    for (const HistorySeries& s : h.series) t.add_row(series_row(s));
    out += t.str();
    if (out.back() != '\n') out += '\n';
  }
  if (!h.notes.empty()) {
    out += "\nNotes:\n\n";
    for (const std::string& note : h.notes) out += "- " + note + "\n";
  }
  return out;
}

namespace {

constexpr const char* kPageStyle = R"(
main { max-width: 1120px; margin: 0 auto; padding: 16px 24px 48px; }
td.worse { color: #b91c1c; font-weight: 600; }
.note { color: #666; font-size: 13px; margin: 2px 4px 6px; max-width: 520px; }
)";

constexpr const char* kValueColor = "#2563eb";
constexpr const char* kFitColor = "#9ca3af";
constexpr const char* kWorseColor = "#dc2626";
constexpr const char* kBetterColor = "#10b981";

std::string html_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& numeric) {
  auto is_num = [&](std::size_t i) { return i < numeric.size() && numeric[i]; };
  std::string out = "<table>\n<tr>";
  for (std::size_t i = 0; i < header.size(); ++i) out += fmt::format("<th{}>{}</th>", is_num(i) ? " class=\"num\"" : "", svg::escape(header[i]));
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) {
      const char* cls = is_num(i) ? " class=\"num\"" : row[i] == "worse" ? " class=\"worse\"" : "";
      out += fmt::format("<td{}>{}</td>", cls, svg::escape(row[i]));
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// One series: its values by run, the fitted segment means, and a vertical line at each change (between
// the last run before and the first after), red when worse and green when better.
std::string series_chart(const History& h, const HistorySeries& s) {
  std::vector<double> x, y;
  for (const HistoryPoint& p : s.points) x.push_back(static_cast<double>(p.run)), y.push_back(p.value);
  // Short legend names: the legend shares the top line with the title.
  std::vector<svg::Series> lines = {{s.what, x, y, kValueColor}};
  // The fit: each segment's mean, broken (NaN) between segments.
  svg::Series fit{"fit", {}, {}, kFitColor};
  std::size_t from = 0;
  for (std::size_t c = 0; c <= s.changes.size(); ++c) {
    const std::size_t to = c < s.changes.size() ? s.changes[c].index : s.points.size();
    const double mean = mean_of(y, from, to);
    fit.x.insert(fit.x.end(), {x[from], x[to - 1], std::nan("")});
    fit.y.insert(fit.y.end(), {mean, mean, std::nan("")});
    from = to;
  }
  if (!s.changes.empty()) lines.push_back(fit);
  const double lo = *std::min_element(y.begin(), y.end()), hi = *std::max_element(y.begin(), y.end());
  svg::Series worse{"worse", {}, {}, kWorseColor}, better{"better", {}, {}, kBetterColor};
  for (const StepChange& c : s.changes) {
    svg::Series& mark = c.worse ? worse : better;
    const double at = 0.5 * static_cast<double>(c.run_before + c.run_after);
    mark.x.insert(mark.x.end(), {at, at, std::nan("")});
    mark.y.insert(mark.y.end(), {lo, hi, std::nan("")});
  }
  if (!worse.x.empty()) lines.push_back(worse);
  if (!better.x.empty()) lines.push_back(better);
  svg::LineChartOptions o;
  o.title = s.key;
  o.x_label = "run (oldest to newest)";
  o.y_label = s.what;
  std::string out = "<div class=\"chart\">" + svg::line_chart(lines, o);
  for (const StepChange& c : s.changes) {
    out += fmt::format("<p class=\"note\">run {}: {} {} → {} ({}, z {}), commits {}</p>", c.run_after, c.worse ? "worse" : "better",
                       svg::escape(value_text(s, c.mean_before)), svg::escape(value_text(s, c.mean_after)), svg::escape(step_text(s, c)),
                       z_text(c.statistic), svg::escape(commit_range(h, c)));
  }
  return out + "</div>\n";
}

}  // namespace

std::string history_html(const History& h) {
  const std::string title = headline(h);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", svg::escape(title), std::string(kBaseStyle) + kPageStyle);
  out += fmt::format("<h1>{}</h1>\n", svg::escape(title));
  out += fmt::format("<p class=\"summary\">Dates from: {}. Step detection: {}.</p>\n", svg::escape(date_sources(h)),
                     svg::escape(method_text(h.options)));
  out += fmt::format("<h2>Changes ({})</h2>\n", change_count(h));
  if (change_count(h) == 0) {
    out += "<p class=\"summary\">No step change in any series.</p>\n";
  } else {
    out += html_table(kChangeHeader, change_rows(h), {false, false, true, true, true, true, false, false});
  }
  out += "<h2>Series</h2>\n";
  std::vector<std::vector<std::string>> rows;
  for (const HistorySeries& s : h.series) rows.push_back(series_row(s));
  out += html_table(kSeriesHeader, rows, {false, true, true, true, true, true});
  out += "<div class=\"charts\">\n";
  for (const HistorySeries& s : h.series) out += series_chart(h, s);
  out += "</div>\n";
  out += "<h2>Runs</h2>\n";
  rows.clear();
  for (std::size_t i = 0; i < h.runs.size(); ++i) {
    const HistoryRun& r = h.runs[i];
    rows.push_back({std::to_string(i), r.date, commit_of(r), r.report.run_name, r.source, r.passed() ? "" : "a task did not run"});
  }
  out += html_table({"run", "date", "commit", "name", "source", ""}, rows, {true});
  if (!h.notes.empty()) {
    out += "<h2>Notes</h2>\n<ul>\n";
    for (const std::string& note : h.notes) out += "<li>" + svg::escape(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</main>\n</body>\n</html>\n";
}

json history_json(const History& h) {
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json out = {{"schema", "sentbench.history/1"},
              {"options",
               {{"min_step", h.options.min_step},
                {"min_relative_step", h.options.min_relative_step},
                {"min_segment", h.options.min_segment},
                {"threshold", h.options.threshold},
                {"method", method_text(h.options)}}},
              {"runs", json::array()},
              {"series", json::array()},
              {"notes", h.notes}};
  for (const HistoryRun& r : h.runs) {
    out["runs"].push_back({{"source", r.source},
                           {"date", r.date},
                           {"date_from", r.date_from},
                           {"commit", r.report.git_commit},
                           {"run_name", r.report.run_name},
                           {"run_id", r.run_id},
                           {"passed", r.passed()}});
  }
  for (const HistorySeries& s : h.series) {
    json points = json::array(), changes = json::array();
    for (const HistoryPoint& p : s.points) {
      const HistoryRun& r = h.runs[p.run];
      points.push_back({{"run", p.run}, {"value", p.value}, {"date", r.date}, {"commit", r.report.git_commit},
                        {"run_name", r.report.run_name}, {"source", r.source}});
    }
    for (const StepChange& c : s.changes) {
      changes.push_back({{"index", c.index},
                         {"run_before", c.run_before},
                         {"run_after", c.run_after},
                         {"commit_before", h.runs[c.run_before].report.git_commit},
                         {"commit_after", h.runs[c.run_after].report.git_commit},
                         {"date_before", h.runs[c.run_before].date},
                         {"date_after", h.runs[c.run_after].date},
                         {"n_before", c.n_before},
                         {"n_after", c.n_after},
                         {"mean_before", c.mean_before},
                         {"mean_after", c.mean_after},
                         {"step", c.step},
                         {"relative_step", c.relative_step},
                         {"statistic", number(c.statistic)},
                         {"worse", c.worse}});
    }
    out["series"].push_back({{"key", s.key},
                             {"task", s.task},
                             {"what", s.what},
                             {"throughput", s.throughput},
                             {"higher_is_better", s.higher_is_better},
                             {"sigma", s.sigma},
                             {"points", points},
                             {"changes", changes}});
  }
  return out;
}

// ---- regress --history -----------------------------------------------------------------------------

MedianBaseline median_baseline(const std::vector<HistoryRun>& history, std::size_t window, const fs::path& current_path,
                               const RunDate& current_date) {
  if (window == 0) throw ConfigError("--window must be at least 1");
  std::error_code ec;
  // The current run may be named as its folder or as its report.json: leave out both forms.
  std::set<std::string> current_keys = {fs::weakly_canonical(current_path, ec).string()};
  if (current_path.filename() == "report.json") current_keys.insert(fs::weakly_canonical(current_path, ec).parent_path().string());
  if (fs::is_directory(current_path, ec)) current_keys.insert(fs::weakly_canonical(current_path / "report.json", ec).string());

  MedianBaseline out;
  std::size_t later = 0;
  for (std::size_t k = history.size(); k-- > 0 && out.runs.size() < window;) {
    const HistoryRun& r = history[k];
    if (current_keys.count(fs::weakly_canonical(r.source, ec).string()) ||
        (!current_date.run_id.empty() && r.run_id == current_date.run_id)) {
      continue;  // the run being gated
    }
    if (r.time > current_date.time) {
      ++later;
      continue;
    }
    if (!r.passed()) {
      std::string why = r.report.tasks.empty() ? "no tasks" : "";
      for (const TaskResult& t : r.report.tasks) {
        if (!t.ran() && why.empty()) why = fmt::format("task {} {}", t.name, t.why_not_run());
      }
      out.notes.push_back(fmt::format("passed over {} ({}): {}", r.source, r.date, why));
      continue;
    }
    out.runs.push_back(k);
  }
  if (later > 0) {
    out.notes.insert(out.notes.begin(), fmt::format("passed over {} run{} dated after the current run ({})", later, later == 1 ? "" : "s",
                                                    current_date.date));
  }
  if (out.runs.empty()) {
    throw ConfigError(fmt::format(
        "no passing run in the history to build a baseline from ({} run{} read); a run passes when every task ran "
        "(none failed or skipped). Use --baseline FILE instead, or add passing runs to the history folder",
        history.size(), history.size() == 1 ? "" : "s"));
  }
  std::reverse(out.runs.begin(), out.runs.end());
  for (const std::size_t k : out.runs) {
    const HistoryRun& r = history[k];
    out.used.push_back(fmt::format("{} ({}{}, commit {})", r.source, r.report.run_name.empty() ? "" : r.report.run_name + ", ", r.date,
                                   commit_of(r)));
  }
  std::vector<const Report*> window_runs;
  for (const std::size_t k : out.runs) window_runs.push_back(&history[k].report);
  out.report = *window_runs.back();
  out.report.run_name = fmt::format("median of {} runs", window_runs.size());
  for (TaskResult& t : out.report.tasks) {
    std::vector<double> scores, rates, seconds;
    for (const Report* r : window_runs) {
      const TaskResult* o = r->find_task(t.name);
      if (!o || !o->ran()) continue;
      if (std::isfinite(o->model.main_score)) scores.push_back(o->model.main_score);
      if (!o->model.cache_hit && o->model.encode_seconds > 0 && o->model.items_per_second() > 0) {
        rates.push_back(o->model.items_per_second());
        seconds.push_back(o->model.encode_seconds);
      }
    }
    out.window_scores[t.name] = scores;
    t.model.main_score = median_of(scores);
    t.model.metrics[t.main_metric] = t.model.main_score;
    t.model.per_item = {};
    if (rates.empty()) {
      t.model.encode_seconds = 0;  // not timed: the gate says so rather than comparing with a zero
    } else {
      // items/s is encoded_items / encode_seconds: keep a typical time (the median) and scale the items.
      t.model.cache_hit = false;
      t.model.encode_seconds = median_of(seconds);
      t.model.encoded_items = std::llround(median_of(rates) * t.model.encode_seconds);
    }
  }
  if (out.report.training) {
    std::vector<double> pairs, tokens, step_seconds;
    for (const Report* r : window_runs) {
      if (!r->training || !(r->training->step_seconds > 0)) continue;
      step_seconds.push_back(r->training->step_seconds);
      if (r->training->pairs_per_s > 0) pairs.push_back(r->training->pairs_per_s);
      if (r->training->tokens_per_s > 0) tokens.push_back(r->training->tokens_per_s);
    }
    if (!step_seconds.empty()) out.report.training->step_seconds = median_of(step_seconds);
    out.report.training->pairs_per_s = pairs.empty() ? 0 : median_of(pairs);
    out.report.training->tokens_per_s = tokens.empty() ? 0 : median_of(tokens);
  }
  return out;
}

RegressionReport check_against_median(const MedianBaseline& baseline, const Report& current, Tolerances tol) {
  const bool significance = tol.significance;
  tol.significance = false;  // no paired bootstrap against a median; the window's spread below instead
  // One nightly run against its window: at the bootstrap's usual 5% every twentieth night of each task
  // would fail on noise alone, so the window's interval is 99% unless --alpha or the recipe says otherwise.
  if (!tol.origin.count("alpha")) {
    tol.alpha = kHistoryAlpha;
    tol.origin["alpha"] = "default for --history";
  }
  RegressionReport out = check_regressions(baseline.report, current, tol);
  out.tolerances.significance = significance;
  out.window_runs = baseline.runs.size();
  if (significance) out.tolerances.origin["significance"] = "--history: the window's spread";
  for (RegressionFinding& f : out.findings) {
    std::vector<std::string> kept;
    std::size_t from = 0;
    while (from < f.reason.size()) {
      const std::size_t to = std::min(f.reason.find("; ", from), f.reason.size());
      const std::string part = f.reason.substr(from, to - from);
      if (part.rfind("no bootstrap", 0) != 0) kept.push_back(part);
      from = to + 2;
    }
    const TaskResult* task = baseline.report.find_task(f.task);
    const auto window = baseline.window_scores.find(f.task);
    if (significance && task && f.what == task->main_metric && std::isfinite(f.current) &&
        window != baseline.window_scores.end()) {
      const std::vector<double>& scores = window->second;
      if (scores.size() < 3) {
        kept.push_back(fmt::format("not testable: {} run{} in the window (3 or more give a spread)", scores.size(),
                                   scores.size() == 1 ? "" : "s"));
      } else {
        const SeedSpread spread = seed_spread(scores);
        const double n = static_cast<double>(scores.size());
        const double half = boost::math::quantile(boost::math::students_t(n - 1), 1 - tol.alpha / 2) * spread.std *
                            std::sqrt(1 + 1 / n);
        const double low = spread.mean - half, high = spread.mean + half;
        const bool higher_is_better = task->metric(task->main_metric).higher_is_better;
        const bool outside = higher_is_better ? f.current < low : f.current > high;
        const double drop = higher_is_better ? -f.change : f.change;
        std::string text = fmt::format("window {:g}% prediction interval [{}, {}] ({} runs, s {})", 100.0 * (1.0 - tol.alpha),
                                       fixed(low), fixed(high), scores.size(), fixed(spread.std));
        if (outside && drop > tol.min_drop && !f.regressed) {
          f.regressed = true;
          text += fmt::format(": a significant drop of {} (> min_drop {})", fixed(drop), fixed(tol.min_drop));
        } else {
          text += outside ? ": outside, on the worse side" : ": inside";
        }
        kept.push_back(std::move(text));
      }
    }
    f.reason = fmt::format("{}", fmt::join(kept, "; "));
  }
  return out;
}

}  // namespace sentbench
