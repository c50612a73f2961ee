// Inference attention over packed (unpadded) sequences: one pass per (text, head), no padding, no
// mask, no per-head GEMM calls. LibTorch-free so it compiles with its own optimisation flags.
#pragma once

#include <cstdint>

namespace sentbench::roberta {

// qkv: [N, 3·H] row-major (queries already multiplied by 1/sqrt(head_dim)), the rows of text b are
// offsets[b] .. offsets[b] + lengths[b]. Writes context [N, H] (row-major, heads side by side).
// Handles texts [first, last) so callers can split the work across threads.
void packed_attention(const float* qkv, float* context, const std::int64_t* offsets, const std::int64_t* lengths,
                      std::int64_t first, std::int64_t last, std::int64_t hidden, std::int64_t heads);

}  // namespace sentbench::roberta
