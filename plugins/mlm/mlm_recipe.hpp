// MlmRecipe: masked-language-model pre-training of a token-level encoder (RoBERTa) on a text corpus, on
// the SDK's training services. Its own parts: the corpus stream, dynamic masking, RoBERTa's LM head tied
// to the word embeddings, the loss over the selected tokens, held-out accuracy and perplexity, and the
// masked-LM model folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "sentbench/recipe.hpp"
#include "sentbench/training.hpp"

namespace sentbench::mlm {

extern const KeySpec kTrainKeys[];
extern const std::size_t kTrainKeyCount;

// The settings of [train] (or a [[stage]]), read and checked once.
struct MlmSettings {
  TrainingSettings train;
  std::filesystem::path data;
  std::int64_t batch_size = 0;
  std::int64_t max_seq_length = 0;  // 0: the encoder's
  double mask_rate = 0.15;
  std::int64_t held_out = 1000;
  std::int64_t shuffle_buffer = 4096;
  std::int64_t prefetch = 2;
};

// ConfigError naming file:line, the key and the fix for every bad value, and for a data file that is not there.
MlmSettings read_settings(const Config& config);

// RoBERTa's masked-LM head (RobertaLMHead): dense H→H, exact GELU, LayerNorm, then the decoder, whose
// weight IS the encoder's word-embedding matrix (tied: the same tensor, trained by both uses) plus a bias.
class LmHead {
 public:
  // RoBERTa's LayerNorm epsilon (config.layer_norm_eps of every public RoBERTa); TokenEncoder does not
  // expose the encoder's own.
  static constexpr double kLayerNormEps = 1e-5;

  // N(0, 0.02) dense weight from a generator of its own (the global one drives dropout), zero biases,
  // unit LayerNorm, as Hugging Face initialises it.
  LmHead(const at::Tensor& word_embeddings, std::uint64_t seed);
  // Token states [M, H] → logits [M, vocab].
  at::Tensor forward(const at::Tensor& states) const;
  // What the optimizer trains beside the encoder (the tied decoder weight is the encoder's already).
  std::vector<at::Tensor> parameters() const;
  // The tensors as RobertaForMaskedLM names them, the tied ones included twice as Hugging Face writes them.
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  const at::Tensor& decoder_weight() const { return decoder_; }

 private:
  at::Tensor dense_w_, dense_b_, norm_w_, norm_b_, bias_;
  at::Tensor decoder_;  // the word embeddings
};

// Trains an encoder that is also a TokenEncoder with the masked-LM objective.
class MlmRecipe : public Recipe {
 public:
  explicit MlmRecipe(const Config& config);
  void train(Encoder& encoder, TrainContext& context) override;
  const MlmSettings& settings() const { return settings_; }

 private:
  MlmSettings settings_;
};

}  // namespace sentbench::mlm
