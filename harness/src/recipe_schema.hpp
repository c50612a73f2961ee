// The keys a recipe may hold, declared in one place, and the validation `sentbench validate` runs.
#pragma once

#include <string>
#include <vector>

#include "sentbench/config.hpp"
#include "sentbench/plugin.hpp"

namespace sentbench {

class PluginHost;

// The harness's own keys of [run], [encoder], [train], [[eval]] and [report] (without plugin keys).
const std::vector<KeySpec>& run_keys();
const std::vector<KeySpec>& encoder_keys();  // "plugin" plus harness-level encoder keys
const std::vector<KeySpec>& train_keys();
const std::vector<KeySpec>& eval_keys();     // keys every [[eval]] has ("type", "name", ...)
const std::vector<KeySpec>& report_keys();

// Task types register the extra keys of their [[eval]] tables here (a registry, not an if/else chain).
void register_eval_type(const std::string& type, std::vector<KeySpec> keys);
std::vector<std::string> eval_types();

// One problem found in a recipe.
struct RecipeProblem {
  SourceLocation where;
  std::string message;
  std::string str() const;  // "file:line:col: message"
};

// Checks every key of the recipe against the declared keys (plugin sections against the plugin's own
// KeySpecs when `host` is given): unknown keys with the closest valid key, wrong types with the expected
// type, missing required keys, unknown plugins and eval types. Returns all problems, empty when valid.
std::vector<RecipeProblem> validate_recipe(const Config& recipe, const PluginHost* host);

// Checks one table against a key list; used for every section and by plugins for their own checks.
void validate_table(const Config& table, const std::vector<KeySpec>& keys, std::vector<RecipeProblem>& out);

}  // namespace sentbench
