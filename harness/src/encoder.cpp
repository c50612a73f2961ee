// The SDK's interface classes: their vtables live here, and Encoder::encode's default batching.
#include "sentbench/encoder.hpp"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "sentbench/progress.hpp"
#include "sentbench/recipe.hpp"

namespace sentbench {

PluginObject::~PluginObject() = default;
Encoder::~Encoder() = default;
Recipe::~Recipe() = default;

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

// Sorts by token length so each batch pads only to its own longest text, fills batches up to the
// padded-token budget, then scatters rows back to input order.
at::Tensor Encoder::encode(const std::vector<std::string>& texts, const EncodeOptions& options) {
  c10::InferenceMode guard;
  const int previous_threads = at::get_num_threads();
  if (options.threads > 0) at::set_num_threads(static_cast<int>(options.threads));
  train(false);

  TokenBatch all = tokenize(texts);
  std::vector<std::size_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return all.ids[a].size() > all.ids[b].size(); });

  std::optional<Progress> progress;
  if (options.show_progress) progress.emplace(options.label, static_cast<std::int64_t>(texts.size()), "texts");
  at::Tensor out;
  std::size_t begin = 0;
  while (begin < order.size()) {
    // Longest first: the first row of a batch fixes its padded length.
    const std::size_t longest = std::max<std::size_t>(1, all.ids[order[begin]].size());
    // Rows fill the token budget, but attention memory grows with T² per row: long texts also cap rows
    // so that rows·T² ≤ budget·128 (at T = 128 both limits agree).
    const auto budget = static_cast<std::size_t>(options.batch_tokens);
    const std::size_t rows = std::max<std::size_t>(1, std::min(budget / longest, budget * 128 / (longest * longest)));
    const std::size_t end = std::min(order.size(), begin + rows);
    TokenBatch batch;
    batch.ids.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) batch.ids.push_back(std::move(all.ids[order[i]]));
    at::Tensor emb = forward(batch).to(torch::kFloat32).contiguous();
    if (!out.defined()) out = torch::empty({static_cast<std::int64_t>(texts.size()), emb.size(1)}, torch::kFloat32);
    std::vector<std::int64_t> idx(order.begin() + begin, order.begin() + end);
    out.index_copy_(0, torch::tensor(idx, torch::kLong), emb);
    if (progress) progress->add(static_cast<std::int64_t>(end - begin));
    begin = end;
  }
  if (!out.defined()) out = torch::empty({0, info().dim}, torch::kFloat32);
  if (options.threads > 0) at::set_num_threads(previous_threads);
  return out;
}

}  // namespace sentbench
