// Blocked exact top-k search; see search.hpp for the contract.
#include "search.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

#include <torch/torch.h>

namespace sentbench {

namespace {

// Same floor as torch::nn::functional::normalize, so a zero vector scores 0 instead of NaN.
constexpr double kNormEps = 1e-12;

void validate(const at::Tensor& queries, const at::Tensor& corpus, const SearchOptions& options) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("exact_search: " + what); };
  if (!queries.defined() || !corpus.defined()) fail("queries and corpus must be defined tensors");
  if (queries.dim() != 2 || corpus.dim() != 2) {
    fail("queries and corpus must be 2-D [rows, dim], got " + std::to_string(queries.dim()) + "-D and " +
         std::to_string(corpus.dim()) + "-D");
  }
  if (queries.size(1) != corpus.size(1)) {
    fail("queries have dim " + std::to_string(queries.size(1)) + " but the corpus has dim " +
         std::to_string(corpus.size(1)) + "; both must come from the same encoder");
  }
  if (queries.scalar_type() != at::kFloat || corpus.scalar_type() != at::kFloat) {
    fail(std::string("expects float32 embeddings, got ") + c10::toString(queries.scalar_type()) + " and " +
         c10::toString(corpus.scalar_type()) + "; convert with .to(torch::kFloat32)");
  }
  if (queries.device() != corpus.device()) fail("queries and corpus are on different devices");
  if (options.k < 1) fail("k must be >= 1, got " + std::to_string(options.k));
  if (options.corpus_chunk < 1 || options.query_chunk < 1) {
    fail("corpus_chunk and query_chunk must be >= 1, got " + std::to_string(options.corpus_chunk) + " and " +
         std::to_string(options.query_chunk));
  }
}

// Orders candidates by (score descending, index ascending): a sort by index, then a stable sort by
// score, so equal scores keep the index order.
std::tuple<at::Tensor, at::Tensor> order_candidates(const at::Tensor& scores, const at::Tensor& indices) {
  at::Tensor by_index, perm;
  std::tie(by_index, perm) = indices.sort(/*dim=*/1);
  const at::Tensor s = scores.gather(1, perm);
  at::Tensor sorted, perm2;
  std::tie(sorted, perm2) = s.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
  return {sorted, by_index.gather(1, perm2)};
}

// Exact top-kb of each row of one score block under (score desc, index asc). torch::topk picks
// arbitrarily among values equal to the k-th largest (the CPU kernel runs nth_element/partial_sort on
// values only), so one more value is fetched: where the (kb+1)-th equals the kb-th, more elements tie
// at the boundary than were kept, and that row is redone as every element above the threshold plus the
// lowest-index ones equal to it. Such rows are rare with real embeddings but common with duplicate
// documents; the check itself is free (counting `block >= threshold` instead cost 6x the matmul).
std::tuple<at::Tensor, at::Tensor> block_topk(const at::Tensor& block, std::int64_t kb) {
  const bool check = kb < block.size(1);
  at::Tensor values, indices;
  std::tie(values, indices) = block.topk(check ? kb + 1 : kb, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  if (check) {
    const at::Tensor threshold = values.select(1, kb - 1);
    const at::Tensor rows = threshold.eq(values.select(1, kb)).nonzero().squeeze(1).cpu();
    values = values.narrow(1, 0, kb).contiguous();
    indices = indices.narrow(1, 0, kb).contiguous();
    const auto* row_ids = rows.data_ptr<std::int64_t>();
    for (std::int64_t r = 0; r < rows.numel(); ++r) {
      const std::int64_t row = row_ids[r];
      const at::Tensor s = block[row];
      const at::Tensor t = threshold[row];
      const at::Tensor above = s.gt(t).nonzero().squeeze(1);
      const at::Tensor equal = s.eq(t).nonzero().squeeze(1).narrow(0, 0, kb - above.size(0));
      const at::Tensor chosen = at::cat({above, equal});
      indices[row].copy_(chosen);
      values[row].copy_(s.index_select(0, chosen));
    }
  }
  return order_candidates(values, indices);
}

}  // namespace

SearchResult exact_search(const at::Tensor& queries, const at::Tensor& corpus, const SearchOptions& options) {
  validate(queries, corpus, options);
  torch::NoGradGuard no_grad;
  const std::int64_t n_queries = queries.size(0), n_corpus = corpus.size(0);
  const std::int64_t k = std::min(options.k, n_corpus);
  SearchResult result{torch::empty({n_queries, k}, queries.options()),
                      torch::empty({n_queries, k}, queries.options().dtype(at::kLong))};
  if (n_queries == 0 || k == 0) return result;

  // Scaling each score block by 1/|c| instead of normalising a copy of every corpus chunk keeps the
  // extra memory at [N] floats; the block scaling is one pass over qc × cc against 2·d flops per score.
  at::Tensor inverse_norms;
  if (options.cosine) inverse_norms = corpus.norm(2, {1}).clamp_min(kNormEps).reciprocal();

  // One score buffer reused by every block: a fresh multi-MiB allocation per block is mmap-ed and
  // page-faulted anew each time, which cost twice the matmul itself (100k × 1k × 384, 1 core).
  const std::int64_t max_block = std::min(options.query_chunk, n_queries) * std::min(options.corpus_chunk, n_corpus);
  const at::Tensor scratch = torch::empty({max_block}, queries.options());

  for (std::int64_t q0 = 0; q0 < n_queries; q0 += options.query_chunk) {
    const std::int64_t qn = std::min(options.query_chunk, n_queries - q0);
    at::Tensor q = queries.narrow(0, q0, qn);
    if (options.cosine) q = q / q.norm(2, {1}, /*keepdim=*/true).clamp_min(kNormEps);
    at::Tensor best_scores, best_indices;
    for (std::int64_t c0 = 0; c0 < n_corpus; c0 += options.corpus_chunk) {
      const std::int64_t cn = std::min(options.corpus_chunk, n_corpus - c0);
      at::Tensor block = scratch.narrow(0, 0, qn * cn).view({qn, cn});
      torch::mm_out(block, q, corpus.narrow(0, c0, cn).t());
      if (options.cosine) block.mul_(inverse_norms.narrow(0, c0, cn).unsqueeze(0));
      at::Tensor s, i;
      std::tie(s, i) = block_topk(block, std::min(k, cn));
      i.add_(c0);
      if (!best_scores.defined()) {
        best_scores = s;
        best_indices = i;
        continue;
      }
      // Earlier chunks hold lower indices and come first, so a stable sort keeps them ahead on ties.
      at::Tensor merged, perm;
      std::tie(merged, perm) = at::cat({best_scores, s}, 1).sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
      const std::int64_t keep = std::min(k, merged.size(1));
      best_scores = merged.narrow(1, 0, keep);
      best_indices = at::cat({best_indices, i}, 1).gather(1, perm.narrow(1, 0, keep));
    }
    result.scores.narrow(0, q0, qn).copy_(best_scores);
    result.indices.narrow(0, q0, qn).copy_(best_indices);
  }
  return result;
}

}  // namespace sentbench
