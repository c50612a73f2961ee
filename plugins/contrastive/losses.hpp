// Contrastive objectives over in-batch negatives.
#pragma once

#include <torch/types.h>

namespace sentbench::contrastive {

// Multiple-negatives ranking loss: row i of `anchors` [B, d] must pick column i among `candidates`
// [C, d] (C >= B: the B positives, then any hard negatives). Cosine similarities × scale, cross-entropy.
// symmetric: also each positive must pick its anchor among the anchors; the two directions are averaged
// (the reference 1B-pairs setting).
at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale, bool symmetric);

}  // namespace sentbench::contrastive
