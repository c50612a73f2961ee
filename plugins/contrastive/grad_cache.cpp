// Plain and GradCache steps through Encoder::forward.
#include "grad_cache.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace sentbench::contrastive {
namespace {

TokenBatch slice(const TokenBatch& batch, std::size_t begin, std::size_t end) {
  TokenBatch out;
  out.ids.assign(batch.ids.begin() + static_cast<std::ptrdiff_t>(begin), batch.ids.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

// The default CPU generator drives dropout; its state is saved and restored around replays.
at::Generator cpu_generator() { return at::detail::getDefaultCPUGenerator(); }

}  // namespace

double forward_backward(Encoder& encoder, const std::vector<TokenBatch>& columns, const LossFn& loss,
                        std::int64_t mini_batch) {
  const std::size_t rows = columns.front().size();
  if (mini_batch <= 0 || static_cast<std::size_t>(mini_batch) >= rows) {
    std::vector<at::Tensor> embeddings;
    for (const auto& column : columns) embeddings.push_back(encoder.forward(column));
    at::Tensor value = loss(embeddings);
    value.backward();
    return value.item<double>();
  }

  // Pass 1: embeddings without grad, remembering the generator state before each chunk.
  struct Chunk {
    std::size_t column, begin, end;
    at::Tensor rng_state;
  };
  std::vector<Chunk> chunks;
  std::vector<at::Tensor> cached;
  {
    torch::NoGradGuard no_grad;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      std::vector<at::Tensor> parts;
      for (std::size_t begin = 0; begin < rows; begin += static_cast<std::size_t>(mini_batch)) {
        const std::size_t end = std::min(rows, begin + static_cast<std::size_t>(mini_batch));
        at::Generator gen = cpu_generator();
        at::Tensor state;
        {
          std::lock_guard<std::mutex> lock(gen.mutex());
          state = gen.get_state();
        }
        chunks.push_back({c, begin, end, state});
        parts.push_back(encoder.forward(slice(columns[c], begin, end)));
      }
      cached.push_back(torch::cat(parts).detach().requires_grad_(true));
    }
  }
  at::Generator gen = cpu_generator();
  at::Tensor after_pass1;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    after_pass1 = gen.get_state();
  }

  // The loss on the cached embeddings gives d loss / d embedding.
  at::Tensor value = loss(cached);
  value.backward();

  // Pass 2: re-run each chunk with grad under the same dropout masks and push the cached gradient in.
  for (const Chunk& chunk : chunks) {
    {
      at::Generator g = cpu_generator();
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_state(chunk.rng_state);
    }
    const at::Tensor embeddings = encoder.forward(slice(columns[chunk.column], chunk.begin, chunk.end));
    const at::Tensor grad = cached[chunk.column].grad().narrow(0, static_cast<std::int64_t>(chunk.begin),
                                                                static_cast<std::int64_t>(chunk.end - chunk.begin));
    embeddings.backward(grad);
  }
  // Continue the random stream as the first pass left it, so later steps do not depend on the replay.
  {
    at::Generator g = cpu_generator();
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(after_pass1);
  }
  return value.item<double>();
}

}  // namespace sentbench::contrastive
