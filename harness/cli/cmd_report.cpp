// `sentbench report RUN_DIR`, `sentbench compare A B [C ...]` and `sentbench regress --baseline --current`:
// the report files of a run, runs side by side, and the nightly regression gate (exit 1 on regression).
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "compare.hpp"
#include "history.hpp"
#include "report.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;

namespace sentbench::cli {
namespace {

void add_report(CLI::App& app, Action& action) {
  struct Args {
    std::string run_dir;
    std::vector<std::string> formats;
    std::string output;
    std::string mteb_dir;
    std::vector<std::string> mteb_languages = {"eng-Latn"};
    std::string mteb_version;
    bool print = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Write a run's report files (report.json, report.md, report.html) from its run folder, and/or export its "
                "task results in MTEB's results layout.");
  cmd->add_option("run_dir", args->run_dir, "run folder (holds run.json, results.json, train_log.jsonl)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("-f,--format", args->formats,
                  "formats to write: json, md, html, mteb (default: the recipe's [report].formats, else json, md and html; "
                  "none when only --mteb is given)")
      ->delimiter(',')
      ->check(CLI::IsMember(report_formats()));
  cmd->add_option("-o,--output", args->output, "folder for the report files (default: the run folder)");
  cmd->add_option("--mteb", args->mteb_dir, "also write <task>.json files in MTEB's results format into this folder");
  cmd->add_option("--mteb-language", args->mteb_languages, "language(s) of the MTEB score entries (ISO 639-3 + script)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--mteb-version", args->mteb_version,
                  "value of the files' mteb_version field (default null; mteb 1.x loaders need a version such as 1.12.48)");
  cmd->add_flag("--print", args->print, "also print report.md to standard output");
  cmd->callback([&action, args] {
    action = [args] {
      const fs::path run_dir = args->run_dir;
      // This process's peak memory says nothing about the run: keep what the run recorded, if anything.
      AssembleOptions options;
      if (fs::exists(run_dir / "report.json")) {
        try {
          options.peak_rss_bytes = load_report(run_dir / "report.json").peak_rss_bytes;
        } catch (const Error& e) {
          log::warn("ignoring the old {}: {}", (run_dir / "report.json").string(), e.what());
        }
      }
      const Report report = assemble_report(run_dir, options);
      std::vector<std::string> formats = args->formats;
      if (formats.empty() && args->mteb_dir.empty()) formats = recipe_formats(report);
      const fs::path out_dir = args->output.empty() ? run_dir : fs::path(args->output);
      for (const fs::path& p : write_report_files(report, out_dir, formats)) std::cerr << "wrote " << p.string() << '\n';
      if (!args->mteb_dir.empty()) {
        MtebExportOptions mteb;
        mteb.languages = args->mteb_languages;
        mteb.mteb_version = args->mteb_version;
        const auto files = export_mteb(report, args->mteb_dir, mteb);
        std::cerr << fmt::format("wrote {} MTEB result file{} into {}\n", files.size(), files.size() == 1 ? "" : "s", args->mteb_dir);
      }
      if (args->print) std::cout << render_markdown(report);
      return 0;
    };
  });
}

void add_compare(CLI::App& app, Action& action) {
  struct Args {
    std::vector<std::string> reports;
    BootstrapOptions bootstrap;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare runs side by side: shared metrics with deltas against the first, and per task a paired bootstrap "
                 "of the main score (B - A) with its interval.");
  cmd->add_option("reports", args->reports, "report.json files or run folders; the first is the reference (A)")
      ->required()
      ->expected(2, -1)
      ->check(CLI::ExistingPath);
  cmd->add_option("--resamples", args->bootstrap.resamples, "bootstrap resamples")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->bootstrap.seed, "bootstrap seed (same seed, same interval)")->capture_default_str();
  cmd->add_option("--alpha", args->bootstrap.alpha, "1 - interval level (0.05: 95% interval)")->capture_default_str()->check(CLI::Range(1e-6, 0.5));
  cmd->add_flag("--json", args->json, "print the comparison as JSON");
  cmd->callback([&action, args] {
    action = [args] {
      std::vector<Report> reports;
      for (const std::string& r : args->reports) reports.push_back(load_report(r));
      const Comparison c = compare_reports(reports, args->reports, args->bootstrap);
      std::cout << (args->json ? comparison_json(c).dump(2) + "\n" : render_comparison(c));
      return 0;
    };
  });
}

void add_regress(CLI::App& app, Action& action) {
  struct Args {
    std::vector<std::string> baselines, currents;  // several: runs of one recipe at different seeds
    std::string history;     // --history DIR: the baseline is the median of the latest passing runs there
    std::size_t window = 5;
    Tolerances flags;
    bool no_significance = false;
  };
  auto args = std::make_shared<Args>();
  const Tolerances defaults;
  CLI::App* cmd = app.add_subcommand(
      "regress", "The regression gate: exit 1 when the current run's main scores or throughput fell behind the baseline "
                 "beyond the tolerances (defaults, overridden by the current recipe's [report.tolerance], overridden by "
                 "these flags); exit 0 otherwise.");
  auto* baseline = cmd->add_option("--baseline", args->baselines,
                                   "the reference: report.json or run folder; several (the same recipe at different seeds) "
                                   "gate the mean main score against the between-seed spread")
                       ->check(CLI::ExistingPath);
  auto* history = cmd->add_option("--history", args->history,
                                  "instead of --baseline: a folder of runs (e.g. runs/nightly); the baseline is the median "
                                  "of the last --window runs by date in which every task ran (the current run and runs "
                                  "dated after it left out). The paired bootstrap needs one run's items, so a median "
                                  "baseline is gated on the tolerances only")
                      ->check(CLI::ExistingDirectory)
                      ->excludes(baseline);
  cmd->add_option("--window", args->window, "--history: how many of the latest passing runs make the median")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->needs(history);
  cmd->add_option("--current", args->currents,
                  "the run to check: report.json or run folder; several: runs of one recipe at different seeds")
      ->required()
      ->check(CLI::ExistingPath);
  auto* max_drop = cmd->add_option("--max-drop", args->flags.main_score,
                                   fmt::format("largest allowed absolute drop of a main score (default {})", defaults.main_score));
  auto* min_drop = cmd->add_option("--min-drop", args->flags.min_drop,
                                   fmt::format("a drop the bootstrap finds significant fails only above this (default {})", defaults.min_drop));
  auto* alpha = cmd->add_option("--alpha", args->flags.alpha, fmt::format("1 - bootstrap interval level (default {})", defaults.alpha))
                    ->check(CLI::Range(1e-6, 0.5));
  auto* no_sig = cmd->add_flag("--no-significance", args->no_significance, "only the absolute tolerance decides; no bootstrap test");
  auto* throughput = cmd->add_option("--throughput-drop", args->flags.throughput,
                                     fmt::format("largest allowed relative drop in items/s, pairs/s, tokens/s (default {})", defaults.throughput));
  cmd->add_option("--min-timed-seconds", args->flags.min_timed_seconds, "throughput timed over less than this is not gated")
      ->capture_default_str();
  cmd->add_option("--resamples", args->flags.resamples, "bootstrap resamples")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->flags.seed, "bootstrap seed")->capture_default_str();
  cmd->add_flag("--allow-skipped", args->flags.allow_skipped,
                "a task the current run skipped (optional, data absent) is listed but not a regression; a task "
                "missing altogether still is");
  cmd->callback([&action, args, max_drop, min_drop, alpha, no_sig, throughput] {
    action = [args, max_drop, min_drop, alpha, no_sig, throughput] {
      if (args->baselines.empty() && args->history.empty()) {
        throw UsageError("regress needs a reference: --baseline FILE (a report.json or run folder) or --history DIR "
                         "(a folder of runs whose latest passing ones make a median baseline)");
      }
      if (!args->history.empty() && args->currents.size() != 1) {
        throw UsageError(fmt::format("--history gates one current run, not {}: pass one --current", args->currents.size()));
      }
      std::vector<Report> currents, baselines;
      for (const std::string& c : args->currents) currents.push_back(load_report(c));
      const Report& current = currents.front();
      const std::string current_source = fmt::format("{}", fmt::join(args->currents, " "));
      std::optional<MedianBaseline> median;
      if (!args->history.empty()) {
        median = median_baseline(load_history({fs::path(args->history)}), args->window, args->currents.front(),
                                 run_date(args->currents.front()));
      } else {
        for (const std::string& b : args->baselines) baselines.push_back(load_report(b));
      }
      Tolerances tol = tolerances_from_recipe(current.recipe, Tolerances{});
      tol.resamples = args->flags.resamples;
      tol.seed = args->flags.seed;
      tol.min_timed_seconds = args->flags.min_timed_seconds;
      tol.allow_skipped = args->flags.allow_skipped;
      if (max_drop->count()) tol.main_score = args->flags.main_score, tol.origin["main_score"] = "flag";
      if (min_drop->count()) tol.min_drop = args->flags.min_drop, tol.origin["min_drop"] = "flag";
      if (alpha->count()) tol.alpha = args->flags.alpha, tol.origin["alpha"] = "flag";
      if (no_sig->count()) tol.significance = false, tol.origin["significance"] = "flag";
      if (throughput->count()) tol.throughput = args->flags.throughput, tol.origin["throughput"] = "flag";
      if (median) {
        std::cout << fmt::format("baseline: median of the last {} passing run{} under {} (window {}; a drop is significant "
                                 "outside the window's prediction interval, as a median has no per-item scores to "
                                 "bootstrap):\n",
                                 median->runs.size(), median->runs.size() == 1 ? "" : "s", args->history, args->window);
        for (const std::string& used : median->used) std::cout << "  " << used << '\n';
        for (const std::string& note : median->notes) std::cout << "  " << note << '\n';
        std::cout << '\n';
      }
      const RegressionReport verdict = median ? check_against_median(*median, current, tol) : check_regressions(baselines, currents, tol);
      const std::string baseline_source = median ? fmt::format("median of {} runs under {}", median->runs.size(), args->history)
                                                 : fmt::format("{}", fmt::join(args->baselines, " "));
      std::cout << render_regressions(verdict, baseline_source, current_source) << std::flush;
      return verdict.regressed() ? 1 : 0;
    };
  });
}

}  // namespace

void add_report_commands(CLI::App& app, Action& action) {
  add_report(app, action);
  add_compare(app, action);
  add_regress(app, action);
}

}  // namespace sentbench::cli
