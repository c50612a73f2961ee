// Shared options and the in-memory recipe of the recipe-free commands.
#include "model_options.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "sentbench/data/text_list.hpp"

namespace fs = std::filesystem;

namespace sentbench::cli {

void add_model_options(CLI::App& cmd, ModelOptions& options) {
  cmd.add_option("--model", options.model,
                 "model folder: Hugging Face (config.json, model.safetensors, vocab.json + merges.txt) or "
                 "sentence-transformers; a plain HF folder gets mean pooling and no normalisation, a "
                 "sentence-transformers folder its own pooling, normalisation and max length")
      ->required()->check(CLI::ExistingDirectory);
  cmd.add_option("--plugin", options.plugin, "encoder plugin that loads the folder")->capture_default_str();
  cmd.add_option("--max-seq-length", options.max_seq_length,
                 "tokens per text, <s> and </s> included (default: the folder's own)")
      ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 30))->type_name("N");
  cmd.add_option("--dtype", options.dtype, "fp32, or bf16: bf16 autocast for the matmuls")
      ->check(CLI::IsMember({"fp32", "bf16"}))->capture_default_str();
  cmd.add_option("--threads", options.threads,
                 "cores to use, as [run].threads: the encoder and the training loop give them to LibTorch's or "
                 "OpenBLAS's pool per kind of work; 0 = all this process may use")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
}

void add_input_options(CLI::App& cmd, InputOptions& options) {
  cmd.add_option("--input", options.input,
                 "texts file (.gz too): one text a line, blank lines being empty texts; with --jsonl one JSON string "
                 "(or {\"text\": ...} object) a line")
      ->required()->check(CLI::ExistingFile);
  cmd.add_flag("--jsonl", options.jsonl, "read --input as JSON lines (texts may then hold newlines and any whitespace)");
}

std::vector<std::string> read_input_texts(const InputOptions& options) {
  return read_text_list(options.input, options.jsonl ? TextListFormat::kJsonl : TextListFormat::kLines);
}

std::string toml_string(const std::string& text) { return nlohmann::json(text).dump(); }

std::string recipe_dtype(const std::string& cli_dtype) { return cli_dtype == "bf16" ? "bfloat16" : "float32"; }

std::string encoder_toml(const ModelOptions& options) {
  std::string toml = "[encoder]\nplugin = " + toml_string(options.plugin) + "\nmodel = " +
                     toml_string(fs::absolute(options.model).lexically_normal().string()) + "\n";
  if (options.max_seq_length > 0) toml += "max_seq_length = " + std::to_string(options.max_seq_length) + "\n";
  if (options.dtype != "fp32") toml += "dtype = " + toml_string(recipe_dtype(options.dtype)) + "\n";
  return toml;
}

LoadedRecipe check_options_recipe(const std::string& toml, const std::string& command) {
  return check_recipe(Config::parse(toml, "`sentbench " + command + "` options"));
}

std::shared_ptr<Encoder> create_encoder(const LoadedRecipe& loaded) {
  const Config section = loaded.recipe.table("encoder");
  return loaded.host->create_encoder(section.get_string("plugin"), section);
}

}  // namespace sentbench::cli
