// exact_search against a brute-force reference: every chunking gives the same top-k, ties keep the
// lower corpus index first, and the empty and k > N edges have the documented shapes.
#include "search.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace sentbench {
namespace {

// Full score matrix, then per row a sort on (score desc, index asc): the order exact_search promises.
SearchResult brute_force(const at::Tensor& queries, const at::Tensor& corpus, std::int64_t k, bool cosine) {
  at::Tensor q = queries, c = corpus;
  if (cosine) {
    q = q / q.norm(2, {1}, true).clamp_min(1e-12);
    c = c / c.norm(2, {1}, true).clamp_min(1e-12);
  }
  const at::Tensor full = torch::mm(q, c.t()).contiguous();
  const std::int64_t n = corpus.size(0), kk = std::min(k, n);
  at::Tensor scores = torch::empty({queries.size(0), kk});
  at::Tensor indices = torch::empty({queries.size(0), kk}, torch::kLong);
  for (std::int64_t r = 0; r < queries.size(0); ++r) {
    const float* row = full[r].data_ptr<float>();
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return row[a] > row[b]; });
    for (std::int64_t j = 0; j < kk; ++j) {
      indices[r][j] = order[static_cast<std::size_t>(j)];
      scores[r][j] = row[order[static_cast<std::size_t>(j)]];
    }
  }
  return {scores, indices};
}

// Small integer entries make every dot product exact in float32 and full of ties.
at::Tensor integer_vectors(std::int64_t rows, std::int64_t dim) {
  return torch::randint(-2, 3, {rows, dim}).to(torch::kFloat);
}

TEST(ExactSearch, MatchesBruteForceWithTiesForEveryChunking) {
  torch::manual_seed(7);
  const at::Tensor queries = integer_vectors(23, 6);
  const at::Tensor corpus = integer_vectors(97, 6);
  for (const std::int64_t k : {1, 10, 50}) {
    const SearchResult expected = brute_force(queries, corpus, k, /*cosine=*/false);
    for (const std::int64_t corpus_chunk : {1, 3, 16, 50, 97, 1000}) {
      for (const std::int64_t query_chunk : {1, 5, 64}) {
        SearchOptions o;
        o.k = k;
        o.corpus_chunk = corpus_chunk;
        o.query_chunk = query_chunk;
        o.cosine = false;
        const SearchResult got = exact_search(queries, corpus, o);
        const std::string where = "k=" + std::to_string(k) + " corpus_chunk=" + std::to_string(corpus_chunk) +
                                  " query_chunk=" + std::to_string(query_chunk);
        ASSERT_TRUE(torch::equal(got.indices, expected.indices)) << where;
        ASSERT_TRUE(torch::equal(got.scores, expected.scores)) << where;
      }
    }
  }
}

TEST(ExactSearch, AllEqualScoresReturnTheLowestIndices) {
  // Every document identical: any k-subset is a valid top-k by value; ours must be 0..k-1.
  const at::Tensor corpus = torch::ones({200, 4});
  const at::Tensor queries = torch::rand({3, 4}) + 0.1;
  for (const std::int64_t chunk : {7, 64, 200}) {
    SearchOptions o;
    o.k = 10;
    o.corpus_chunk = chunk;
    const SearchResult got = exact_search(queries, corpus, o);
    const at::Tensor expected = torch::arange(10, torch::kLong).unsqueeze(0).expand({3, 10});
    EXPECT_TRUE(torch::equal(got.indices, expected)) << "corpus_chunk=" << chunk << "\n" << got.indices;
  }
}

TEST(ExactSearch, CosineTiesAreExactAndOrderedByIndex) {
  // One-hot documents (norm exactly 1) repeated: cosine = q_j / |q|, equal for equal q_j.
  const at::Tensor corpus = torch::eye(4).repeat({5, 1});  // row i is e_(i mod 4)
  const at::Tensor queries = torch::tensor({{3.0f, 1.0f, 3.0f, 0.0f}});
  SearchOptions o;
  o.k = 12;
  o.corpus_chunk = 3;
  const SearchResult got = exact_search(queries, corpus, o);
  // e_0 and e_2 score 3/sqrt(19): rows 0,2,4,6,...,18; then e_1 (rows 1,5): k = 12 cuts inside e_1's 5 rows.
  const std::vector<std::int64_t> want = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 1, 5};
  const at::Tensor idx = got.indices[0].contiguous();
  EXPECT_EQ(std::vector<std::int64_t>(idx.data_ptr<std::int64_t>(), idx.data_ptr<std::int64_t>() + 12), want);
  EXPECT_NEAR(got.scores[0][0].item<float>(), 3.0 / std::sqrt(19.0), 1e-6);
}

TEST(ExactSearch, CosineOnRandomDataMatchesBruteForce) {
  torch::manual_seed(11);
  const at::Tensor queries = torch::randn({40, 32});
  const at::Tensor corpus = torch::randn({301, 32}) * (torch::rand({301, 1}) * 5 + 0.1);  // varied norms
  const SearchResult expected = brute_force(queries, corpus, 20, /*cosine=*/true);
  const at::Tensor q_n = queries / queries.norm(2, {1}, true);
  const at::Tensor c_n = corpus / corpus.norm(2, {1}, true);
  const at::Tensor full = torch::mm(q_n, c_n.t());
  for (const std::int64_t corpus_chunk : {13, 100, 301}) {
    SearchOptions o;
    o.k = 20;
    o.corpus_chunk = corpus_chunk;
    o.query_chunk = 16;
    const SearchResult got = exact_search(queries, corpus, o);
    // Rounding may differ from the reference in the last bit, so compare values, and check that each
    // returned index really has the returned score.
    EXPECT_TRUE(torch::allclose(got.scores, expected.scores, 1e-5, 1e-6)) << "corpus_chunk=" << corpus_chunk;
    EXPECT_TRUE(torch::allclose(full.gather(1, got.indices), got.scores, 1e-5, 1e-6));
    EXPECT_TRUE(torch::all(got.scores.narrow(1, 0, 19) >= got.scores.narrow(1, 1, 19)).item<bool>());
  }
}

TEST(ExactSearch, CosineIgnoresScaleAndZeroVectorsScoreZero) {
  torch::manual_seed(3);
  const at::Tensor queries = torch::randn({5, 8});
  at::Tensor corpus = torch::randn({30, 8});
  corpus[4].zero_();
  SearchOptions o;
  o.k = 30;
  o.corpus_chunk = 8;
  const SearchResult plain = exact_search(queries, corpus, o);
  const SearchResult scaled = exact_search(queries * 3.0, corpus * 0.25, o);
  EXPECT_TRUE(torch::allclose(plain.scores, scaled.scores, 1e-5, 1e-6));
  EXPECT_FALSE(torch::any(torch::isnan(plain.scores)).item<bool>());
  const at::Tensor zero_pos = (plain.indices == 4).nonzero();
  ASSERT_EQ(zero_pos.size(0), 5);
  for (std::int64_t r = 0; r < 5; ++r) {
    EXPECT_EQ(plain.scores[zero_pos[r][0]][zero_pos[r][1]].item<float>(), 0.0f);
  }
}

TEST(ExactSearch, KLargerThanCorpus) {
  torch::manual_seed(5);
  const at::Tensor queries = integer_vectors(4, 3), corpus = integer_vectors(5, 3);
  SearchOptions o;
  o.k = 10;
  o.cosine = false;
  o.corpus_chunk = 2;
  const SearchResult got = exact_search(queries, corpus, o);
  EXPECT_EQ(got.scores.sizes(), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(got.indices.sizes(), (std::vector<std::int64_t>{4, 5}));
  const SearchResult expected = brute_force(queries, corpus, 10, false);
  EXPECT_TRUE(torch::equal(got.indices, expected.indices));
  // Every query sees every document exactly once.
  EXPECT_TRUE(torch::equal(std::get<0>(got.indices.sort(1)), torch::arange(5, torch::kLong).expand({4, 5})));
}

TEST(ExactSearch, EmptyCorpusOrQueries) {
  SearchOptions o;
  o.k = 10;
  const SearchResult no_docs = exact_search(torch::randn({3, 8}), torch::empty({0, 8}), o);
  EXPECT_EQ(no_docs.scores.sizes(), (std::vector<std::int64_t>{3, 0}));
  EXPECT_EQ(no_docs.indices.sizes(), (std::vector<std::int64_t>{3, 0}));
  EXPECT_EQ(no_docs.indices.scalar_type(), torch::kLong);
  const SearchResult no_queries = exact_search(torch::empty({0, 8}), torch::randn({4, 8}), o);
  EXPECT_EQ(no_queries.scores.sizes(), (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(no_queries.indices.sizes(), (std::vector<std::int64_t>{0, 4}));
}

TEST(ExactSearch, RejectsBadInput) {
  const at::Tensor q = torch::randn({2, 8}), c = torch::randn({5, 8});
  SearchOptions o;
  EXPECT_THROW(exact_search(q, torch::randn({5, 7}), o), std::invalid_argument);
  EXPECT_THROW(exact_search(q.to(torch::kDouble), c.to(torch::kDouble), o), std::invalid_argument);
  EXPECT_THROW(exact_search(torch::randn({8}), c, o), std::invalid_argument);
  o.k = 0;
  EXPECT_THROW(exact_search(q, c, o), std::invalid_argument);
  o.k = 3;
  o.corpus_chunk = 0;
  EXPECT_THROW(exact_search(q, c, o), std::invalid_argument);
  try {
    exact_search(q, torch::randn({5, 7}), SearchOptions{});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("dim 8"), std::string::npos) << e.what();
  }
}

TEST(ExactSearch, DoesNotRecordGradients) {
  const at::Tensor q = torch::randn({2, 4}, torch::requires_grad());
  const SearchResult got = exact_search(q, torch::randn({6, 4}), SearchOptions{});
  EXPECT_FALSE(got.scores.requires_grad());
}

}  // namespace
}  // namespace sentbench
