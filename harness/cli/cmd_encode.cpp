// `sentbench encode`: texts file in, safetensors of their embeddings out, without a recipe.
#include <chrono>
#include <memory>

#include <torch/torch.h>

#include "commands.hpp"
#include "model_options.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "system_info.hpp"

namespace sentbench::cli {

void add_encode_command(CLI::App& app, Action& action) {
  struct Args {
    ModelOptions model;
    InputOptions input;
    std::string output;
    std::int64_t batch_tokens = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("encode", "Encode a texts file with a model folder, without a recipe; write the embeddings.");
  cmd->footer(
      "Output: a safetensors file with one tensor `embeddings`, float32 [texts, dim], rows in input order\n"
      "(written to a temporary name and renamed). A one-line summary (texts, dim, seconds, texts/s) goes to stderr.\n"
      "Example: sentbench encode --model models/roberta-base --input texts.txt --output emb.safetensors");
  add_model_options(*cmd, args->model);
  add_input_options(*cmd, args->input);
  cmd->add_option("-o,--output", args->output, "safetensors file to write")->required()->type_name("FILE");
  cmd->add_option("--batch-tokens", args->batch_tokens,
                  "padded tokens per forward batch (texts are sorted by length first); 0 = the encoder's default")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->callback([&action, args] {
    action = [args] {
      const int threads = apply_threads(args->model.threads);
      const std::vector<std::string> texts = read_input_texts(args->input);
      const LoadedRecipe loaded = check_options_recipe(encoder_toml(args->model), "encode");
      const std::shared_ptr<Encoder> encoder = create_encoder(loaded);
      const EncoderInfo info = encoder->info();
      log::info("encoder {} ({}): dim {}, max {} tokens, pooling {}{}, {} core{}", info.name, info.model, info.dim,
                info.max_tokens, info.pooling, info.normalize ? ", normalised" : "", threads, threads == 1 ? "" : "s");

      EncodeOptions options;
      if (args->batch_tokens > 0) options.batch_tokens = args->batch_tokens;
      options.show_progress = true;
      const auto start = std::chrono::steady_clock::now();
      const at::Tensor embeddings = encoder->encode(texts, options).to(torch::kFloat32).contiguous();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto n = static_cast<std::int64_t>(texts.size());
      if (embeddings.dim() != 2 || embeddings.size(0) != n || embeddings.size(1) != info.dim) {
        throw PluginError(info.name, fmt::format("encode() returned shape [{}] for {} texts of dim {}",
                                                 fmt::join(embeddings.sizes(), ", "), n, info.dim));
      }
      TensorView view{DType::kF32, {n, info.dim}, reinterpret_cast<const std::byte*>(embeddings.data_ptr<float>()),
                      static_cast<std::size_t>(embeddings.numel()) * sizeof(float)};
      write_safetensors(args->output, {{"embeddings", view}},
                        {{"plugin", info.name}, {"model", info.model}, {"pooling", info.pooling},
                         {"normalize", info.normalize ? "true" : "false"}, {"max_tokens", std::to_string(info.max_tokens)},
                         {"input", args->input.input}});
      log::info("encoded {} texts → {} [{} x {}] in {:.2f}s ({:.1f} texts/s)", n, args->output, n, info.dim, seconds,
                seconds > 0 ? static_cast<double>(n) / seconds : 0.0);
      return 0;
    };
  });
}

}  // namespace sentbench::cli
