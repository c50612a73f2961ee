// Embeddings (a LibTorch tensor) as the plain matrix the MTEB scoring functions take.
#pragma once

#include <torch/torch.h>

#include "mteb_scoring.hpp"

namespace sentbench {

// Rows [begin, end) of a [n, dim] tensor as float32, row-major.
inline mteb_scoring::Matrix to_matrix(const at::Tensor& embeddings, std::int64_t begin = 0, std::int64_t end = -1) {
  if (end < 0) end = embeddings.size(0);
  const at::Tensor rows = embeddings.slice(0, begin, end).to(torch::kFloat32).contiguous();
  mteb_scoring::Matrix m;
  m.rows = rows.size(0);
  m.cols = rows.size(1);
  m.data.assign(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
  return m;
}

}  // namespace sentbench
