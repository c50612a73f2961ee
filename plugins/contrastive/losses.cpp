// MNRL with cosine similarities; written on normalised embeddings so gradients flow through the norm.
#include "losses.hpp"

#include <torch/torch.h>

namespace sentbench::contrastive {

namespace F = torch::nn::functional;

at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale, bool symmetric,
                     std::int64_t label_offset, const at::Tensor& all_anchors) {
  const auto B = anchors.size(0);
  const at::Tensor a = F::normalize(anchors, F::NormalizeFuncOptions().dim(1));
  const at::Tensor c = F::normalize(candidates, F::NormalizeFuncOptions().dim(1));
  const at::Tensor labels = torch::arange(label_offset, label_offset + B, torch::kLong);
  const at::Tensor scores = torch::matmul(a, c.t()) * scale;  // [B, C]
  at::Tensor loss = F::cross_entropy(scores, labels);
  if (symmetric) {
    // positives -> anchors: this rank's positives against every anchor of the (global) batch.
    const at::Tensor every_anchor =
        all_anchors.defined() ? F::normalize(all_anchors, F::NormalizeFuncOptions().dim(1)) : a;
    const at::Tensor backward_scores = torch::matmul(c.narrow(0, label_offset, B), every_anchor.t()) * scale;
    loss = (loss + F::cross_entropy(backward_scores, labels)) / 2;
  }
  return loss;
}

}  // namespace sentbench::contrastive
