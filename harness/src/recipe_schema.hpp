// The keys a recipe may hold, declared in one place, and the validation `sentbench validate` runs.
#pragma once

#include <string>
#include <vector>

#include "sentbench/config.hpp"
#include "sentbench/eval_keys.hpp"
#include "sentbench/plugin.hpp"

namespace sentbench {

class PluginHost;

// The harness's own keys of [run], [encoder], [train], [[stage]], [[eval]] and [report] (without plugin
// keys).
const std::vector<KeySpec>& run_keys();
const std::vector<KeySpec>& encoder_keys();  // "plugin" plus harness-level encoder keys
const std::vector<KeySpec>& train_keys();
// Keys every [[stage]] table has besides its plugin's: "plugin" and "name".
const std::vector<KeySpec>& stage_keys();
const std::vector<KeySpec>& eval_keys();     // keys every [[eval]] has ("type", "name", ...)
const std::vector<KeySpec>& report_keys();


// The name of the `index`-th (0-based) [[stage]] table: its `name`, else "<index + 1>-<plugin>".
std::string stage_name(const Config& stage, std::size_t index);
// The training tables of a recipe: [train], or every [[stage]] table in order (both when a recipe that
// validation refuses has both). Tables of the wrong type are left out.
std::vector<Config> training_tables(const Config& recipe);

// One problem found in a recipe.
struct RecipeProblem {
  SourceLocation where;
  std::string message;
  std::string str() const;  // "file:line:col: message"
};

// Checks every key of the recipe against the declared keys (plugin sections against the plugin's own
// KeySpecs when `host` is given): unknown keys with the closest valid key, wrong types with the expected
// type, missing required keys, unknown plugins and eval types; [train] beside [[stage]], stage names that
// repeat or are no folder name, eval_tasks naming no [[eval]] task. Returns all problems, empty when valid.
std::vector<RecipeProblem> validate_recipe(const Config& recipe, const PluginHost* host);

// Checks one table against a key list; used for every section and by plugins for their own checks.
void validate_table(const Config& table, const std::vector<KeySpec>& keys, std::vector<RecipeProblem>& out);

}  // namespace sentbench
