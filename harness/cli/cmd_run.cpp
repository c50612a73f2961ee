// `sentbench run|train|eval RECIPE`: the whole recipe, only its training, or only its evaluation.
#include <memory>

#include "commands.hpp"
#include "runner.hpp"

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
  if (train) cmd->add_flag("--resume", options->resume, "continue from the last complete checkpoint in the run folder");
  cmd->callback([&action, options, output] {
    action = [options, output] {
      if (!output->empty()) options->output = *output;
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
