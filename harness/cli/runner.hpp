// Runner: what `sentbench run/train/eval` do around the plugins — load and check the recipe, create
// the encoder and recipe, prepare the run folder, train, evaluate, write the run summary.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plugin_host.hpp"
#include "sentbench/config.hpp"

namespace sentbench {

// The encoder plugin that loads a model folder given on the command line (--model) unless --plugin
// names another: the built-in backend for Hugging Face and sentence-transformers folders.
inline constexpr const char* kDefaultModelPlugin = "roberta";

struct RunOptions {
  std::filesystem::path recipe;
  std::vector<std::string> overrides;      // --set a.b=value
  std::optional<std::filesystem::path> output;  // replaces [run].output_dir/<name>
  bool train = true;                        // run [train] when present
  bool eval = true;                         // run [[eval]] when present
  bool resume = false;
  bool dry_run = false;                     // train: estimate cost, do not train
  bool details = false;                     // per-item files (run files, cluster assignments, pair scores)
  bool use_cache = true;                    // embedding cache (--no-cache bypasses it)
  std::optional<std::filesystem::path> model;  // --model DIR: evaluate this folder with the recipe's tasks
  std::string model_plugin = kDefaultModelPlugin;  // --plugin: the encoder plugin that loads --model (as `encode --plugin`)
  bool allow_world_size_change = false;     // --resume from a checkpoint written at another world size
  bool overwrite = false;                   // a fresh run moves another run's files aside instead of refusing
  bool force_resume = false;                // --resume although the training settings changed
};

// Loads the recipe with overrides, builds the plugin host from the default folders plus the recipe's
// [run].plugin_dirs, and validates everything; ConfigError lists every problem found.
struct LoadedRecipe {
  Config recipe;
  std::unique_ptr<PluginHost> host;
};
LoadedRecipe load_and_check(const std::filesystem::path& file, const std::vector<std::string>& overrides);
// The same for a recipe already in memory (e.g. assembled from a command's options by Config::parse).
LoadedRecipe check_recipe(Config recipe);

// The run folder a recipe writes to: --output, else [run].output_dir / [run].name.
std::filesystem::path run_dir_for(const Config& recipe, const std::optional<std::filesystem::path>& output);

// Runs a recipe end to end; returns the run folder.
std::filesystem::path run_recipe(const RunOptions& options);

}  // namespace sentbench
