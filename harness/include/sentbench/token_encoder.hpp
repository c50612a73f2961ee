// TokenEncoder: token-level access to an encoder, for objectives that need more than pooled vectors
// (masked-language-model pre-training). Optional: an encoder plugin that supports it derives from both
// Encoder and TokenEncoder; a recipe finds it with dynamic_cast<TokenEncoder*>(&encoder) and, when that
// is null, fails with a ConfigError naming the encoder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "sentbench/encoder.hpp"
#include "sentbench/export.hpp"

namespace sentbench {

// The ids a masking objective needs.
struct SpecialTokens {
  std::int32_t pad = -1, bos = -1, eos = -1, unk = -1, mask = -1;  // -1: the vocabulary has none
  std::int64_t vocab_size = 0;
};

class SENTBENCH_API TokenEncoder {
 public:
  virtual ~TokenEncoder();
  // Final hidden states of every token, texts laid end to end in row order: [batch.tokens(), hidden].
  // Respects grad mode and train(on) (dropout) as Encoder::forward does, and the encoder's dtype setting.
  virtual at::Tensor token_states(const TokenBatch& batch) = 0;
  // The input word-embedding matrix [vocab_size, hidden]: one of parameters(), so an LM head can tie
  // its output projection to it.
  virtual at::Tensor word_embeddings() = 0;
  virtual SpecialTokens special_tokens() const = 0;
  // Writes a model folder holding the encoder's tensors under `prefix` (e.g. "roberta.") and `head`'s
  // tensors under their own names (e.g. "lm_head.dense.weight"), config.json's "architectures" set to
  // `architecture` (e.g. "RobertaForMaskedLM"), plus the tokenizer files: a folder Hugging Face's
  // AutoModelForMaskedLM loads, and that this encoder plugin loads again (ignoring the head).
  virtual void save_with_head(const std::filesystem::path& dir,
                              const std::vector<std::pair<std::string, at::Tensor>>& head,
                              const std::string& prefix, const std::string& architecture) const = 0;
};

}  // namespace sentbench
