// Contrastive objectives over in-batch negatives.
#pragma once

#include <torch/types.h>

namespace sentbench::contrastive {

// Multiple-negatives ranking loss: row i of `anchors` [B, d] must pick column i among `candidates`
// [C, d] (C >= B: the B positives, then any hard negatives). Cosine similarities × scale, cross-entropy.
// symmetric: also each positive must pick its anchor among the anchors; the two directions are averaged
// (the reference 1B-pairs setting).
// Distributed: `anchors` are this rank's rows, `candidates` the columns gathered from all ranks, and the
// positive of anchor i sits at column label_offset + i; the symmetric direction then ranks this rank's
// positives among `all_anchors` (every rank's anchors, gathered). With the defaults it is the one-process loss.
at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale, bool symmetric,
                     std::int64_t label_offset = 0, const at::Tensor& all_anchors = {});

}  // namespace sentbench::contrastive
