// metrics.hpp against hand-computed values: trec_eval tie order, graded nDCG, cut-off edge cases,
// V-measure's degenerate cases and a worked example, Spearman with ties.
#include "metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

namespace sentbench::metrics {
namespace {

constexpr double kEps = 1e-12;

std::vector<std::string> ids_of(const std::vector<Scored>& ranking) {
  std::vector<std::string> ids;
  for (const auto& s : ranking) ids.push_back(s.doc_id);
  return ids;
}

// ---- retrieval -----------------------------------------------------------------------------------

TEST(TrecSort, ScoreDescendingThenDocIdDescendingByStrcmp) {
  std::vector<Scored> r = {{"d1", 0.5}, {"d10", 0.5}, {"z", 0.1}, {"d2", 0.5}, {"a", 0.9}};
  trec_sort(r);
  // strcmp: "d2" > "d10" > "d1" (at byte 1, '2' > '1'; "d10" extends "d1"), and trec_eval puts the
  // larger docno first among equal scores.
  EXPECT_EQ(ids_of(r), (std::vector<std::string>{"a", "d2", "d10", "d1", "z"}));
}

TEST(TrecSort, NanScoresGoLast) {
  std::vector<Scored> r = {{"n", std::nan("")}, {"b", -1e300}, {"a", 2.0}};
  trec_sort(r);
  EXPECT_EQ(ids_of(r), (std::vector<std::string>{"a", "b", "n"}));
}

TEST(RetrievalMetrics, TieOrderDecidesTheRank) {
  // Given as d1, d2 with equal scores; trec_eval ranks d2 first, so the relevant d1 is at rank 2.
  std::vector<Scored> r = {{"d1", 0.5}, {"d2", 0.5}};
  trec_sort(r);
  const Judgements q = {{"d1", 1}};
  EXPECT_NEAR(mrr_at_k(r, q, 10), 0.5, kEps);                    // 1/2
  EXPECT_NEAR(ndcg_at_k(r, q, 10), 1.0 / std::log2(3.0), kEps);  // (1/log2 3) / (1/log2 2) = 0.6309297536
  EXPECT_NEAR(precision_at_k(r, q, 1), 0.0, kEps);
  EXPECT_NEAR(recall_at_k(r, q, 1), 0.0, kEps);
  EXPECT_NEAR(mrr_at_k(r, q, 1), 0.0, kEps);
  EXPECT_NEAR(average_precision_at_k(r, q, 10), 0.5, kEps);  // (1/2) / 1 relevant
}

// Judgements A:3 B:2 C:1 D:0 (D judged not relevant), ranking C A X B (X unjudged).
class GradedQuery : public ::testing::Test {
 protected:
  const Judgements qrels_ = {{"A", 3}, {"B", 2}, {"C", 1}, {"D", 0}};
  const std::vector<Scored> ranking_ = {{"C", 0.9}, {"A", 0.8}, {"X", 0.7}, {"B", 0.6}};
};

TEST_F(GradedQuery, NdcgUsesLinearGainsAndTruncatedIdeal) {
  // DCG@4  = 1/log2 2 + 3/log2 3 + 0/log2 4 + 2/log2 5 = 1 + 1.8927892607 + 0 + 0.8613531161 = 3.7541423769
  // IDCG@4 = 3/log2 2 + 2/log2 3 + 1/log2 4             = 3 + 1.2618595071 + 0.5          = 4.7618595071
  EXPECT_NEAR(ndcg_at_k(ranking_, qrels_, 4), 3.7541423768611586 / 4.7618595071429155, kEps);  // 0.7883773915
  // k = 10 > ranking and > relevant: nothing more is added on either side.
  EXPECT_NEAR(ndcg_at_k(ranking_, qrels_, 10), 0.7883773914853737, kEps);
  // DCG@2 = 1 + 1.8927892607 = 2.8927892607; the ideal is also cut at 2: 3 + 1.2618595071 = 4.2618595071.
  EXPECT_NEAR(ndcg_at_k(ranking_, qrels_, 2), 0.6787622294601761, kEps);
  // @1: gain 1 against the ideal's 3.
  EXPECT_NEAR(ndcg_at_k(ranking_, qrels_, 1), 1.0 / 3.0, kEps);
}

TEST_F(GradedQuery, MapRecallPrecisionMrr) {
  // 3 relevant (gain > 0): A, B, C. Relevant ranks 1, 2, 4 -> precisions 1/1, 2/2, 3/4.
  EXPECT_NEAR(average_precision_at_k(ranking_, qrels_, 4), (1.0 + 1.0 + 0.75) / 3.0, kEps);  // 0.9166666667
  EXPECT_NEAR(average_precision_at_k(ranking_, qrels_, 2), (1.0 + 1.0) / 3.0, kEps);         // divides by 3, not 2
  EXPECT_NEAR(recall_at_k(ranking_, qrels_, 2), 2.0 / 3.0, kEps);
  EXPECT_NEAR(recall_at_k(ranking_, qrels_, 4), 1.0, kEps);
  EXPECT_NEAR(precision_at_k(ranking_, qrels_, 2), 1.0, kEps);
  EXPECT_NEAR(precision_at_k(ranking_, qrels_, 4), 0.75, kEps);
  EXPECT_NEAR(mrr_at_k(ranking_, qrels_, 10), 1.0, kEps);
}

TEST(RetrievalMetrics, FewerRetrievedThanK) {
  // Two relevant (r1, r2), only r1 and n retrieved; k = 100 exceeds the corpus.
  const Judgements q = {{"r1", 1}, {"r2", 1}};
  const std::vector<Scored> r = {{"r1", 2.0}, {"n", 1.0}};
  EXPECT_NEAR(precision_at_k(r, q, 10), 1.0 / 10.0, kEps);  // still divided by k
  EXPECT_NEAR(precision_at_k(r, q, 100), 1.0 / 100.0, kEps);
  EXPECT_NEAR(recall_at_k(r, q, 100), 0.5, kEps);
  // DCG = 1; IDCG = 1 + 1/log2 3 = 1.6309297536 -> 0.6131471928.
  EXPECT_NEAR(ndcg_at_k(r, q, 100), 0.6131471927654584, kEps);
  EXPECT_NEAR(average_precision_at_k(r, q, 100), 0.5, kEps);  // (1/1) / 2
  EXPECT_NEAR(mrr_at_k(r, q, 100), 1.0, kEps);
}

TEST(RetrievalMetrics, EmptyRankingAndBadCutoff) {
  const Judgements q = {{"r", 2}};
  const std::vector<Scored> none;
  EXPECT_EQ(ndcg_at_k(none, q, 10), 0.0);
  EXPECT_EQ(average_precision_at_k(none, q, 10), 0.0);
  EXPECT_EQ(precision_at_k(none, q, 10), 0.0);
  EXPECT_THROW(ndcg_at_k(none, q, 0), std::invalid_argument);
  EXPECT_THROW(precision_at_k(none, q, -1), std::invalid_argument);
}

TEST(ScoreRetrieval, SkipsQueriesWithoutRelevantAndSortsRuns) {
  std::map<std::string, std::vector<Scored>> runs;
  runs["q1"] = {{"B", 0.6}, {"X", 0.7}, {"C", 0.9}, {"A", 0.8}};  // GradedQuery, scrambled: sorted inside
  runs["q2"] = {{"x", 1.0}};                                      // judged, nothing relevant: skipped
  runs["q4"] = {{"y", 1.0}};                                      // no judgements at all: skipped
  std::map<std::string, Judgements> qrels;
  qrels["q1"] = {{"A", 3}, {"B", 2}, {"C", 1}, {"D", 0}};
  qrels["q2"] = {{"x", 0}};
  qrels["q3"] = {{"z", 1}};  // relevant but not in the run: scores 0 (trec_eval -c)
  const RetrievalScores s = score_retrieval(runs, qrels, {1, 10});

  EXPECT_EQ(s.query_ids, (std::vector<std::string>{"q1", "q3"}));
  EXPECT_EQ(s.queries_skipped, 2);
  ASSERT_EQ(s.per_query.at("ndcg@10").size(), 2u);
  EXPECT_NEAR(s.per_query.at("ndcg@10")[0], 0.7883773914853737, kEps);
  EXPECT_EQ(s.per_query.at("ndcg@10")[1], 0.0);
  EXPECT_NEAR(s.mean.at("ndcg@10"), 0.7883773914853737 / 2.0, kEps);
  EXPECT_NEAR(s.mean.at("map@10"), (2.75 / 3.0) / 2.0, kEps);
  EXPECT_NEAR(s.mean.at("p@10"), (3.0 / 10.0) / 2.0, kEps);  // q1: 3 relevant in 4 retrieved, over 10
  EXPECT_NEAR(s.mean.at("p@1"), 0.5, kEps);                  // q1's top is C (relevant); q3 none
  EXPECT_NEAR(s.mean.at("mrr@10"), 0.5, kEps);
  EXPECT_NEAR(s.mean.at("recall@1"), (1.0 / 3.0) / 2.0, kEps);
  EXPECT_NEAR(s.mean.at("ndcg@1"), (1.0 / 3.0) / 2.0, kEps);
  for (const char* key : {"ndcg", "mrr", "recall", "map", "p"}) {
    EXPECT_EQ(s.mean.count(std::string(key) + "@1"), 1u) << key;
    EXPECT_EQ(s.mean.count(std::string(key) + "@10"), 1u) << key;
  }
}

TEST(ScoreRetrieval, TiesInRunsFollowTrecEval) {
  std::map<std::string, std::vector<Scored>> runs;
  runs["q"] = {{"d1", 0.5}, {"d2", 0.5}};
  std::map<std::string, Judgements> qrels;
  qrels["q"] = {{"d1", 1}};
  const RetrievalScores s = score_retrieval(runs, qrels, {1, 10});
  EXPECT_EQ(s.mean.at("p@1"), 0.0);  // d2 is ranked first
  EXPECT_NEAR(s.mean.at("mrr@10"), 0.5, kEps);
}

TEST(ScoreRetrieval, NothingScoredStillHasEveryKey) {
  const RetrievalScores s = score_retrieval({}, {{"q", {{"d", 0}}}}, {10});
  EXPECT_EQ(s.queries_skipped, 1);
  EXPECT_TRUE(s.query_ids.empty());
  EXPECT_EQ(s.mean.at("ndcg@10"), 0.0);
  EXPECT_TRUE(s.per_query.at("ndcg@10").empty());
}

TEST(ScoreRetrieval, RefusesDuplicatesAndBadCutoffs) {
  std::map<std::string, std::vector<Scored>> runs;
  runs["q"] = {{"d", 0.5}, {"d", 0.4}};
  std::map<std::string, Judgements> qrels;
  qrels["q"] = {{"d", 1}};
  EXPECT_THROW(score_retrieval(runs, qrels, {10}), std::invalid_argument);
  runs["q"] = {{"d", 0.5}};
  EXPECT_THROW(score_retrieval(runs, qrels, {0}), std::invalid_argument);
}

// ---- clustering ----------------------------------------------------------------------------------

TEST(VMeasure, PerfectAndPermutedLabels) {
  const VMeasure same = v_measure({0, 0, 1, 1, 2, 2}, {0, 0, 1, 1, 2, 2});
  EXPECT_EQ(same.homogeneity, 1.0);
  EXPECT_EQ(same.completeness, 1.0);
  EXPECT_EQ(same.v_measure, 1.0);
  const VMeasure permuted = v_measure({0, 0, 1, 1, 2, 2}, {5, 5, 9, 9, -7, -7});
  EXPECT_EQ(permuted.homogeneity, 1.0);
  EXPECT_EQ(permuted.completeness, 1.0);
  EXPECT_EQ(permuted.v_measure, 1.0);
}

TEST(VMeasure, OneClusterForSeveralClasses) {
  // H(K) = 0 -> completeness 1; H(C|K) = H(C) -> homogeneity 0; v = 0.
  const VMeasure m = v_measure({0, 0, 1, 1}, {3, 3, 3, 3});
  EXPECT_EQ(m.completeness, 1.0);
  EXPECT_NEAR(m.homogeneity, 0.0, kEps);
  EXPECT_NEAR(m.v_measure, 0.0, kEps);
}

TEST(VMeasure, SingleClassScatteredOverClusters) {
  // H(C) = 0 -> homogeneity 1; H(K|C) = H(K) -> completeness 0; v = 0 (sklearn's docs give 0.0).
  const VMeasure m = v_measure({0, 0, 0, 0}, {0, 1, 2, 3});
  EXPECT_EQ(m.homogeneity, 1.0);
  EXPECT_NEAR(m.completeness, 0.0, kEps);
  EXPECT_NEAR(m.v_measure, 0.0, kEps);
}

TEST(VMeasure, IndependentLabelsScoreZero) {
  // Every cluster holds half of each class: H(C|K) = H(C), h = 0; likewise c = 0; h+c = 0 -> v = 0.
  const VMeasure m = v_measure({0, 0, 1, 1}, {0, 1, 0, 1});
  EXPECT_NEAR(m.homogeneity, 0.0, kEps);
  EXPECT_NEAR(m.completeness, 0.0, kEps);
  EXPECT_EQ(m.v_measure, 0.0);
}

TEST(VMeasure, SplitClassScoresPointEight) {
  // sklearn's docstring example v_measure_score([0,0,1,1], [0,0,1,2]) = 0.8. By hand: clusters are pure,
  // h = 1. H(K) = 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2; H(K|C) = 2 * 1/4 ln 2 = 0.5 ln 2; c = 1 - 1/3 = 2/3;
  // v = 2 * 1 * 2/3 / (5/3) = 0.8. Swapping the roles swaps h and c.
  const VMeasure m = v_measure({0, 0, 1, 1}, {0, 0, 1, 2});
  EXPECT_NEAR(m.homogeneity, 1.0, kEps);
  EXPECT_NEAR(m.completeness, 2.0 / 3.0, kEps);
  EXPECT_NEAR(m.v_measure, 0.8, kEps);
  const VMeasure swapped = v_measure({0, 0, 1, 2}, {0, 0, 1, 1});
  EXPECT_NEAR(swapped.homogeneity, 2.0 / 3.0, kEps);
  EXPECT_NEAR(swapped.completeness, 1.0, kEps);
  EXPECT_NEAR(swapped.v_measure, 0.8, kEps);
}

TEST(VMeasure, WorkedExample) {
  // gold [0,0,0,1,1,1], predicted [0,0,1,1,2,2]; N = 6, contingency n(c,k): (0,0)=2 (0,1)=1 (1,1)=1 (1,2)=2.
  // H(C) = ln 2. H(C|K) = -[2/6 ln(2/2) + 1/6 ln(1/2) + 1/6 ln(1/2) + 2/6 ln(2/2)] = (1/3) ln 2.
  // h = 1 - (1/3 ln 2)/ln 2 = 2/3. (sklearn: MI = H(C) - H(C|K) = (2/3) ln 2 = 0.4620981204; h = MI/H(C).)
  // H(K) = ln 3 = 1.0986122887. H(K|C) = -2[2/6 ln(2/3) + 1/6 ln(1/3)] = (2/3) ln 1.5 + (1/3) ln 3
  //      = 0.2703100721 + 0.3662040962 = 0.6365141683; c = 1 - 0.6365141683/1.0986122887 = 0.4206198357
  //      (= MI/H(K) = 0.4620981204/1.0986122887).
  // v = 2 * 0.6666666667 * 0.4206198357 / (0.6666666667 + 0.4206198357) = 0.5158037430.
  const VMeasure m = v_measure({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2});
  EXPECT_NEAR(m.homogeneity, 2.0 / 3.0, kEps);
  EXPECT_NEAR(m.completeness, 0.42061983571430506, kEps);
  EXPECT_NEAR(m.v_measure, 0.5158037429793889, kEps);
}

TEST(VMeasure, EmptyAndMismatched) {
  const VMeasure m = v_measure({}, {});
  EXPECT_EQ(m.v_measure, 1.0);
  EXPECT_THROW(v_measure({0, 1}, {0}), std::invalid_argument);
}

// ---- correlation ---------------------------------------------------------------------------------

TEST(Correlation, AverageRanks) {
  // 5 -> 1, 10 -> 2, the three 20s share ranks 3, 4, 5 -> 4.
  EXPECT_EQ(average_ranks({10, 20, 20, 20, 5}), (std::vector<double>{2, 4, 4, 4, 1}));
  EXPECT_TRUE(average_ranks({}).empty());
}

TEST(Correlation, SpearmanWithTies) {
  // x = [1,2,2,3] -> ranks [1, 2.5, 2.5, 4]; y = [1,3,2,4] -> ranks [1, 3, 2, 4]; both means 2.5.
  // dx = [-1.5, 0, 0, 1.5], dy = [-1.5, 0.5, -0.5, 1.5]: Sxy = 2.25 + 2.25 = 4.5, Sxx = 4.5,
  // Syy = 2.25 + 0.25 + 0.25 + 2.25 = 5 -> rho = 4.5 / sqrt(22.5) = 0.9486832981.
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 0.9486832980505138, kEps);
  // Any monotone map gives 1.
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 8, 27, 1000}), 1.0, kEps);
}

TEST(Correlation, PearsonKnownValues) {
  // x = [1..5], y = [2,4,5,4,5]: means 3 and 4; dx = [-2,-1,0,1,2], dy = [-2,0,1,0,1];
  // Sxy = 4 + 2 = 6, Sxx = 10, Syy = 6 -> r = 6 / sqrt(60) = 0.7745966692.
  EXPECT_NEAR(pearson({1, 2, 3, 4, 5}, {2, 4, 5, 4, 5}), 0.7745966692414834, kEps);
  EXPECT_NEAR(pearson({1, 2, 3}, {-1, -3, -5}), -1.0, kEps);
}

TEST(Correlation, UndefinedCasesAreNanAndMismatchThrows) {
  EXPECT_TRUE(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {4, 4, 4})));
  EXPECT_TRUE(std::isnan(pearson({1}, {2})));
  EXPECT_TRUE(std::isnan(spearman({1, std::nan(""), 3}, {1, 2, 3})));
  EXPECT_THROW(pearson({1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW(spearman({1, 2}, {1}), std::invalid_argument);
}

TEST(MeanStd, SampleStandardDeviation) {
  // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample variance 32/7 -> std 2.1380899353.
  const MeanStd m = mean_std({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_NEAR(m.mean, 5.0, kEps);
  EXPECT_NEAR(m.std, 2.138089935299395, kEps);
  const MeanStd one = mean_std({3.5});
  EXPECT_EQ(one.mean, 3.5);
  EXPECT_EQ(one.std, 0.0);
  EXPECT_TRUE(std::isnan(mean_std({}).mean));
}

}  // namespace
}  // namespace sentbench::metrics
