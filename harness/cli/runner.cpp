// The harness around the plugins: recipe in, run folder out.
#include "runner.hpp"

#include <chrono>
#include <csignal>
#include <optional>
#include <algorithm>
#include <cmath>
#include <tuple>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "recipe_schema.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "report.hpp"
#include "run_folder.hpp"
#include "stop_signals.hpp"
#include "suite.hpp"
#include "sentbench/training.hpp"
#include "system_info.hpp"
#include "training_eval.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

// Short, fixed texts that prove the encoder runs end to end and give a first throughput figure.
const std::vector<std::string> kProbeTexts = {
    "A man is playing a guitar.",
    "A person plays an instrument on stage.",
    "The stock market fell sharply on Monday.",
    "Shares dropped at the start of the week.",
    "sentbench trains and evaluates sentence encoders.",
    "Debian packages are described by a short and a long description.",
};

nlohmann::json to_json(const SystemInfo& s) {
  return {{"sentbench_version", s.sentbench_version}, {"git_commit", s.git_commit}, {"cpu_model", s.cpu_model},
          {"cores", s.cores}, {"avx512_bf16", s.avx512_bf16}, {"torch_version", s.torch_version},
          {"torch_threads", s.torch_threads}, {"blas", s.blas}, {"hostname", s.hostname}};
}

nlohmann::json to_json(const EncoderInfo& e) {
  return {{"name", e.name}, {"model", e.model}, {"dim", e.dim}, {"max_tokens", e.max_tokens},
          {"pooling", e.pooling}, {"normalize", e.normalize}, {"parameters", e.parameters}};
}

std::vector<fs::path> recipe_plugin_dirs(const Config& recipe) {
  std::vector<fs::path> dirs;
  const Config run = recipe.table_or_empty("run");
  if (run.contains("plugin_dirs")) {
    // Relative folders resolve against the file that set them (an included base may set them).
    const fs::path setter = run.where("plugin_dirs").file;
    const fs::path base = setter.has_parent_path() ? setter.parent_path() : fs::path(".");
    for (const auto& d : run.get_strings("plugin_dirs")) dirs.push_back(fs::path(d).is_absolute() ? fs::path(d) : base / d);
  }
  return dirs;
}

}  // namespace

LoadedRecipe load_and_check(const fs::path& file, const std::vector<std::string>& overrides) {
  return check_recipe(Config::load(file, overrides));
}

LoadedRecipe check_recipe(Config recipe) {
  LoadedRecipe loaded{std::move(recipe), std::make_unique<PluginHost>()};
  loaded.host->scan_all(PluginHost::default_dirs(recipe_plugin_dirs(loaded.recipe)));
  auto problems = validate_recipe(loaded.recipe, loaded.host.get());
  // Document order reads best: file, then line, then column.
  std::stable_sort(problems.begin(), problems.end(), [](const RecipeProblem& a, const RecipeProblem& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) < std::tie(b.where.file, b.where.line, b.where.column);
  });
  if (!problems.empty()) {
    std::string message = fmt::format("{} problem{} in recipe {}:", problems.size(), problems.size() == 1 ? "" : "s",
                                      loaded.recipe.origin().string());
    for (const auto& p : problems) message += "\n  " + p.str();
    throw ConfigError(message);
  }
  return loaded;
}

fs::path run_dir_for(const Config& recipe, const std::optional<fs::path>& output) {
  if (output) return *output;
  const Config run = recipe.table_or_empty("run");
  const std::string name = run.get_string("name", recipe.origin().stem().string());
  return run.get_path("output_dir", "runs") / name;
}

namespace {

constexpr const char* kStageDone = "stage.json";        // a finished stage's marker: steps, seconds, run id
constexpr const char* kStageWeights = "final.safetensors";  // a finished stage's encoder parameters

// One training stage: a [train] table (the run folder holds its files, as before stages existed) or one
// [[stage]] table (stages/<name>/ does).
struct Stage {
  std::string name;  // "" for [train]
  Config table;
  fs::path dir;
  std::uint64_t seed = 0;
};

std::vector<Stage> plan_stages(const Config& recipe, const fs::path& dir, std::uint64_t seed) {
  if (recipe.contains("train")) return {Stage{"", recipe.table("train"), dir, seed}};
  std::vector<Stage> out;
  const std::vector<Config> tables = recipe.tables("stage");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string name = stage_name(tables[i], i);
    // Each stage draws its own data order and dropout: seed + index (the first stage's is the run's seed,
    // so a one-stage recipe trains as the same [train] would).
    out.push_back(Stage{name, tables[i], dir / "stages" / name, seed + i});
  }
  return out;
}

// Whether a folder holds a finished checkpoint (checkpoints/step-*).
bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "checkpoints", ec)) {
    if (e.is_directory() && e.path().filename().string().rfind("step-", 0) == 0) return true;
  }
  return false;
}

// The last step a train log records (0 when it has none).
std::int64_t last_logged_step(const fs::path& log_path) {
  std::int64_t last = 0;
  std::ifstream in(log_path);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("step") && j["step"].is_number_integer()) {
      last = j["step"].get<std::int64_t>();
    }
  }
  return last;
}

// The marker of a stage that finished in an earlier call of this run, or null.
nlohmann::json finished_stage(const Stage& stage, const std::string& run_id) {
  const fs::path marker = stage.dir / kStageDone;
  if (!fs::exists(marker) || !fs::exists(stage.dir / kStageWeights)) return nullptr;
  nlohmann::json j = nlohmann::json::parse(read_file(marker), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    log::warn("{} is not a stage marker; stage {} runs again", marker.string(), stage.name);
    return nullptr;
  }
  const std::string recorded = j.value("run_id", "");
  if (!run_id.empty() && !recorded.empty() && recorded != run_id) {
    log::warn("{} belongs to run {}, not to this run ({}); stage {} runs again", marker.string(), recorded, run_id,
              stage.name);
    return nullptr;
  }
  return j;
}

// Writes one JSON line per step into the stage's train log. A fresh stage starts the file anew; a resumed
// one drops the lines of steps after its checkpoint (logged before the crash) when the recipe logs its
// first step again, so the log reads as one uninterrupted run.
std::function<void(std::int64_t, const MetricRow&, const TagRow&)> train_log_writer(const fs::path& log_path,
                                                                                 bool resume, bool main_rank) {
  auto train_log = std::make_shared<std::ofstream>();
  if (!resume && main_rank) train_log->open(log_path, std::ios::trunc);
  return [train_log, log_path, main_rank](std::int64_t step, const MetricRow& row, const TagRow& tags) {
    if (!main_rank) return;
    if (!train_log->is_open()) {
      std::string kept;
      std::ifstream old(log_path);
      for (std::string line; std::getline(old, line);) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.value("step", std::int64_t{0}) < step) kept += line + "\n";
      }
      write_file_atomic(log_path, kept);
      train_log->open(log_path, std::ios::app);
    }
    nlohmann::json line = row;
    for (const auto& [k, v] : tags) line[k] = v;
    line["step"] = step;
    *train_log << line.dump() << '\n';
    train_log->flush();  // a crash loses at most the step being written
  };
}

// TrainContext::evaluate for one stage (rank 0, when the recipe has [[eval]] tasks): the chosen tasks,
// cut to eval_max_items, scored without the embedding cache. With eval_every set, the data is read now,
// so a bad file fails before training starts rather than at the first evaluation.
std::function<MetricRow(std::int64_t)> stage_evaluator(const Config& recipe, const Stage& stage, Encoder& encoder,
                                                       std::uint64_t seed) {
  const std::int64_t every = stage.table.get_int("eval_every", 0);
  if (recipe.tables("eval").empty()) {
    if (every > 0) {
      log::warn("{}: eval_every = {} but the recipe has no [[eval]] tasks: nothing is scored during training",
                stage.table.where("eval_every").str(), every);
    }
    return {};
  }
  auto evaluator = std::make_shared<TrainingEvaluator>(recipe, stage.table, seed);
  if (every > 0) {
    evaluator->load();
    std::vector<std::string> listed;
    for (const auto& t : evaluator->tasks()) {
      listed.push_back(fmt::format("{} ({} {})", t.name, t.items, t.type == "retrieval" ? "queries"
                                                               : t.type == "sts"     ? "pairs"
                                                                                     : "texts"));
    }
    if (listed.empty()) {
      log::warn("eval_every = {}: none of the chosen [[eval]] tasks has its data here; nothing is scored during "
                "training", every);
    } else {
      log::info("every {} steps: scoring {}{}", every, fmt::join(listed, ", "),
                evaluator->max_items() > 0 ? fmt::format("; each cut to at most {} items (eval_max_items)", evaluator->max_items())
                                           : std::string());
    }
  }
  Encoder* model = &encoder;
  return [evaluator, model](std::int64_t step) { return (*evaluator)(*model, step); };
}

// Runs the recipe's training: its [train] table, or its [[stage]] tables in order on the same encoder.
// A stage that finishes leaves final.safetensors (its encoder parameters) and stage.json in its folder;
// --resume skips finished stages, loads the last one's weights unless the next stage has a checkpoint of
// its own (which holds them), and resumes the current stage from its checkpoints. Returns the wall time;
// fills summary["train"]. Every rank runs every stage; rank 0 writes.
double train_stages(const PluginHost& host, const Config& recipe, Encoder& encoder, const fs::path& dir,
                    std::uint64_t seed, const RunOptions& options, const std::shared_ptr<ProcessGroup>& group,
                    const std::string& run_id, nlohmann::json& summary) {
  const bool staged = !recipe.contains("train");
  const bool main_rank = group->rank() == 0;
  const std::vector<Stage> stages = plan_stages(recipe, dir, seed);
  summary["train"] = nlohmann::json::object();

  // Stages that finished in an earlier call, decided once before anything trains so every rank skips the
  // same ones: the leading stages with a marker.
  std::vector<nlohmann::json> done(stages.size());
  std::size_t first = 0;
  if (staged && options.resume && !options.dry_run) {
    while (first < stages.size() && !(done[first] = finished_stage(stages[first], run_id)).is_null()) ++first;
    if (first > 0) {
      for (std::size_t i = 0; i < first; ++i) {
        const std::int64_t asked = stages[i].table.get_int("steps", 0);
        const std::int64_t trained = done[i].value("steps", std::int64_t{0});
        if (asked > trained) {
          log::warn("stage {} finished after {} steps; the recipe now asks {}, but a finished stage is not extended "
                    "(start a new run to train it longer)", stages[i].name, trained, asked);
        }
      }
      if (first == stages.size()) {
        log::info("--resume: all {} stages finished earlier; loading the weights of stage {}", stages.size(),
                  stages.back().name);
      } else {
        std::vector<std::string> names;
        for (std::size_t i = 0; i < first; ++i) names.push_back(stages[i].name);
        log::info("--resume: stage{} {} finished earlier; resuming in stage {} of {} ({})", first == 1 ? "" : "s",
                  fmt::join(names, ", "), first + 1, stages.size(), stages[first].name);
      }
      // The stage about to run starts from the last finished stage's weights, unless its own checkpoint
      // (which holds later weights) is there to resume from.
      if (first == stages.size() || !has_checkpoint(stages[first].dir)) {
        const fs::path weights = stages[first - 1].dir / kStageWeights;
        load_parameters(weights, encoder.parameters());
        log::info("loaded the encoder from {}", weights.string());
      }
    }
  }

  const auto start = std::chrono::steady_clock::now();
  nlohmann::json listed = nlohmann::json::array();
  for (std::size_t i = 0; i < first; ++i) {
    listed.push_back({{"name", stages[i].name}, {"plugin", stages[i].table.get_string("plugin")},
                      {"dir", stages[i].dir.string()}, {"steps", done[i].value("steps", std::int64_t{0})},
                      {"seconds", done[i].value("seconds", 0.0)}, {"finished_earlier", true}});
  }
  for (std::size_t i = first; i < stages.size(); ++i) {
    const Stage& stage = stages[i];
    const std::string plugin = stage.table.get_string("plugin");
    // A stage resumes from its own checkpoint when it has one; a stage never started (or killed before
    // its first checkpoint) starts afresh, its log with it.
    const bool resume = options.resume && (!staged || (i == first && has_checkpoint(stage.dir)));
    if (staged) {
      // Each stage starts from a generator state of its own, so a stage started after a --resume draws
      // what it would have drawn in one uninterrupted run.
      if (i > 0) torch::manual_seed(stage.seed);
      if (main_rank && !options.dry_run) fs::create_directories(stage.dir);
      log::info("stage {} of {}: {} ({}){}", i + 1, stages.size(), stage.name, plugin,
                resume ? ", resuming from its checkpoint" : "");
      if (options.dry_run) {
        std::cout << fmt::format("stage {} of {}: {} ({})\n", i + 1, stages.size(), stage.name, plugin) << std::flush;
      }
    }
    std::shared_ptr<Recipe> trainer = host.create_recipe(plugin, stage.table);
    TrainContext context;
    context.config = stage.table;
    context.output_dir = stage.dir;
    context.seed = stage.seed;
    context.resume = resume;
    context.dry_run = options.dry_run;
    context.group = group;
    context.rank = group->rank();
    context.world_size = group->world_size();
    context.allow_world_size_change = options.allow_world_size_change;
    context.run_id = run_id;
    context.stop_requested = [] { return stop_signal() != 0; };
    context.log_metrics = train_log_writer(stage.dir / "train_log.jsonl", resume, main_rank && !(staged && options.dry_run));
    if (main_rank && !options.dry_run) context.evaluate = stage_evaluator(recipe, stage, encoder, seed);
    const auto stage_start = std::chrono::steady_clock::now();
    try {
      trainer->train(encoder, context);
    } catch (const DistributedError&) {
      throw;
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      if (const int sig = stop_signal()) {
        throw Interrupted(sig, fmt::format("{}{}; continue with --resume", e.what(),
                                           staged ? fmt::format(" (stage {}, {} of {})", stage.name, i + 1, stages.size())
                                                  : std::string()));
      }
      group->report_failure(e.what());
      throw;
    } catch (const std::exception& e) {
      group->report_failure(e.what());  // the other ranks name this one and its reason
      throw;
    }
    if (options.dry_run || !staged) continue;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start).count();
    const std::int64_t steps =
        main_rank ? last_logged_step(stage.dir / "train_log.jsonl") : stage.table.get_int("steps", 0);
    listed.push_back({{"name", stage.name}, {"plugin", plugin}, {"dir", stage.dir.string()}, {"steps", steps},
                      {"seconds", seconds}});
    if (main_rank) {
      // The weights first, the marker last: a marker always has its weights beside it.
      save_parameters(stage.dir / kStageWeights, encoder.parameters());
      const nlohmann::json marker = {{"schema", "sentbench.stage/1"}, {"name", stage.name}, {"plugin", plugin},
                                     {"index", i + 1}, {"steps", steps}, {"seconds", seconds}, {"run_id", run_id}};
      write_file_atomic(stage.dir / kStageDone, marker.dump(2) + "\n");
      log::info("stage {} ({}) finished in {:.1f}s", stage.name, plugin, seconds);
    }
    if (i + 1 < stages.size()) {
      throw_if_stopped(fmt::format("stage {} finished; --resume continues with stage {}", stage.name,
                                   stages[i + 1].name));
    }
  }
  if (staged) summary["train"]["stages"] = listed;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

namespace {

// The command line of this process as a shell would take it back (/proc/self/cmdline; "" elsewhere).
std::string current_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string arg;
  for (const char c : raw) {
    if (c != '\0') {
      arg += c;
      continue;
    }
    const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,+@%") == std::string::npos;
    if (plain) {
      args.push_back(arg);
    } else {
      std::string quoted = "'";
      for (const char q : arg) quoted += q == '\'' ? std::string("'\\''") : std::string(1, q);
      args.push_back(quoted + "'");
    }
    arg.clear();
  }
  return fmt::format("{}", fmt::join(args, " "));
}

// Peak resident memory per phase of the run: each phase resets the peak when it starts and reads it when
// it ends (the first phase, loading, counts from the process's start).
class PhaseMemory {
 public:
  void end(const std::string& phase) {
    if (const auto peak = process_peak_rss_bytes()) phases_.push_back({{"phase", phase}, {"peak_rss_bytes", *peak}});
    resettable_ = reset_peak_rss();
  }
  nlohmann::json json() const { return resettable_ ? nlohmann::json(phases_) : nlohmann::json::array(); }

 private:
  std::vector<nlohmann::json> phases_;
  bool resettable_ = false;
};

}  // namespace

fs::path run_recipe(const RunOptions& options) {
  std::vector<std::string> overrides = options.overrides;
  if (options.model) {
    // A model folder replaces the recipe's encoder source; its own files give pooling and length.
    overrides.push_back("encoder.plugin=\"" + options.model_plugin + "\"");
    overrides.push_back("encoder.model=\"" + fs::absolute(*options.model).string() + "\"");
  }
  LoadedRecipe loaded = load_and_check(options.recipe, overrides);
  // One handler for the whole command: Ctrl-C / SIGTERM stop training at the next step (with a
  // checkpoint) and evaluation at the next task (keeping the finished ones); a second signal exits.
  install_stop_handlers();
  const Config& recipe = loaded.recipe;
  const Config run = recipe.table_or_empty("run");
  const fs::path dir = run_dir_for(recipe, options.output);

  // Distributed (torchrun, Slurm or --nproc): every rank trains; rank 0 alone writes the run folder,
  // evaluates and reports. Work that is not training runs on rank 0 only.
  const DistEnv dist = DistEnv::from_environment();
  const bool trains = options.train && (recipe.contains("train") || recipe.contains("stage"));
  if (dist.world_size > 1) {
    if (dist.rank != 0) {
      log::set_prefix(fmt::format("[rank {}] ", dist.rank));
      if (log::level() == log::Level::kInfo) log::set_level(log::Level::kWarn);  // one voice: rank 0's
    }
    if (!trains || options.dry_run) {
      if (dist.rank != 0) return dir;
      log::info("{}: only rank 0 runs it (WORLD_SIZE={} matters for training only)",
                options.dry_run ? "dry run" : "no training", dist.world_size);
    }
  }
  const bool distributed = dist.world_size > 1 && trains && !options.dry_run;
  const bool main_rank = !distributed || dist.rank == 0;
  std::shared_ptr<ProcessGroup> group = single_process_group();
  if (distributed) {
    DistOptions dist_options;
    dist_options.backend = run.get_string("dist_backend", "auto");
    const double timeout = run.get_double("dist_timeout", 300.0);
    if (timeout <= 0) run.fail("dist_timeout", "must be a positive number of seconds");
    dist_options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000.0));
    const double bucket_mb = run.get_double("dist_bucket_mb", 4.0);
    if (bucket_mb <= 0) run.fail("dist_bucket_mb", "must be a positive number of MiB");
    dist_options.bucket_bytes = static_cast<std::size_t>(bucket_mb * 1024.0 * 1024.0);
    log::info("rank {} of {}: joining through {}:{}", dist.rank, dist.world_size, dist.master_addr, dist.master_port);
    group = init_process_group(dist, dist_options);
  }
  // Rank 0 owns the run folder for the whole command: the lock is held until run_recipe returns.
  std::optional<RunFolder> folder;
  if (main_rank) {
    RunFolderOptions folder_options;
    folder_options.trains = trains && !options.dry_run;
    folder_options.resume = options.resume;
    folder_options.overwrite = options.overwrite;
    folder_options.force_resume = options.force_resume;
    folder.emplace(RunFolder::open(dir, recipe, folder_options));
    write_file_atomic(dir / "recipe.toml", recipe.to_toml());
  }

  const int threads = apply_threads(static_cast<int>(run.get_int("threads", 0)));
  const auto seed = static_cast<std::uint64_t>(run.get_int("seed", 42));
  torch::manual_seed(seed);
  log::info("run {} → {} ({} thread{}, seed {})", recipe.origin().string(), dir.string(), threads,
            threads == 1 ? "" : "s", seed);

  const Config encoder_section = recipe.table("encoder");
  std::shared_ptr<Encoder> encoder = loaded.host->create_encoder(encoder_section.get_string("plugin"), encoder_section);
  const EncoderInfo info = encoder->info();
  log::info("encoder {} ({}): dim {}, {} parameters, pooling {}", info.name, info.model, info.dim, info.parameters,
            info.pooling);

  // Plugins in use with their versions, for reports.
  nlohmann::json plugins = nlohmann::json::array();
  auto add_plugin = [&](const std::string& name, PluginKind kind) {
    if (const PluginRecord* r = loaded.host->find(name, kind)) {
      plugins.push_back({{"kind", kind == PluginKind::kEncoder ? "encoder" : "recipe"}, {"name", r->name},
                         {"version", r->version}, {"path", r->path.string()}});
    }
  };
  add_plugin(encoder_section.get_string("plugin"), PluginKind::kEncoder);
  std::vector<std::string> recipe_plugins;  // once each, in the order the stages use them
  for (const Config& table : training_tables(recipe)) {
    const std::string name = table.get_string("plugin");
    if (std::find(recipe_plugins.begin(), recipe_plugins.end(), name) != recipe_plugins.end()) continue;
    recipe_plugins.push_back(name);
    add_plugin(name, PluginKind::kRecipe);
  }
  nlohmann::json summary = {{"recipe", nlohmann::json::parse(recipe.to_json())},
                            {"plugins", plugins},
                            {"system", to_json(system_info())},
                            {"encoder", to_json(info)},
                            {"command", current_command_line()}};
  PhaseMemory memory;

  // Every task's data is read and checked before anything is trained or encoded: a malformed file of the
  // last task fails now, naming its file and line, not after the first tasks' minutes of encoding.
  const bool evaluates = options.eval && !recipe.tables("eval").empty() && main_rank && !options.dry_run;
  std::vector<PreparedTask> prepared;
  if (evaluates) prepared = prepare_suite(recipe);
  memory.end("load");

  if (trains) {
    // Other ranks resume the run rank 0 checked (the id is already on disk when they resume).
    const std::string run_id = folder ? folder->run_id() : options.resume ? recorded_run_id(dir) : "";
    const double seconds = train_stages(*loaded.host, recipe, *encoder, dir, seed, options, group, run_id, summary);
    if (options.dry_run) return dir;
    if (!main_rank) {
      log::debug("rank {} done; rank 0 saves, evaluates and reports", group->rank());
      return dir;
    }
    encoder->save(dir / "model");
    summary["train"]["seconds"] = seconds;
    summary["train"]["model_dir"] = (dir / "model").string();
    summary["train"]["world_size"] = group->world_size();
    memory.end("train");
    log::info("trained in {:.1f}s; model saved to {}", seconds, (dir / "model").string());
    throw_if_stopped(fmt::format("training finished and the model is saved in {}; evaluate it with `sentbench eval "
                                 "RECIPE --model {}`", (dir / "model").string(), (dir / "model").string()));
  }

  // Probe: a handful of texts through encode(), checked for shape and finite values.
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor probe = encoder->encode(kProbeTexts, EncodeOptions{});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (probe.dim() != 2 || probe.size(0) != static_cast<std::int64_t>(kProbeTexts.size()) || probe.size(1) != info.dim ||
      !torch::isfinite(probe).all().item<bool>()) {
    throw PluginError(info.name, fmt::format("encode() returned a bad tensor for {} probe texts: shape {}",
                                             kProbeTexts.size(), fmt::join(probe.sizes(), "x")));
  }
  const at::Tensor unit = torch::nn::functional::normalize(probe, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const at::Tensor sims = unit.matmul(unit.t());
  summary["probe"] = {{"texts", kProbeTexts.size()}, {"seconds", seconds},
                      {"texts_per_s", seconds > 0 ? kProbeTexts.size() / seconds : 0.0},
                      {"paraphrase_cosine", {sims[0][1].item<double>(), sims[2][3].item<double>()}},
                      {"unrelated_cosine", {sims[0][2].item<double>(), sims[1][3].item<double>()}}};
  log::info("probe: {} texts encoded in {:.3f}s; paraphrase cosines {:.3f} {:.3f}, unrelated {:.3f} {:.3f}",
            kProbeTexts.size(), seconds, sims[0][1].item<double>(), sims[2][3].item<double>(),
            sims[0][2].item<double>(), sims[1][3].item<double>());

  std::vector<TaskResult> results;
  if (evaluates) {
    SuiteOptions suite;
    suite.output_dir = dir;
    suite.details = options.details;
    suite.use_cache = options.use_cache;
    suite.seed = seed;
    suite.stop_requested = [] { return stop_signal() != 0; };
    results = run_suite(prepared, *encoder, suite);
    write_file_atomic(dir / "results.json", results_to_json(results));
    std::ostringstream table;
    print_results_table(results, table);
    std::cout << table.str() << std::flush;
    summary["results"] = (dir / "results.json").string();
    memory.end("evaluate");
  }
  summary["memory"]["phases"] = memory.json();
  write_file_atomic(dir / "run.json", summary.dump(2) + "\n");
  log::info("wrote {}", (dir / "run.json").string());
  throw_if_stopped(fmt::format("{} keeps the tasks that finished; `sentbench report {}` writes the reports",
                               (dir / "results.json").string(), dir.string()));
  // Reports from everything the run folder now holds ([report].formats; default json, md, html).
  const Config report = recipe.table_or_empty("report");
  const std::vector<std::string> formats =
      report.contains("formats") ? report.get_strings("formats") : std::vector<std::string>{"json", "md", "html"};
  for (const auto& path : write_reports(dir, formats, evaluates ? &results : nullptr)) log::info("report: {}", path.string());
  throw_if_stopped("the run finished and its reports are written");  // a signal during the reports
  if (suite_failed(results)) {
    std::vector<std::string> failed;
    for (const TaskResult& r : results) {
      if (!r.failed.empty()) failed.push_back(r.name);
    }
    throw Error(fmt::format("{} of {} tasks failed ({}); the others' results are in {} and the reports",
                            failed.size(), results.size(), fmt::join(failed, ", "), (dir / "results.json").string()));
  }
  return dir;
}

}  // namespace sentbench
