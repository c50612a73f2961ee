// What the recipe-free commands (encode, tokenize, bench encode, bench train) share: the options that name
// a model folder and a texts file, and the in-memory recipe that loads the model through the plugin host
// exactly as `sentbench run` does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runner.hpp"
#include "sentbench/encoder.hpp"

namespace sentbench::cli {

// --model, --plugin, --max-seq-length, --dtype, --threads.
struct ModelOptions {
  std::string model;
  std::string plugin = kDefaultModelPlugin;
  std::int64_t max_seq_length = 0;  // 0: the model folder's own
  std::string dtype = "fp32";       // fp32 | bf16
  int threads = 0;                  // cores to use, as [run].threads (see apply_threads); 0: all
};
void add_model_options(CLI::App& cmd, ModelOptions& options);

// --input and --jsonl.
struct InputOptions {
  std::string input;
  bool jsonl = false;
};
void add_input_options(CLI::App& cmd, InputOptions& options);
// The texts of --input (DataError naming file:line for a bad JSONL line).
std::vector<std::string> read_input_texts(const InputOptions& options);

// A TOML basic string holding `text` exactly (quotes, backslashes and control characters escaped).
std::string toml_string(const std::string& text);
// The [encoder] table of the options: plugin, model (absolute), and max_seq_length / dtype when given.
std::string encoder_toml(const ModelOptions& options);
// "float32" / "bfloat16": the spelling of recipes' dtype keys.
std::string recipe_dtype(const std::string& cli_dtype);

// A recipe assembled from a command's options, validated like a recipe file (problems name `command`).
LoadedRecipe check_options_recipe(const std::string& toml, const std::string& command);
// The [encoder] of a checked recipe, created through its plugin host.
std::shared_ptr<Encoder> create_encoder(const LoadedRecipe& loaded);

}  // namespace sentbench::cli
