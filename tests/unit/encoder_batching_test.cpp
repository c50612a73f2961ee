// plan_batches and TokenBatch::longest_first: the default batching of Encoder::encode, which `sentbench bench encode` shares.
#include <gtest/gtest.h>

#include "sentbench/encoder.hpp"

namespace sentbench {
namespace {

using Plan = std::vector<std::pair<std::size_t, std::size_t>>;

TEST(PlanBatches, FillsTheTokenBudget) {
  // T = 10: 100 / 10 = 10 rows a batch (the T² cap, 100·128/100 = 128, does not bind).
  EXPECT_EQ(plan_batches(std::vector<std::size_t>(25, 10), 100), (Plan{{0, 10}, {10, 20}, {20, 25}}));
}

TEST(PlanBatches, LongTextsAreCappedByRowsTimesTSquared) {
  // T = 512, budget 16384: 32 rows fit the budget, but rows·T² ≤ 16384·128 allows 8.
  EXPECT_EQ(plan_batches(std::vector<std::size_t>(20, 512), 16384), (Plan{{0, 8}, {8, 16}, {16, 20}}));
}

TEST(PlanBatches, FirstRowOfEachBatchFixesItsLength) {
  EXPECT_EQ(plan_batches({50, 10, 10, 10, 10, 10, 10, 10}, 100), (Plan{{0, 2}, {2, 8}}));
}

TEST(PlanBatches, LongestFirstKeepsTiesInOrder) {
  TokenBatch batch;
  batch.ids = {{1, 2}, {1, 2, 3}, {}, {4, 5}, {6, 7, 8}};
  EXPECT_EQ(batch.longest_first(), (std::vector<std::size_t>{1, 4, 0, 3, 2}));
}

TEST(PlanBatches, EdgeCases) {
  EXPECT_TRUE(plan_batches({}, 16384).empty());
  EXPECT_EQ(plan_batches({1000, 3}, 10), (Plan{{0, 1}, {1, 2}}));  // a row longer than the budget: alone
  EXPECT_EQ(plan_batches({0, 0, 0}, 2), (Plan{{0, 2}, {2, 3}}));    // empty rows count as one token
}

}  // namespace
}  // namespace sentbench
