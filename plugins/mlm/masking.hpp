// Masked-LM corruption as pure functions of the token rows and a seeded generator (BERT / RoBERTa):
// a share of the non-special tokens is selected for prediction; of those, 80% become <mask>, 10% a random
// non-special token and 10% stay as they are.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "sentbench/token_encoder.hpp"

namespace sentbench::mlm {

// What to corrupt and how.
struct MaskingSpec {
  double rate = 0.15;          // share of non-special tokens selected for prediction
  double mask_share = 0.8;     // of the selected: replaced by <mask>
  double random_share = 0.1;   // of the selected: replaced by a random non-special token (the rest are kept)
  std::int32_t mask_id = -1;
  std::int64_t vocab_size = 0;
  std::vector<bool> special;   // by id: never selected, never a random replacement

  // Throws ConfigError when the vocabulary has no <mask> or no ordinary token.
  static MaskingSpec from(const SpecialTokens& tokens, double rate);
  bool is_special(std::int32_t id) const;
};

// One selected token: where it is and what the model must predict there.
struct Selected {
  std::int32_t row = 0;
  std::int32_t column = 0;
  std::int32_t target = 0;  // the original id
};

struct MaskedRows {
  std::vector<std::vector<std::int32_t>> ids;  // the rows with the selected tokens replaced (or kept)
  std::vector<Selected> selected;              // in row order, then column order
};

// Selects each non-special token with probability spec.rate (a text whose draw selected none of its
// non-special tokens gets one, uniformly, so every text with content teaches something), then replaces
// each selected token by <mask> / a random non-special id / itself with the spec's shares. Every draw
// comes from `rng` in a fixed order, so the same generator state gives the same result on any platform.
MaskedRows mask_tokens(const std::vector<std::vector<std::int32_t>>& rows, const MaskingSpec& spec,
                       std::mt19937_64& rng);

// The rows [begin, end) of a masked batch as a shard of its own: the packed index of each selected token
// (the shard's rows laid end to end, the layout of TokenEncoder::token_states) and its target.
struct MaskedShard {
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> targets;
};
MaskedShard shard_rows(const MaskedRows& masked, std::size_t begin, std::size_t end);

}  // namespace sentbench::mlm
