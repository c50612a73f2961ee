// Masked-LM corruption (masking.hpp). Draws use the portable helpers of seeded_random.hpp, so a
// checkpoint's replay masks exactly as the original run did.
#include "masking.hpp"

#include <fmt/format.h>

#include "sentbench/data/seeded_random.hpp"
#include "sentbench/errors.hpp"

namespace sentbench::mlm {

MaskingSpec MaskingSpec::from(const SpecialTokens& tokens, double rate) {
  MaskingSpec spec;
  spec.rate = rate;
  spec.mask_id = tokens.mask;
  spec.vocab_size = tokens.vocab_size;
  if (tokens.mask < 0 || tokens.mask >= tokens.vocab_size)
    throw ConfigError("the encoder's vocabulary has no <mask> token, which masked-LM training needs; use a "
                      "tokenizer with <mask> (sentbench tokenizer train adds it)");
  spec.special.assign(static_cast<std::size_t>(tokens.vocab_size), false);
  std::int64_t specials = 0;
  for (const std::int32_t id : {tokens.pad, tokens.bos, tokens.eos, tokens.unk, tokens.mask}) {
    if (id >= 0 && id < tokens.vocab_size && !spec.special[static_cast<std::size_t>(id)]) {
      spec.special[static_cast<std::size_t>(id)] = true;
      ++specials;
    }
  }
  if (specials >= tokens.vocab_size)
    throw ConfigError("the encoder's vocabulary holds only special tokens; nothing to predict");
  return spec;
}

bool MaskingSpec::is_special(std::int32_t id) const {
  return id < 0 || id >= vocab_size || special[static_cast<std::size_t>(id)];
}

MaskedRows mask_tokens(const std::vector<std::vector<std::int32_t>>& rows, const MaskingSpec& spec,
                       std::mt19937_64& rng) {
  MaskedRows out;
  out.ids = rows;
  std::vector<std::int32_t> candidates, chosen;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    candidates.clear();
    chosen.clear();
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (spec.is_special(row[c])) continue;
      candidates.push_back(static_cast<std::int32_t>(c));
      if (unit_interval(rng) < spec.rate) chosen.push_back(static_cast<std::int32_t>(c));
    }
    if (chosen.empty() && !candidates.empty()) chosen.push_back(candidates[bounded(rng, candidates.size())]);
    for (const std::int32_t c : chosen) {
      std::int32_t& id = out.ids[r][static_cast<std::size_t>(c)];
      out.selected.push_back(Selected{static_cast<std::int32_t>(r), c, id});
      const double u = unit_interval(rng);
      if (u < spec.mask_share) {
        id = spec.mask_id;
      } else if (u < spec.mask_share + spec.random_share) {
        std::int32_t replacement;
        do {  // rejection: specials are a handful of ids among thousands
          replacement = static_cast<std::int32_t>(bounded(rng, static_cast<std::uint64_t>(spec.vocab_size)));
        } while (spec.is_special(replacement));
        id = replacement;
      }
    }
  }
  return out;
}

MaskedShard shard_rows(const MaskedRows& masked, std::size_t begin, std::size_t end) {
  MaskedShard shard;
  shard.ids.assign(masked.ids.begin() + static_cast<std::ptrdiff_t>(begin),
                   masked.ids.begin() + static_cast<std::ptrdiff_t>(end));
  std::vector<std::int64_t> offset(end - begin + 1, 0);
  for (std::size_t r = begin; r < end; ++r)
    offset[r - begin + 1] = offset[r - begin] + static_cast<std::int64_t>(masked.ids[r].size());
  for (const Selected& s : masked.selected) {
    const auto r = static_cast<std::size_t>(s.row);
    if (r < begin || r >= end) continue;
    shard.positions.push_back(offset[r - begin] + s.column);
    shard.targets.push_back(s.target);
  }
  return shard;
}

}  // namespace sentbench::mlm
