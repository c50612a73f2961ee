// Exact nearest-neighbour search in blocks: queries × corpus chunks with a running top-k, so memory
// stays bounded (one reused float32 block of query_chunk × corpus_chunk scores, plus [N] inverse norms
// for cosine and the [Q, k] result) however large the corpus.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace sentbench {

struct SearchOptions {
  std::int64_t k = 100;
  // 256 × 50000 (a 49 MiB block) was the fastest chunking in search_bench (100k × 384 corpus, one
  // core): 1.15k queries/s against 0.93k for 1024 × 50000 (195 MiB) and 0.89k for 256 × 10000.
  std::int64_t corpus_chunk = 50000;  // corpus rows scored at once
  std::int64_t query_chunk = 256;     // query rows scored at once
  bool cosine = true;                 // normalise both sides (else raw dot product)
};

// Top-k of each query: scores [Q, k'] descending and indices [Q, k'] (int64) into the corpus
// (k' = min(k, N); N = 0 or Q = 0 give empty tensors of that shape). queries [Q, d] and corpus [N, d]
// are float32 on one device; k and the chunk sizes must be >= 1 (else std::invalid_argument, as for a
// shape, dtype or device mismatch). Ties keep the lower corpus index first, whatever the chunk sizes
// (torch::topk alone does not promise that; see search.cpp); NaN scores rank first, in unspecified
// order. Callers re-sort ties by document id for trec_eval. Zero vectors score 0 under cosine.
struct SearchResult {
  at::Tensor scores;
  at::Tensor indices;
};
SearchResult exact_search(const at::Tensor& queries, const at::Tensor& corpus, const SearchOptions& options);

}  // namespace sentbench
