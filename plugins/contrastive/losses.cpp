// MNRL with cosine similarities; written on normalised embeddings so gradients flow through the norm.
#include "losses.hpp"

#include <torch/torch.h>

namespace sentbench::contrastive {

namespace F = torch::nn::functional;

at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale, bool symmetric) {
  const auto B = anchors.size(0);
  const at::Tensor a = F::normalize(anchors, F::NormalizeFuncOptions().dim(1));
  const at::Tensor c = F::normalize(candidates, F::NormalizeFuncOptions().dim(1));
  const at::Tensor labels = torch::arange(B, torch::kLong);
  const at::Tensor scores = torch::matmul(a, c.t()) * scale;  // [B, C]
  at::Tensor loss = F::cross_entropy(scores, labels);
  if (symmetric) {
    // positives -> anchors: the first B candidate columns against the anchors.
    const at::Tensor backward_scores = torch::matmul(c.narrow(0, 0, B), a.t()) * scale;  // [B, B]
    loss = (loss + F::cross_entropy(backward_scores, labels)) / 2;
  }
  return loss;
}

}  // namespace sentbench::contrastive
