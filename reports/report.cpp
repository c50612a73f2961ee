// Assembling a report from a run folder, report.json in and out, and writing the report files.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "json_view.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace sentbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json parse_json_file(const fs::path& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw ConfigError(fmt::format("{}: cannot read: {}", path.string(), e.what()));
  }
  return parse_json_text(text, path.string());
}

// ---- reading the pieces -------------------------------------------------------------------------

std::vector<TaskResult> read_tasks(const JsonView& v) {
  std::vector<TaskResult> tasks;
  if (v.value().is_null()) return tasks;
  v.expect_array();
  for (std::size_t i = 0; i < v.value().size(); ++i) tasks.push_back(task_result_from_json(v.at(i)));
  return tasks;
}

MachineInfo read_machine(const JsonView& v) {
  MachineInfo m;
  if (v.value().is_null()) return m;
  v.expect_object();
  m.cpu_model = v.str("cpu_model");
  m.cores = static_cast<int>(v.integer("cores"));
  // run.json calls the thread count torch_threads; report.json calls it threads.
  m.threads = static_cast<int>(v.integer("threads", v.integer("torch_threads")));
  m.avx512_bf16 = v.boolean("avx512_bf16");
  m.blas = v.str("blas");
  m.torch_version = v.str("torch_version");
  m.hostname = v.str("hostname");
  return m;
}

std::vector<PluginVersion> read_plugins(const JsonView& v) {
  std::vector<PluginVersion> plugins;
  v.expect_array();
  for (std::size_t i = 0; i < v.value().size(); ++i) {
    const JsonView p = v.at(i);
    p.expect_object();
    plugins.push_back({p.str("kind"), p.str("name"), p.str("version")});
  }
  return plugins;
}

// ---- training: train_log.jsonl to summary and curve ---------------------------------------------

// One logged step, NaN where the recipe did not log a field.
struct LoggedStep {
  std::int64_t step = 0;
  double loss = kNaN, lr = kNaN, grad_norm = kNaN, pairs_per_s = kNaN, tokens_per_s = kNaN, seconds = kNaN;
  std::string dataset;
  std::map<std::string, double> evals;  // "<task>/<metric>" of the log's "eval/<task>/<metric>" keys
};

std::vector<LoggedStep> read_train_log(const fs::path& path) {
  std::vector<LoggedStep> steps;
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot read", path.string()));
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json j = json::parse(line, nullptr, false);
    const std::string where = fmt::format("{}:{}", path.string(), number);
    if (j.is_discarded() || !j.is_object()) throw ConfigError(where + ": not a JSON object");
    const JsonView v(j, where);
    if (!v.has("step")) continue;  // not a step line (a recipe may log other events)
    LoggedStep s;
    s.step = v.integer("step");
    s.loss = v.num("loss", kNaN);
    s.lr = v.num("lr", kNaN);
    s.grad_norm = v.num("grad_norm", kNaN);
    s.pairs_per_s = v.num("pairs_per_s", kNaN);
    s.tokens_per_s = v.num("tokens_per_s", kNaN);
    s.seconds = v.num("step_seconds", kNaN);
    s.dataset = v.has("dataset") && v.at("dataset").value().is_string() ? v.str("dataset") : "";
    // Evaluation during training: a score that was NaN (a constant prediction) is logged as null.
    for (const auto& [key, value] : j.items()) {
      if (key.rfind("eval/", 0) == 0 && key.size() > 5) s.evals[key.substr(5)] = v.num(key, kNaN);
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

// Mean of the finite values; NaN when there are none.
double finite_mean(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (const double v : values) {
    if (std::isfinite(v)) sum += v, ++n;
  }
  return n ? sum / static_cast<double>(n) : kNaN;
}

// Rate over a span of steps: total work / total time when step times were logged, else the mean rate.
double span_rate(const std::vector<LoggedStep>& steps, std::size_t begin, std::size_t end, double LoggedStep::*rate) {
  double work = 0, seconds = 0;
  std::vector<double> rates;
  for (std::size_t i = begin; i < end; ++i) {
    const LoggedStep& s = steps[i];
    rates.push_back(s.*rate);
    if (std::isfinite(s.*rate) && std::isfinite(s.seconds) && s.seconds > 0) work += s.*rate * s.seconds, seconds += s.seconds;
  }
  return seconds > 0 ? work / seconds : finite_mean(rates);
}

// The steps that logged scores, as columns; at most kMaxEvalPoints of them, spread evenly (first and last
// kept).
EvalCurve eval_curve(const std::vector<LoggedStep>& steps) {
  std::vector<const LoggedStep*> scored;
  std::set<std::string> names;
  for (const LoggedStep& s : steps) {
    if (s.evals.empty()) continue;
    scored.push_back(&s);
    for (const auto& [name, value] : s.evals) names.insert(name);
  }
  EvalCurve curve;
  if (scored.empty()) return curve;
  std::vector<std::size_t> picked;
  if (scored.size() <= kMaxEvalPoints) {
    for (std::size_t i = 0; i < scored.size(); ++i) picked.push_back(i);
  } else {
    for (std::size_t i = 0; i < kMaxEvalPoints; ++i) picked.push_back(i * (scored.size() - 1) / (kMaxEvalPoints - 1));
  }
  for (const std::size_t i : picked) {
    curve.step.push_back(scored[i]->step);
    for (const std::string& name : names) {
      auto it = scored[i]->evals.find(name);
      curve.series[name].push_back(it == scored[i]->evals.end() ? kNaN : it->second);
    }
  }
  return curve;
}

TrainingSummary summarize_training(const std::vector<LoggedStep>& steps) {
  TrainingSummary t;
  t.steps = static_cast<std::int64_t>(steps.size());
  if (steps.empty()) return t;
  t.eval_curve = eval_curve(steps);
  t.last_step = steps.back().step;
  for (const LoggedStep& s : steps) {
    if (std::isfinite(s.seconds)) {
      t.step_seconds += s.seconds;
      if (std::isfinite(s.pairs_per_s)) t.pairs += s.pairs_per_s * s.seconds;
      if (std::isfinite(s.tokens_per_s)) t.tokens += s.tokens_per_s * s.seconds;
    }
    if (!s.dataset.empty()) ++t.steps_per_dataset[s.dataset];
  }
  t.pairs_per_s = span_rate(steps, 0, steps.size(), &LoggedStep::pairs_per_s);
  t.tokens_per_s = span_rate(steps, 0, steps.size(), &LoggedStep::tokens_per_s);
  t.seconds = t.step_seconds;
  t.final_loss = steps.back().loss;
  std::vector<double> tail;
  for (std::size_t i = steps.size() - std::min<std::size_t>(10, steps.size()); i < steps.size(); ++i) tail.push_back(steps[i].loss);
  t.final_loss_mean = finite_mean(tail);

  const std::size_t bucket = (steps.size() + kMaxCurvePoints - 1) / kMaxCurvePoints;
  t.curve_bucket = static_cast<std::int64_t>(bucket);
  for (std::size_t begin = 0; begin < steps.size(); begin += bucket) {
    const std::size_t end = std::min(steps.size(), begin + bucket);
    std::vector<double> loss, lr, grad;
    for (std::size_t i = begin; i < end; ++i) {
      loss.push_back(steps[i].loss);
      lr.push_back(steps[i].lr);
      grad.push_back(steps[i].grad_norm);
    }
    t.curve.push_back({steps[end - 1].step, finite_mean(loss), finite_mean(lr), finite_mean(grad),
                       span_rate(steps, begin, end, &LoggedStep::pairs_per_s),
                       span_rate(steps, begin, end, &LoggedStep::tokens_per_s)});
  }
  return t;
}

// ---- writing report.json --------------------------------------------------------------------------

// JSON has no NaN or infinity: write null, which reads back as NaN.
ordered_json number(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }


ordered_json training_json(const TrainingSummary& t) {
  ordered_json curve = {{"bucket", t.curve_bucket}};
  const std::pair<const char*, double CurvePoint::*> columns[] = {
      {"loss", &CurvePoint::loss}, {"lr", &CurvePoint::lr}, {"grad_norm", &CurvePoint::grad_norm},
      {"pairs_per_s", &CurvePoint::pairs_per_s}, {"tokens_per_s", &CurvePoint::tokens_per_s}};
  ordered_json step = ordered_json::array();
  for (const CurvePoint& p : t.curve) step.push_back(p.step);
  curve["step"] = step;
  for (const auto& [name, field] : columns) {
    ordered_json column = ordered_json::array();
    for (const CurvePoint& p : t.curve) column.push_back(number(p.*field));
    curve[name] = column;
  }
  ordered_json datasets = ordered_json::object();
  for (const auto& [k, v] : t.steps_per_dataset) datasets[k] = v;
  ordered_json out = {{"steps", t.steps},
          {"last_step", t.last_step},
          {"seconds", number(t.seconds)},
          {"step_seconds", number(t.step_seconds)},
          {"pairs", number(t.pairs)},
          {"tokens", number(t.tokens)},
          {"pairs_per_s", number(t.pairs_per_s)},
          {"tokens_per_s", number(t.tokens_per_s)},
          {"final_loss", number(t.final_loss)},
          {"final_loss_mean", number(t.final_loss_mean)},
          {"steps_per_dataset", datasets},
          {"curve", curve}};
  if (t.world_size > 1) out["world_size"] = t.world_size;  // absent: one process
  // Added fields (report schema 1 readers ignore them): present only when there is something to say, so
  // a report without them is byte for byte what it was.
  if (!t.eval_curve.empty()) {
    ordered_json series = ordered_json::object();
    for (const auto& [name, values] : t.eval_curve.series) {
      ordered_json column = ordered_json::array();
      for (const double v : values) column.push_back(number(v));
      series[name] = column;
    }
    out["eval_curve"] = {{"step", t.eval_curve.step}, {"series", series}};
  }
  if (!t.stages.empty()) {
    ordered_json stages = ordered_json::array();
    for (const TrainingSummary& stage : t.stages) {
      ordered_json j = {{"name", stage.name}, {"plugin", stage.plugin}};
      const ordered_json fields = training_json(stage);
      for (const auto& [key, value] : fields.items()) j[key] = value;
      stages.push_back(std::move(j));
    }
    out["stages"] = stages;
  }
  return out;
}

// memory.phases: [{"phase": "train", "peak_rss_bytes": N}, ...] in the order the run went through them.
std::vector<std::pair<std::string, std::int64_t>> read_phases(const JsonView& v) {
  v.expect_array();
  std::vector<std::pair<std::string, std::int64_t>> phases;
  for (std::size_t i = 0; i < v.value().size(); ++i) {
    const JsonView p = v.at(i);
    p.expect_object();
    phases.emplace_back(p.str("phase"), p.integer("peak_rss_bytes"));
  }
  return phases;
}

TrainingSummary read_training(const JsonView& v) {
  v.expect_object();
  TrainingSummary t;
  t.steps = v.integer("steps");
  t.last_step = v.integer("last_step");
  t.seconds = v.num("seconds");
  t.step_seconds = v.num("step_seconds");
  t.pairs = v.num("pairs");
  t.tokens = v.num("tokens");
  t.pairs_per_s = v.num("pairs_per_s");
  t.tokens_per_s = v.num("tokens_per_s");
  t.final_loss = v.num("final_loss", kNaN);
  t.final_loss_mean = v.num("final_loss_mean", kNaN);
  t.world_size = static_cast<int>(v.integer("world_size", 1));
  if (v.has("steps_per_dataset")) {
    const JsonView d = v.at("steps_per_dataset");
    d.expect_object();
    for (const auto& [k, value] : d.value().items()) t.steps_per_dataset[k] = d.integer(k);
  }
  if (v.has("curve")) {
    const JsonView c = v.at("curve");
    c.expect_object();
    t.curve_bucket = c.integer("bucket", 1);
    const JsonView step = c.at("step");
    step.expect_array();
    t.curve.resize(step.value().size());
    for (std::size_t i = 0; i < t.curve.size(); ++i) t.curve[i].step = static_cast<std::int64_t>(step.at(i).as_num());
    const std::pair<const char*, double CurvePoint::*> columns[] = {
        {"loss", &CurvePoint::loss}, {"lr", &CurvePoint::lr}, {"grad_norm", &CurvePoint::grad_norm},
        {"pairs_per_s", &CurvePoint::pairs_per_s}, {"tokens_per_s", &CurvePoint::tokens_per_s}};
    for (const auto& [name, field] : columns) {
      const JsonView column = c.at(name);
      if (column.value().is_null()) {
        for (CurvePoint& p : t.curve) p.*field = kNaN;
        continue;
      }
      column.expect_array();
      if (column.value().size() != t.curve.size()) column.fail(fmt::format("expected {} values", t.curve.size()));
      for (std::size_t i = 0; i < t.curve.size(); ++i) t.curve[i].*field = column.at(i).as_num();
    }
  }
  if (v.has("eval_curve")) {
    const JsonView c = v.at("eval_curve");
    c.expect_object();
    const JsonView step = c.at("step");
    step.expect_array();
    for (std::size_t i = 0; i < step.value().size(); ++i) {
      t.eval_curve.step.push_back(static_cast<std::int64_t>(step.at(i).as_num()));
    }
    const JsonView series = c.at("series");
    series.expect_object();
    for (const auto& [name, value] : series.value().items()) {
      const JsonView column = series.at(name);
      column.expect_array();
      if (column.value().size() != t.eval_curve.step.size()) {
        column.fail(fmt::format("expected {} values", t.eval_curve.step.size()));
      }
      auto& out = t.eval_curve.series[name];
      for (std::size_t i = 0; i < column.value().size(); ++i) out.push_back(column.at(i).as_num());
    }
  }
  if (v.has("stages")) {
    const JsonView stages = v.at("stages");
    stages.expect_array();
    for (std::size_t i = 0; i < stages.value().size(); ++i) {
      TrainingSummary stage = read_training(stages.at(i));
      stage.name = stages.at(i).str("name");
      stage.plugin = stages.at(i).str("plugin");
      t.stages.push_back(std::move(stage));
    }
  }
  return t;
}

std::string default_title(const std::string& run_name) { return "sentbench report: " + run_name; }

// One stage of a staged recipe as the run folder holds it: stages/<name>/train_log.jsonl.
struct StageLog {
  std::string name;
  std::string plugin;
  double seconds = kNaN;  // wall time run.json recorded for it
  fs::path log;
};

// The stages of a run: run.json's train.stages (written by the runner), else the recipe's [[stage]]
// tables when their logs are there (`sentbench eval` after `sentbench train` rewrote run.json without
// them); empty for a [train] recipe.
std::vector<StageLog> stage_logs(const json& run, const JsonView& r, const fs::path& run_dir) {
  std::vector<StageLog> out;
  if (r.at("train").has("stages")) {
    const JsonView listed = r.at("train").at("stages");
    listed.expect_array();
    for (std::size_t i = 0; i < listed.value().size(); ++i) {
      const JsonView stage = listed.at(i);
      stage.expect_object();
      const std::string name = stage.str("name");
      if (name.empty()) stage.at("name").fail("expected the stage's name");
      out.push_back({name, stage.str("plugin"), stage.num("seconds", kNaN), run_dir / "stages" / name / "train_log.jsonl"});
    }
    return out;
  }
  const json& recipe = run.contains("recipe") ? run["recipe"] : json();
  if (!recipe.is_object() || !recipe.contains("stage") || !recipe["stage"].is_array()) return out;
  for (std::size_t i = 0; i < recipe["stage"].size(); ++i) {
    const json& stage = recipe["stage"][i];
    if (!stage.is_object()) continue;
    const std::string plugin = stage.value("plugin", std::string("stage"));
    // The harness's default stage name (recipe_schema.hpp: stage_name).
    const std::string name = stage.contains("name") && stage["name"].is_string() ? stage["name"].get<std::string>()
                                                                                : fmt::format("{}-{}", i + 1, plugin);
    out.push_back({name, plugin, kNaN, run_dir / "stages" / name / "train_log.jsonl"});
  }
  // A run that only evaluated a staged recipe did not train.
  const bool logged = std::any_of(out.begin(), out.end(), [](const StageLog& s) { return fs::exists(s.log); });
  return logged ? out : std::vector<StageLog>{};
}

// Each stage's summary, and the run's: totals over every stage's steps, the last stage's end.
TrainingSummary summarize_stages(const std::vector<StageLog>& stages) {
  std::vector<LoggedStep> all;
  std::vector<TrainingSummary> summaries;
  for (const StageLog& stage : stages) {
    std::vector<LoggedStep> steps;
    if (fs::exists(stage.log)) steps = read_train_log(stage.log);
    TrainingSummary s = summarize_training(steps);
    s.name = stage.name;
    s.plugin = stage.plugin;
    if (std::isfinite(stage.seconds)) s.seconds = stage.seconds;
    summaries.push_back(std::move(s));
    all.insert(all.end(), steps.begin(), steps.end());
  }
  TrainingSummary t = summarize_training(all);
  const TrainingSummary& last = summaries.back();
  t.last_step = last.last_step;
  t.final_loss = last.final_loss;
  t.final_loss_mean = last.final_loss_mean;
  t.curve_bucket = last.curve_bucket;
  t.curve = last.curve;
  t.eval_curve = EvalCurve{};  // each stage has its own; steps restart at 1 in every stage
  double seconds = 0;
  for (const TrainingSummary& s : summaries) seconds += s.seconds;
  t.seconds = seconds;
  t.stages = std::move(summaries);
  return t;
}

}  // namespace

const TaskResult* Report::find_task(const std::string& name) const {
  for (const TaskResult& t : tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

double Report::encode_items_per_second() const {
  double seconds = 0, items = 0;
  for (const TaskResult& t : tasks) {
    if (!t.skipped.empty() || t.model.cache_hit || t.model.encode_seconds <= 0) continue;
    seconds += t.model.encode_seconds;
    items += static_cast<double>(t.model.encoded_items);
  }
  return seconds > 0 ? items / seconds : 0.0;
}

Report assemble_report(const fs::path& run_dir, const AssembleOptions& options) {
  const fs::path run_file = run_dir / "run.json";
  if (!fs::exists(run_file)) {
    throw ConfigError(fmt::format("{} is not a run folder: it has no run.json (run `sentbench run RECIPE` first)",
                                  run_dir.string()));
  }
  const json run = parse_json_file(run_file);
  const JsonView r(run, run_file.string());
  r.expect_object();

  Report report;
  report.recipe = r.has("recipe") ? run["recipe"] : json::object();
  const JsonView recipe = r.at("recipe");
  const fs::path dir_name = fs::absolute(run_dir).lexically_normal();
  const std::string folder = dir_name.has_filename() ? dir_name.filename().string() : dir_name.parent_path().filename().string();
  report.run_name = recipe.at("run").str("name", folder);
  report.title = recipe.at("report").str("title", default_title(report.run_name));
  const JsonView system = r.at("system");
  report.sentbench_version = system.str("sentbench_version");
  report.git_commit = system.str("git_commit");
  report.machine = read_machine(system);
  if (r.has("encoder")) report.encoder = run["encoder"];
  if (r.has("probe")) report.probe = run["probe"];
  if (r.has("plugins")) {
    report.plugins = read_plugins(r.at("plugins"));
  } else {
    // Older run folders name the plugins only in the recipe, without versions.
    if (recipe.at("encoder").has("plugin")) report.plugins.push_back({"encoder", recipe.at("encoder").str("plugin"), ""});
    if (recipe.at("train").has("plugin")) report.plugins.push_back({"recipe", recipe.at("train").str("plugin"), ""});
  }
  report.peak_rss_bytes = options.peak_rss_bytes;
  report.command = r.str("command");
  if (r.at("memory").has("phases")) report.phase_peak_rss_bytes = read_phases(r.at("memory").at("phases"));
  // The phases reset the process's peak as they go: the whole run's peak is the largest of them.
  for (const auto& [phase, bytes] : report.phase_peak_rss_bytes) {
    if (report.peak_rss_bytes) report.peak_rss_bytes = std::max(*report.peak_rss_bytes, bytes);
  }

  const fs::path log_file = run_dir / "train_log.jsonl";
  const bool trained = r.has("train");
  const std::vector<StageLog> stages = stage_logs(run, r, run_dir);
  if (!stages.empty()) {
    report.training = summarize_stages(stages);
  } else if (fs::exists(log_file) || trained) {
    report.training = fs::exists(log_file) ? summarize_training(read_train_log(log_file)) : TrainingSummary{};
  }
  if (report.training) {
    TrainingSummary& t = *report.training;
    if (trained && r.at("train").has("seconds")) t.seconds = r.at("train").num("seconds");
    if (trained && r.at("train").has("world_size")) t.world_size = static_cast<int>(r.at("train").integer("world_size"));
  }

  const fs::path results_file = run_dir / "results.json";
  if (options.results) {
    report.tasks = *options.results;
  } else if (fs::exists(results_file)) {
    std::string text;
    try {
      text = read_file(results_file);
    } catch (const Error& e) {
      throw ConfigError(fmt::format("{}: cannot read: {}", results_file.string(), e.what()));
    }
    report.tasks = results_from_json(text, results_file.string());
  }
  return report;
}

std::string report_to_json(const Report& report) {
  ordered_json plugins = ordered_json::array();
  for (const PluginVersion& p : report.plugins) {
    plugins.push_back({{"kind", p.kind}, {"name", p.name}, {"version", p.version.empty() ? ordered_json(nullptr) : ordered_json(p.version)}});
  }
  const MachineInfo& m = report.machine;
  ordered_json j;
  j["schema"] = kReportSchema;
  j["title"] = report.title;
  j["run"] = {{"name", report.run_name},
              {"sentbench_version", report.sentbench_version},
              {"git_commit", report.git_commit},
              {"plugins", plugins},
              {"encoder", ordered_json::parse(report.encoder.dump())},
              {"recipe", ordered_json::parse(report.recipe.dump())}};
  j["machine"] = {{"cpu_model", m.cpu_model}, {"cores", m.cores}, {"threads", m.threads},
                  {"avx512_bf16", m.avx512_bf16}, {"blas", m.blas}, {"torch_version", m.torch_version},
                  {"hostname", m.hostname}};
  if (!report.command.empty()) j["run"]["command"] = report.command;
  j["memory"] = {{"peak_rss_bytes", report.peak_rss_bytes ? ordered_json(*report.peak_rss_bytes) : ordered_json(nullptr)}};
  if (!report.phase_peak_rss_bytes.empty()) {
    ordered_json phases = ordered_json::array();
    for (const auto& [name, bytes] : report.phase_peak_rss_bytes) phases.push_back({{"phase", name}, {"peak_rss_bytes", bytes}});
    j["memory"]["phases"] = phases;
  }
  j["training"] = report.training ? training_json(*report.training) : ordered_json(nullptr);
  const double probe_rate = report.probe.is_object() && report.probe.contains("texts_per_s") && report.probe["texts_per_s"].is_number()
                                ? report.probe["texts_per_s"].get<double>() : kNaN;
  j["speed"] = {{"encode_items_per_second", number(report.encode_items_per_second())},
                {"train_pairs_per_s", report.training ? number(report.training->pairs_per_s) : ordered_json(nullptr)},
                {"train_tokens_per_s", report.training ? number(report.training->tokens_per_s) : ordered_json(nullptr)},
                {"probe_texts_per_s", number(probe_rate)}};
  j["probe"] = ordered_json::parse(report.probe.dump());
  ordered_json tasks = ordered_json::array();
  for (const TaskResult& t : report.tasks) tasks.push_back(task_result_to_json(t));
  j["tasks"] = tasks;
  return j.dump(2) + "\n";
}

Report parse_report(const std::string& text, const std::string& source) {
  json j = parse_json_text(text, source);
  const JsonView v(j, source);
  v.expect_object();
  const std::string schema = v.str("schema");
  if (schema != kReportSchema && schema != "sentbench.report/1") {  // /1 lacks only the task metadata
    const std::string hint = schema.rfind("sentbench.results/", 0) == 0
                                 ? " (this is a results.json; pass the run folder or its report.json)"
                             : schema.rfind("sentbench.report/", 0) == 0
                                 ? " (written by a sentbench with another report schema; regenerate it with "
                                   "`sentbench report RUN_DIR`)"
                                 : "";
    throw ConfigError(fmt::format("{}: not a sentbench report: schema is \"{}\", expected \"{}\"{}", source, schema,
                                  kReportSchema, hint));
  }
  Report report;
  report.title = v.str("title");
  const JsonView run = v.at("run");
  run.expect_object();
  report.run_name = run.str("name");
  report.sentbench_version = run.str("sentbench_version");
  report.git_commit = run.str("git_commit");
  if (run.has("plugins")) report.plugins = read_plugins(run.at("plugins"));
  if (run.has("encoder")) report.encoder = j["run"]["encoder"];
  if (run.has("recipe")) report.recipe = j["run"]["recipe"];
  report.machine = read_machine(v.at("machine"));
  if (v.at("memory").has("peak_rss_bytes")) report.peak_rss_bytes = v.at("memory").integer("peak_rss_bytes");
  if (v.at("memory").has("phases")) report.phase_peak_rss_bytes = read_phases(v.at("memory").at("phases"));
  report.command = run.str("command");
  if (v.has("training")) report.training = read_training(v.at("training"));
  if (v.has("probe")) report.probe = j["probe"];
  report.tasks = read_tasks(v.at("tasks"));
  return report;
}

Report load_report(const fs::path& path) {
  if (fs::is_directory(path)) {
    if (fs::exists(path / "report.json")) return load_report(path / "report.json");
    return assemble_report(path);
  }
  if (!fs::exists(path)) throw UsageError(fmt::format("{}: no such report file or run folder", path.string()));
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw ConfigError(fmt::format("{}: cannot read: {}", path.string(), e.what()));
  }
  return parse_report(text, path.string());
}


const std::vector<std::string>& report_formats() {
  static const std::vector<std::string> formats = {"json", "md", "html", "mteb"};
  return formats;
}

std::vector<fs::path> write_report_files(const Report& report, const fs::path& dir, const std::vector<std::string>& formats) {
  for (const std::string& f : formats) {
    if (std::find(report_formats().begin(), report_formats().end(), f) == report_formats().end()) {
      throw ConfigError(fmt::format("unknown report format \"{}\" (known: {})", f, fmt::join(report_formats(), ", ")));
    }
  }
  std::vector<fs::path> written;
  for (const std::string& f : report_formats()) {
    if (std::find(formats.begin(), formats.end(), f) == formats.end()) continue;
    if (f == "json") {
      write_file_atomic(dir / "report.json", report_to_json(report));
      written.push_back(dir / "report.json");
    } else if (f == "md") {
      write_file_atomic(dir / "report.md", render_markdown(report));
      written.push_back(dir / "report.md");
    } else if (f == "html") {
      write_file_atomic(dir / "report.html", render_html(report));
      written.push_back(dir / "report.html");
    } else if (f == "mteb") {
      export_mteb(report, dir / "mteb");
      written.push_back(dir / "mteb");
    }
  }
  return written;
}

std::vector<fs::path> write_reports(const fs::path& run_dir, const std::vector<std::string>& formats,
                                    const std::vector<TaskResult>* results) {
  AssembleOptions options;
  options.peak_rss_bytes = process_peak_rss_bytes();
  if (results) options.results = *results;
  const Report report = assemble_report(run_dir, options);
  return write_report_files(report, run_dir, formats.empty() ? recipe_formats(report) : formats);
}

std::vector<std::string> recipe_formats(const Report& report) {
  const JsonView listed = JsonView(report.recipe, "the run's recipe").at("report").at("formats");
  if (listed.value().is_null()) return {"json", "md", "html"};
  listed.expect_array();
  std::vector<std::string> formats;
  for (std::size_t i = 0; i < listed.value().size(); ++i) formats.push_back(listed.at(i).as_str());
  return formats;
}

}  // namespace sentbench
