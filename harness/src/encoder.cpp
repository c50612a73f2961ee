// The SDK's interface classes: their vtables live here, and Encoder::encode's default batching.
#include "sentbench/encoder.hpp"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "sentbench/progress.hpp"
#include "sentbench/recipe.hpp"
#include "sentbench/token_encoder.hpp"

namespace sentbench {

PluginObject::~PluginObject() = default;
Encoder::~Encoder() = default;
Recipe::~Recipe() = default;
// The key function of TokenEncoder: its typeinfo lives here alone, so a recipe's dynamic_cast finds the
// interface in an encoder another plugin created.
TokenEncoder::~TokenEncoder() = default;

std::size_t TokenBatch::tokens() const {
  std::size_t n = 0;
  for (const auto& row : ids) n += row.size();
  return n;
}

std::size_t TokenBatch::max_length() const {
  std::size_t n = 0;
  for (const auto& row : ids) n = std::max(n, row.size());
  return n;
}

std::vector<std::size_t> TokenBatch::longest_first() const {
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a].size() > ids[b].size(); });
  return order;
}

std::vector<std::pair<std::size_t, std::size_t>> plan_batches(const std::vector<std::size_t>& sorted_lengths,
                                                              std::int64_t batch_tokens) {
  std::vector<std::pair<std::size_t, std::size_t>> batches;
  const auto budget = static_cast<std::size_t>(std::max<std::int64_t>(1, batch_tokens));
  std::size_t begin = 0;
  while (begin < sorted_lengths.size()) {
    // Longest first: the first row of a batch fixes its padded length.
    const std::size_t longest = std::max<std::size_t>(1, sorted_lengths[begin]);
    // Rows fill the token budget, but attention memory grows with T² per row: long texts also cap rows.
    const std::size_t rows = std::max<std::size_t>(1, std::min(budget / longest, budget * 128 / (longest * longest)));
    const std::size_t end = std::min(sorted_lengths.size(), begin + rows);
    batches.emplace_back(begin, end);
    begin = end;
  }
  return batches;
}

// Sorts by token length so each batch pads only to its own longest text, cuts batches with
// plan_batches, then scatters rows back to input order.
at::Tensor Encoder::encode(const std::vector<std::string>& texts, const EncodeOptions& options) {
  c10::InferenceMode guard;
  const int previous_threads = at::get_num_threads();
  if (options.threads > 0) at::set_num_threads(static_cast<int>(options.threads));
  train(false);

  TokenBatch all = tokenize(texts);
  const std::vector<std::size_t> order = all.longest_first();
  std::vector<std::size_t> lengths(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) lengths[i] = all.ids[order[i]].size();
  const std::int64_t budget = options.batch_tokens > 0 ? options.batch_tokens : default_batch_tokens();

  std::optional<Progress> progress;
  if (options.show_progress) progress.emplace(options.label, static_cast<std::int64_t>(texts.size()), "texts");
  at::Tensor out;
  for (const auto& [begin, end] : plan_batches(lengths, budget)) {
    TokenBatch batch;
    batch.ids.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) batch.ids.push_back(std::move(all.ids[order[i]]));
    at::Tensor emb = forward(batch).to(torch::kFloat32).contiguous();
    if (!out.defined()) out = torch::empty({static_cast<std::int64_t>(texts.size()), emb.size(1)}, torch::kFloat32);
    std::vector<std::int64_t> idx(order.begin() + begin, order.begin() + end);
    out.index_copy_(0, torch::tensor(idx, torch::kLong), emb);
    if (progress) progress->add(static_cast<std::int64_t>(end - begin));
  }
  if (!out.defined()) out = torch::empty({0, info().dim}, torch::kFloat32);
  if (options.threads > 0) at::set_num_threads(previous_threads);
  return out;
}

}  // namespace sentbench
