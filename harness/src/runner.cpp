// The harness around the plugins: recipe in, run folder out.
#include "runner.hpp"

#include <chrono>
#include <csignal>
#include <optional>
#include <algorithm>
#include <cmath>
#include <tuple>
#include <fstream>
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
#include "system_info.hpp"

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
  register_builtin_tasks();  // their [[eval]] keys take part in validation
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

fs::path run_recipe(const RunOptions& options) {
  std::vector<std::string> overrides = options.overrides;
  if (options.model) {
    // A model folder replaces the recipe's encoder source; its own files give pooling and length.
    overrides.push_back("encoder.plugin=\"roberta\"");
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
  const bool trains = options.train && recipe.contains("train");
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
  if (recipe.contains("train")) add_plugin(recipe.table("train").get_string("plugin"), PluginKind::kRecipe);
  nlohmann::json summary = {{"recipe", nlohmann::json::parse(recipe.to_json())},
                            {"plugins", plugins},
                            {"system", to_json(system_info())},
                            {"encoder", to_json(info)}};

  if (options.train && recipe.contains("train")) {
    const Config train_section = recipe.table("train");
    std::shared_ptr<Recipe> trainer = loaded.host->create_recipe(train_section.get_string("plugin"), train_section);
    TrainContext context;
    context.config = train_section;
    context.output_dir = dir;
    context.seed = seed;
    context.resume = options.resume;
    context.dry_run = options.dry_run;
    context.group = group;
    context.rank = group->rank();
    context.world_size = group->world_size();
    context.allow_world_size_change = options.allow_world_size_change;
    // Other ranks resume the run rank 0 checked (the id is already on disk when they resume).
    context.run_id = folder ? folder->run_id() : options.resume ? recorded_run_id(dir) : "";
    context.stop_requested = [] { return stop_signal() != 0; };
    // One JSON line per step. On resume, lines from steps after the checkpoint (logged before the crash)
    // are dropped when the recipe logs its first step again, so the log reads as one uninterrupted run.
    const fs::path log_path = dir / "train_log.jsonl";
    auto train_log = std::make_shared<std::ofstream>();
    if (!options.resume && main_rank) train_log->open(log_path, std::ios::trunc);
    context.log_metrics = [train_log, log_path, main_rank](std::int64_t step, const MetricRow& row, const TagRow& tags) {
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
    const auto start = std::chrono::steady_clock::now();
    try {
      trainer->train(*encoder, context);
    } catch (const DistributedError&) {
      throw;
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      if (const int sig = stop_signal()) {
        throw Interrupted(sig, fmt::format("{}; continue with --resume", e.what()));
      }
      group->report_failure(e.what());
      throw;
    } catch (const std::exception& e) {
      group->report_failure(e.what());  // the other ranks name this one and its reason
      throw;
    }
    if (options.dry_run) return dir;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!main_rank) {
      log::debug("rank {} done; rank 0 saves, evaluates and reports", group->rank());
      return dir;
    }
    encoder->save(dir / "model");
    summary["train"] = {{"seconds", seconds}, {"model_dir", (dir / "model").string()},
                        {"world_size", group->world_size()}};
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

  if (options.eval && !recipe.tables("eval").empty()) {
    SuiteOptions suite;
    suite.output_dir = dir;
    suite.details = options.details;
    suite.use_cache = options.use_cache;
    suite.seed = seed;
    suite.stop_requested = [] { return stop_signal() != 0; };
    const auto results = run_suite(recipe, *encoder, suite);
    write_file_atomic(dir / "results.json", results_json(results));
    std::ostringstream table;
    print_results_table(results, table);
    std::cout << table.str() << std::flush;
    summary["results"] = (dir / "results.json").string();
  }
  write_file_atomic(dir / "run.json", summary.dump(2) + "\n");
  log::info("wrote {}", (dir / "run.json").string());
  throw_if_stopped(fmt::format("{} keeps the tasks that finished; `sentbench report {}` writes the reports",
                               (dir / "results.json").string(), dir.string()));
  // Reports from everything the run folder now holds ([report].formats; default json, md, html).
  const Config report = recipe.table_or_empty("report");
  const std::vector<std::string> formats =
      report.contains("formats") ? report.get_strings("formats") : std::vector<std::string>{"json", "md", "html"};
  for (const auto& path : write_reports(dir, formats)) log::info("report: {}", path.string());
  throw_if_stopped("the run finished and its reports are written");  // a signal during the reports
  return dir;
}

}  // namespace sentbench
