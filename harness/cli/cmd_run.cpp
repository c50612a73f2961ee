// `sentbench run|train|eval RECIPE`: the whole recipe, only its training, or only its evaluation.
#include <memory>

#include "commands.hpp"
#include "runner.hpp"
#include "sentbench/errors.hpp"

namespace sentbench::cli {
namespace {

// Adds one of the three commands; they share the recipe, --set and --output options.
void add_one(CLI::App& app, Action& action, const char* name, const char* help, bool train, bool eval) {
  auto options = std::make_shared<RunOptions>();
  options->train = train;
  options->eval = eval;
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("recipe", options->recipe, "recipe file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", options->overrides,
                  "override a recipe key, TOML syntax: --set train.lr=3e-5 --set run.name=trial")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", *output, "run folder (default: [run].output_dir/[run].name)");
  auto nproc = std::make_shared<int>(1);
  if (train) {
    cmd->add_option("--nproc", *nproc,
                    "train on N local ranks (processes) through c10d/Gloo, as `torchrun --nproc-per-node N "
                    "--no-python sentbench train` would; the global batch is split between them")
        ->check(CLI::Range(1, 1024));
    cmd->add_flag("--allow-world-size-change", options->allow_world_size_change,
                  "with --resume: accept a checkpoint written at another number of ranks (per-rank shards and "
                  "random streams change)");
    cmd->add_flag("--resume", options->resume,
                  "continue the run in the run folder from its last complete checkpoint (a staged recipe: in the "
                  "first unfinished [[stage]]); refused when the recipe's [encoder], [train] or [[stage]] tables or "
                  "seed differ from the run's (run_identity.json lists them)");
    cmd->add_flag("--force-resume", options->force_resume,
                  "with --resume: continue although the training settings changed (the differences are logged)");
    cmd->add_flag("--overwrite", options->overwrite,
                  "start afresh in a run folder that holds another run's checkpoints, moving that run's files into "
                  "<folder>/superseded-<time>/ (without it such a folder is refused)");
    cmd->add_flag("--dry-run", options->dry_run,
                  "print parameters, tokens and FLOPs per step, memory and time estimates; do not train");
  }
  auto model = std::make_shared<std::string>();
  if (eval) {
    cmd->add_flag("--details", options->details,
                  "also write per-item files: TREC run files, cluster assignments, pair scores (run folder/details)");
    cmd->add_flag("--no-cache", [options](std::int64_t) { options->use_cache = false; },
                  "re-encode even when the embedding cache has this model's vectors");
    cmd->add_option("--model", *model, "evaluate this model folder (Hugging Face / sentence-transformers) with the "
                                       "recipe's [[eval]] tasks")->check(CLI::ExistingDirectory);
    cmd->add_option("--plugin", options->model_plugin, "encoder plugin that loads the --model folder")
        ->capture_default_str();
  }
  cmd->callback([&action, options, output, model, nproc] {
    if (*nproc > 1 && !options->dry_run) {  // a dry run estimates one process's steps: no ranks to start
      action = [nproc] { return launch_local_ranks(*nproc, command_line_without("--nproc")); };
      return;
    }
    action = [options, output, model] {
      if (options->force_resume && !options->resume) throw UsageError("--force-resume goes with --resume");
      if (options->overwrite && options->resume) {
        throw UsageError("--overwrite starts a new run and --resume continues one: pass one of them");
      }
      if (!output->empty()) options->output = *output;
      if (!model->empty()) options->model = *model;
      run_recipe(*options);
      return 0;
    };
  });
}

}  // namespace

void add_run_commands(CLI::App& app, Action& action) {
  add_one(app, action, "run", "Train (if the recipe has [train]), evaluate ([[eval]]) and report.", true, true);
  add_one(app, action, "train", "Only the training part of a recipe; saves the model in the run folder.", true, false);
  add_one(app, action, "eval", "Only the evaluation part of a recipe.", false, true);
}

}  // namespace sentbench::cli
