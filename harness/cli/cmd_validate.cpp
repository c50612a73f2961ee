// `sentbench validate RECIPE`: prints the resolved recipe and exits 0, or every problem and exits 2.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "runner.hpp"
#include "sentbench/errors.hpp"

namespace sentbench::cli {

void add_validate_command(CLI::App& app, Action& action) {
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a recipe without running it: every key, type and plugin. Prints the resolved recipe.");
  cmd->add_option("recipe", args->recipe, "recipe file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", args->overrides, "override a recipe key (TOML syntax)")->type_name("KEY=VALUE");
  cmd->add_flag("--no-print", args->quiet, "do not print the resolved recipe");
  cmd->callback([&action, args] {
    action = [args] {
      const LoadedRecipe loaded = load_and_check(args->recipe, args->overrides);
      if (!args->quiet) std::cout << loaded.recipe.to_toml();
      std::cerr << args->recipe << ": ok\n";
      return 0;
    };
  });
}

}  // namespace sentbench::cli
