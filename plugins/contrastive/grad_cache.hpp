// GradCache (Gao et al. 2021): contrastive batches larger than memory. Embed the whole batch without
// grad in mini-batches, take the loss and its gradient w.r.t. the embeddings, then re-run each
// mini-batch with grad and back-propagate the cached gradient. Dropout masks are replayed exactly by
// restoring the CPU generator state saved before each mini-batch's first pass.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "sentbench/encoder.hpp"

namespace sentbench::contrastive {

// Loss over the embeddings of each column of the batch (anchors, positives[, negatives]).
using LossFn = std::function<at::Tensor(const std::vector<at::Tensor>& columns)>;

// One optimisation step's forward and backward. With mini_batch <= 0 (or >= the batch) it is the plain
// full-batch step; otherwise the GradCache step. Parameter gradients are accumulated (the caller zeroes
// them). Returns the loss value.
double forward_backward(Encoder& encoder, const std::vector<TokenBatch>& columns, const LossFn& loss,
                        std::int64_t mini_batch);

}  // namespace sentbench::contrastive
