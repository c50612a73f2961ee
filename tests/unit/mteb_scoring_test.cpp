// mteb_scoring against hand-computed cases (AP with ties, MTEB's threshold sweeps and their quirks, MRR@10
// cut-off, per-label F1) and against scikit-learn 1.2.1 outputs stored in
// tests/fixtures/mteb_scoring/fixture.json (made by make_fixture.py there; not run by the tests).
#include "mteb_scoring.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sentbench::mteb_scoring {
namespace {

constexpr double kEps = 1e-12;

// The fixture's inputs are 4-decimal numbers that sklearn read as float64 and Matrix holds as float32
// (relative error below 6e-8), so scores and thresholds derived from them agree to about 1e-7.
constexpr double kFloat32Input = 1e-6;
double float32_tolerance(double value) { return kFloat32Input * (1 + std::abs(value)); }

std::filesystem::path fixture_path() {
#if defined(SENTBENCH_FIXTURES_DIR)
  const std::filesystem::path fixtures = SENTBENCH_FIXTURES_DIR;
#elif defined(SENTBENCH_SOURCE_DIR)
  const std::filesystem::path fixtures = std::filesystem::path(SENTBENCH_SOURCE_DIR) / "tests" / "fixtures";
#else
  const std::filesystem::path fixtures = std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures";
#endif
  return fixtures / "mteb_scoring" / "fixture.json";
}

const nlohmann::json& fixture() {
  static const nlohmann::json data = [] {
    std::ifstream in(fixture_path());
    if (!in) throw std::runtime_error("cannot open " + fixture_path().string());
    return nlohmann::json::parse(in);
  }();
  return data;
}

Matrix matrix_of(const nlohmann::json& rows) {
  Matrix m;
  m.rows = static_cast<std::int64_t>(rows.size());
  m.cols = m.rows > 0 ? static_cast<std::int64_t>(rows[0].size()) : 0;
  for (const auto& row : rows) {
    for (const auto& v : row) m.data.push_back(v.get<float>());
  }
  return m;
}

Matrix matrix_of(std::int64_t rows, std::int64_t cols, std::vector<float> data) {
  return Matrix{std::move(data), rows, cols};
}

// ---- average precision ---------------------------------------------------------------------------

TEST(AveragePrecision, StepwiseWithoutInterpolation) {
  // Ranks: P, N, P, N -> precision 1 at recall 1/2, 2/3 at recall 1.
  EXPECT_NEAR(average_precision({0.9, 0.8, 0.7, 0.6}, {1, 0, 1, 0}), 0.5 * 1 + 0.5 * (2.0 / 3), kEps);
  EXPECT_NEAR(average_precision({0.1, 0.9}, {1, 1}), 1.0, kEps);
}

TEST(AveragePrecision, TiesFormOneThreshold) {
  // Three tied scores holding 2 positives and 1 negative reach recall 1 at precision 2/3 in one step:
  // AP = 2/3, neither the positives-first order (1.0) nor the negative-first one (0.5*1/2 + 0.5*2/3).
  EXPECT_NEAR(average_precision({0.8, 0.8, 0.8, 0.1}, {1, 0, 1, 0}), 2.0 / 3, kEps);
  EXPECT_NEAR(average_precision({0.8, 0.8, 0.8, 0.1}, {0, 1, 1, 0}), 2.0 / 3, kEps);
  // A tie after a clean top: P (recall 1/3, precision 1), then {P, N, P} (recall 1, precision 3/4).
  EXPECT_NEAR(average_precision({0.9, 0.5, 0.5, 0.5}, {1, 1, 0, 1}), 1.0 / 3 + (2.0 / 3) * 0.75, kEps);
}

TEST(AveragePrecision, RejectsBadInput) {
  EXPECT_THROW(average_precision({}, {}), std::invalid_argument);
  EXPECT_THROW(average_precision({0.1, 0.2}, {1}), std::invalid_argument);
  EXPECT_THROW(average_precision({0.1, 0.2}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(average_precision({0.1, 0.2}, {0, 0}), std::invalid_argument);
  EXPECT_THROW(average_precision({0.1, std::nan("")}, {0, 1}), std::invalid_argument);
}

// ---- pair classification: hand-computed ----------------------------------------------------------

TEST(PairThresholds, BestAccuracyForSimilarities) {
  // Descending: (0.9,P) (0.7,N) (0.6,P) (0.2,N). Cuts: 3/4, 2/4, 3/4 -> the first 3/4 wins, threshold
  // midway between 0.9 and 0.7.
  const AccuracyThreshold r = find_best_acc_and_threshold({0.9, 0.7, 0.6, 0.2}, {1, 0, 1, 0}, true);
  EXPECT_NEAR(r.accuracy, 0.75, kEps);
  EXPECT_NEAR(r.threshold, 0.8, kEps);
}

TEST(PairThresholds, BestAccuracyForDistancesSortsAscending) {
  // Ascending: (0.1,P) (0.3,P) (0.5,N) (0.9,N): the cut after 0.3 separates them perfectly.
  const AccuracyThreshold r = find_best_acc_and_threshold({0.1, 0.5, 0.3, 0.9}, {1, 0, 1, 0}, false);
  EXPECT_NEAR(r.accuracy, 1.0, kEps);
  EXPECT_NEAR(r.threshold, 0.4, kEps);
}

TEST(PairThresholds, MtebQuirksAreReproduced) {
  // The cut after the last row (everything similar) is never tried: all-positive labels score 2/3.
  const AccuracyThreshold all_pos = find_best_acc_and_threshold({0.9, 0.8, 0.7}, {1, 1, 1}, true);
  EXPECT_NEAR(all_pos.accuracy, 2.0 / 3, kEps);
  EXPECT_NEAR(all_pos.threshold, 0.75, kEps);
  // Tied scores keep their input order (stable sort), so the order of the input decides the result;
  // when no cut beats accuracy 0 the starting threshold -1 comes back.
  const AccuracyThreshold neg_first = find_best_acc_and_threshold({0.5, 0.5}, {0, 1}, true);
  EXPECT_EQ(neg_first.accuracy, 0.0);
  EXPECT_EQ(neg_first.threshold, -1.0);
  const AccuracyThreshold pos_first = find_best_acc_and_threshold({0.5, 0.5}, {1, 0}, true);
  EXPECT_NEAR(pos_first.accuracy, 1.0, kEps);
  EXPECT_NEAR(pos_first.threshold, 0.5, kEps);
}

TEST(PairThresholds, BestF1) {
  // Descending (0.9,P) (0.7,N) (0.6,P) (0.2,N), 2 positives. Cuts: F1 2/3, 1/2, then P=2/3 R=1 F1=0.8.
  const F1Threshold r = find_best_f1_and_threshold({0.9, 0.7, 0.6, 0.2}, {1, 0, 1, 0}, true);
  EXPECT_NEAR(r.f1, 0.8, kEps);
  EXPECT_NEAR(r.precision, 2.0 / 3, kEps);
  EXPECT_NEAR(r.recall, 1.0, kEps);
  EXPECT_NEAR(r.threshold, 0.4, kEps);
  // Without a true positive in any cut everything stays 0.
  const F1Threshold none = find_best_f1_and_threshold({0.9, 0.7, 0.1}, {0, 0, 1}, true);
  EXPECT_EQ(none.f1, 0.0);
  EXPECT_EQ(none.threshold, 0.0);
}

TEST(PairThresholds, ApNegatesDistances) {
  // As distances (small = similar) {0.1 P, 0.3 P, 0.5 N} rank P, P, N: AP 1. As similarities they rank
  // N, P, P: precision 1/2 at recall 1/2, 2/3 at recall 1.
  EXPECT_NEAR(pair_ap_score({0.1, 0.3, 0.5}, {1, 1, 0}, false), 1.0, kEps);
  EXPECT_NEAR(pair_ap_score({0.1, 0.3, 0.5}, {1, 1, 0}, true), 0.5 * 0.5 + 0.5 * (2.0 / 3), kEps);
}

TEST(PairScoresTest, FourSimilarities) {
  const Matrix a = matrix_of(3, 2, {1, 0, 3, 4, 0, 0});
  const Matrix b = matrix_of(3, 2, {0, 2, 6, 8, 1, 0});
  const PairScores s = pair_scores(a, b);
  EXPECT_NEAR(s.cosine[0], 0.0, kEps);
  EXPECT_NEAR(s.dot[0], 0.0, kEps);
  EXPECT_NEAR(s.euclidean[0], std::sqrt(5.0), kEps);
  EXPECT_NEAR(s.manhattan[0], 3.0, kEps);
  EXPECT_NEAR(s.cosine[1], 1.0, kEps);
  EXPECT_NEAR(s.dot[1], 50.0, kEps);
  EXPECT_NEAR(s.euclidean[1], 5.0, kEps);
  EXPECT_NEAR(s.manhattan[1], 7.0, kEps);
  // sklearn's normalize leaves a zero vector at zero: 1 - 0.5*||0 - e1||^2 = 0.5.
  EXPECT_NEAR(s.cosine[2], 0.5, kEps);
}

TEST(PairClassification, KeysAndMaxima) {
  const Matrix a = matrix_of(4, 2, {1, 0, 1, 1, 0, 1, 1, 0});
  const Matrix b = matrix_of(4, 2, {1, 0.1f, -1, 1, 1, 0, 1, 0});
  const PairClassificationResult r = score_pair_classification(a, b, {1, 0, 0, 1});
  EXPECT_EQ(r.scores.size(), 4u * 7 + 5 + 1);
  for (const char* sim : {"cosine", "manhattan", "euclidean", "dot"}) {
    for (const char* metric : {"accuracy", "accuracy_threshold", "f1", "f1_threshold", "precision", "recall", "ap"}) {
      EXPECT_EQ(r.scores.count(std::string(sim) + "_" + metric), 1u) << sim << "_" << metric;
    }
  }
  // Pairs 0 and 3 are (near-)identical and similar, 1 and 2 orthogonal: every similarity separates them.
  EXPECT_NEAR(r.scores.at("cosine_ap"), 1.0, kEps);
  EXPECT_NEAR(r.scores.at("max_ap"), 1.0, kEps);
  EXPECT_NEAR(r.scores.at("max_accuracy"), 1.0, kEps);
  EXPECT_EQ(r.main_score, r.scores.at("max_ap"));
  EXPECT_EQ(r.scores.at("main_score"), r.main_score);
  double max_f1 = 0;
  for (const char* sim : {"cosine", "manhattan", "euclidean", "dot"}) {
    max_f1 = std::max(max_f1, r.scores.at(std::string(sim) + "_f1"));
  }
  EXPECT_EQ(r.scores.at("max_f1"), max_f1);
}

TEST(PairClassification, RejectsBadInput) {
  const Matrix a = matrix_of(2, 2, {1, 0, 0, 1});
  const Matrix b = matrix_of(2, 2, {1, 0, 1, 0});
  EXPECT_THROW(score_pair_classification(a, b, {1, 1}), std::invalid_argument);   // one class
  EXPECT_THROW(score_pair_classification(a, b, {1, 2}), std::invalid_argument);   // not 0/1
  EXPECT_THROW(score_pair_classification(a, b, {1}), std::invalid_argument);      // label count
  EXPECT_THROW(score_pair_classification(a, matrix_of(1, 2, {1, 0}), {0, 1}), std::invalid_argument);
  EXPECT_THROW(score_pair_classification(a, matrix_of(2, 1, {1, 0}), {0, 1}), std::invalid_argument);
  EXPECT_THROW(score_pair_classification(Matrix{}, Matrix{}, {}), std::invalid_argument);
  EXPECT_THROW(score_pair_classification(matrix_of(2, 2, {1, 0, 0}), b, {0, 1}), std::invalid_argument);
}

// ---- pair classification: scikit-learn parity ----------------------------------------------------

TEST(PairClassificationSklearn, MatchesFixture) {
  const auto& fx = fixture().at("pair_classification");
  const Matrix e1 = matrix_of(fx.at("emb1"));
  const Matrix e2 = matrix_of(fx.at("emb2"));
  const std::vector<int> labels = fx.at("labels").get<std::vector<int>>();
  const PairScores ps = pair_scores(e1, e2);
  const std::map<std::string, const std::vector<double>*> computed = {
      {"cosine", &ps.cosine}, {"manhattan", &ps.manhattan}, {"euclidean", &ps.euclidean}, {"dot", &ps.dot}};
  const PairClassificationResult r = score_pair_classification(e1, e2, labels);

  double max_ap_diff = 0;
  for (const auto& [name, scores] : computed) {
    const auto& expected = fx.at("similarities").at(name);
    const std::vector<double> sk_scores = expected.at("scores").get<std::vector<double>>();
    ASSERT_EQ(scores->size(), sk_scores.size());
    for (std::size_t i = 0; i < sk_scores.size(); ++i) {
      EXPECT_NEAR((*scores)[i], sk_scores[i], float32_tolerance(sk_scores[i])) << name << " " << i;
    }
    const double ap_diff = std::abs(r.scores.at(name + "_ap") - expected.at("ap").get<double>());
    max_ap_diff = std::max(max_ap_diff, ap_diff);
    EXPECT_LE(ap_diff, 1e-6) << name;
    for (const char* metric : {"accuracy", "f1", "precision", "recall"}) {
      EXPECT_NEAR(r.scores.at(name + "_" + metric), expected.at(metric).get<double>(), kEps) << name << "_" << metric;
    }
    for (const char* metric : {"accuracy_threshold", "f1_threshold"}) {
      const double sk = expected.at(metric).get<double>();
      EXPECT_NEAR(r.scores.at(name + "_" + metric), sk, float32_tolerance(sk)) << name << "_" << metric;
    }
  }
  EXPECT_NEAR(r.main_score, fx.at("max_ap").get<double>(), 1e-6);
  std::cout << "[ sklearn  ] pair classification: max |AP diff| = " << max_ap_diff << "\n";
}

// ---- reranking -----------------------------------------------------------------------------------

TEST(Reranking, MrrCutsOffAtRankTen) {
  // One positive ranked 11th of 11: MRR@10 = 0, recall@10 = 0, AP = 1/11.
  ScoredCandidates at_11{{0.0}, {1}};
  for (int i = 0; i < 10; ++i) {
    at_11.scores.push_back(1.0 + i);
    at_11.relevant.push_back(0);
  }
  // Ranked 10th of 11: MRR@10 = 1/10.
  ScoredCandidates at_10 = at_11;
  at_10.scores[0] = 1.5;
  const RerankingResult r = score_reranking_scored({at_11, at_10});
  ASSERT_EQ(r.mrr_per_query.size(), 2u);
  EXPECT_EQ(r.mrr_per_query[0], 0.0);
  EXPECT_EQ(r.recall_per_query[0], 0.0);
  EXPECT_NEAR(r.ap_per_query[0], 1.0 / 11, kEps);
  EXPECT_NEAR(r.mrr_per_query[1], 0.1, kEps);
  EXPECT_NEAR(r.mrr, 0.05, kEps);
  EXPECT_NEAR(r.scores.at("recall_at_10"), 0.5, kEps);
  EXPECT_NEAR(r.map, (1.0 / 11 + 1.0 / 10) / 2, kEps);
  EXPECT_EQ(r.scores.at("main_score"), r.map);
  // With k = 11 the 11th rank counts.
  EXPECT_NEAR(score_reranking_scored({at_11}, 11).mrr, 1.0 / 11, kEps);
}

TEST(Reranking, TiesRankInCandidateOrderForMrrButNotForAp) {
  const RerankingResult pos_first = score_reranking_scored({{{0.5, 0.5, 0.1}, {1, 0, 0}}});
  const RerankingResult neg_first = score_reranking_scored({{{0.5, 0.5, 0.1}, {0, 1, 0}}});
  EXPECT_EQ(pos_first.mrr, 1.0);
  EXPECT_EQ(neg_first.mrr, 0.5);
  EXPECT_NEAR(pos_first.map, 0.5, kEps);  // the tie is one threshold: precision 1/2 at recall 1
  EXPECT_NEAR(neg_first.map, 0.5, kEps);
}

TEST(Reranking, DropsQueriesWithoutPositivesOrNegatives) {
  const RerankingResult r = score_reranking_scored({{{0.3, 0.2}, {0, 0}}, {{0.9, 0.1}, {1, 0}}, {{0.4}, {1}}});
  EXPECT_EQ(r.query_indices, (std::vector<std::size_t>{1}));
  EXPECT_EQ(r.ap_per_query, (std::vector<double>{1.0}));
  EXPECT_THROW(score_reranking_scored({{{0.3}, {1}}}), std::invalid_argument);
  EXPECT_THROW(score_reranking_scored({{{0.3, 0.1}, {1}}}), std::invalid_argument);
  EXPECT_THROW(score_reranking_scored({{{0.3, 0.1}, {1, 3}}}), std::invalid_argument);
  EXPECT_THROW(score_reranking_scored({{{0.3, 0.1}, {1, 0}}}, 0), std::invalid_argument);
}

TEST(Reranking, CosineOfEmbeddings) {
  RerankingInstance q{{1, 0}, matrix_of(1, 2, {2, 0}), matrix_of(2, 2, {0, 3, 1, 1})};
  EXPECT_EQ(cosine_scores(q.query, q.negatives)[0], 0.0);
  EXPECT_NEAR(cosine_scores(q.query, q.negatives)[1], std::sqrt(0.5), kEps);
  // The positive (cosine 1) ranks first.
  const RerankingResult r = score_reranking({q});
  EXPECT_EQ(r.map, 1.0);
  EXPECT_EQ(r.mrr, 1.0);
  EXPECT_THROW(score_reranking({{{1, 0, 0}, matrix_of(1, 2, {2, 0}), matrix_of(1, 2, {0, 3})}}),
               std::invalid_argument);
}

TEST(RerankingSklearn, MatchesFixture) {
  const auto& fx = fixture().at("reranking");
  std::vector<RerankingInstance> queries;
  for (const auto& q : fx.at("queries")) {
    queries.push_back(
        {q.at("query").get<std::vector<float>>(), matrix_of(q.at("positives")), matrix_of(q.at("negatives"))});
  }
  const RerankingResult r = score_reranking(queries);
  ASSERT_EQ(r.ap_per_query.size(), queries.size());
  double max_ap_diff = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& q = fx.at("queries")[i];
    const std::vector<double> scores = cosine_scores(queries[i].query, queries[i].positives);
    EXPECT_NEAR(scores[0], q.at("scores")[0].get<double>(), kFloat32Input);
    max_ap_diff = std::max(max_ap_diff, std::abs(r.ap_per_query[i] - q.at("ap").get<double>()));
    EXPECT_NEAR(r.ap_per_query[i], q.at("ap").get<double>(), 1e-6) << "query " << i;
    EXPECT_NEAR(r.mrr_per_query[i], q.at("mrr_at_10").get<double>(), kEps) << "query " << i;
  }
  EXPECT_NEAR(r.map, fx.at("map").get<double>(), 1e-6);
  EXPECT_NEAR(r.mrr, fx.at("mrr_at_10").get<double>(), kEps);
  // The fixture holds a positive ranked 11th (MRR 0) and a positive tied with a negative.
  EXPECT_EQ(r.mrr_per_query[3], 0.0);
  std::cout << "[ sklearn  ] reranking: max |AP diff| = " << max_ap_diff << "\n";
}

// ---- classification metrics ----------------------------------------------------------------------

TEST(ClassificationMetrics, AccuracyAndF1) {
  const std::vector<std::int64_t> y_true = {0, 0, 1, 1, 2}, y_pred = {0, 1, 1, 1, 0};
  // Label 0: P 1/2 R 1/2 F1 1/2; label 1: P 2/3 R 1 F1 0.8; label 2: never predicted, F1 0.
  EXPECT_NEAR(accuracy(y_true, y_pred), 0.6, kEps);
  EXPECT_NEAR(f1_macro(y_true, y_pred), (0.5 + 0.8 + 0) / 3, kEps);
  EXPECT_NEAR(f1_weighted(y_true, y_pred), (0.5 * 2 + 0.8 * 2 + 0 * 1) / 5, kEps);
  // A label only predicted counts in the macro average (sklearn's union of labels): (2/3 + 0) / 2.
  EXPECT_NEAR(f1_macro({0, 0}, {0, 1}), 1.0 / 3, kEps);
  EXPECT_THROW(accuracy({}, {}), std::invalid_argument);
  EXPECT_THROW(f1_macro({1, 2}, {1}), std::invalid_argument);
}

// ---- logistic regression -------------------------------------------------------------------------

TEST(LogisticRegressionTest, SymmetricBinaryOptimum) {
  // x = -1 (class 7), x = +1 (class 9): by symmetry b = 0 and w solves w = 2*sigmoid(-w), the optimum
  // of 2*log(1 + exp(-w)) + w^2/2. Found here by bisection.
  double lo = 0, hi = 2;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (mid - 2 / (1 + std::exp(mid)) > 0 ? hi : lo) = mid;
  }
  LogisticRegression clf;
  clf.fit(matrix_of(2, 1, {-1, 1}), {7, 9});
  EXPECT_EQ(clf.classes(), (std::vector<std::int64_t>{7, 9}));
  ASSERT_EQ(clf.coef().size(), 1u);
  EXPECT_NEAR(clf.coef()[0], lo, 1e-4);
  EXPECT_NEAR(clf.intercept()[0], 0.0, 1e-4);
  EXPECT_EQ(clf.predict(matrix_of(3, 1, {-0.5f, 0.5f, 3})), (std::vector<std::int64_t>{7, 9, 9}));
}

TEST(LogisticRegressionTest, RejectsBadInput) {
  LogisticRegression clf;
  EXPECT_THROW(clf.predict(matrix_of(1, 1, {0})), std::logic_error);
  EXPECT_THROW(clf.fit(matrix_of(2, 1, {0, 1}), {3, 3}), std::invalid_argument);
  EXPECT_THROW(clf.fit(matrix_of(2, 1, {0, 1}), {3}), std::invalid_argument);
  EXPECT_THROW(clf.fit(Matrix{}, {}), std::invalid_argument);
  clf.fit(matrix_of(2, 1, {0, 1}), {3, 4});
  EXPECT_THROW(clf.predict(matrix_of(1, 2, {0, 1})), std::invalid_argument);
}

// How our LogisticRegression fit of a fixture set compares with sklearn's.
struct SklearnComparison {
  int differing_predictions = 0;
  double accuracy_diff = 0;
  double max_coef_diff = 0;
  int n_iter = 0, sklearn_n_iter = 0;
};

// Fits the fixture set `name`, checks the metrics against sklearn's and prints the differences.
SklearnComparison compare_with_sklearn(const std::string& name) {
  const auto& fx = fixture().at(name);
  LogisticRegressionOptions options;
  options.max_iter = fx.at("max_iter").get<int>();
  LogisticRegression clf(options);
  clf.fit(matrix_of(fx.at("x_train")), fx.at("y_train").get<std::vector<std::int64_t>>());
  const std::vector<std::int64_t> y_test = fx.at("y_test").get<std::vector<std::int64_t>>();
  const std::vector<std::int64_t> pred = clf.predict(matrix_of(fx.at("x_test")));
  const std::vector<std::int64_t> sk_pred = fx.at("predictions").get<std::vector<std::int64_t>>();

  SklearnComparison c;
  for (std::size_t i = 0; i < pred.size(); ++i) c.differing_predictions += pred[i] != sk_pred[i];
  c.accuracy_diff = std::abs(accuracy(y_test, pred) - fx.at("accuracy").get<double>());
  EXPECT_LE(c.accuracy_diff, 1e-3) << name;
  EXPECT_NEAR(f1_macro(y_test, pred), fx.at("f1").get<double>(), 1e-3) << name;
  EXPECT_NEAR(f1_weighted(y_test, pred), fx.at("f1_weighted").get<double>(), 1e-3) << name;
  // The sklearn metrics of sklearn's own predictions pin down our metric functions exactly.
  EXPECT_NEAR(f1_macro(y_test, sk_pred), fx.at("f1").get<double>(), kEps) << name;
  EXPECT_NEAR(f1_weighted(y_test, sk_pred), fx.at("f1_weighted").get<double>(), kEps) << name;

  std::vector<double> sk_coef;
  for (const auto& row : fx.at("coef")) {
    for (const auto& v : row) sk_coef.push_back(v.get<double>());
  }
  const std::vector<double> sk_intercept = fx.at("intercept").get<std::vector<double>>();
  EXPECT_EQ(clf.coef().size(), sk_coef.size()) << name;
  EXPECT_EQ(clf.intercept().size(), sk_intercept.size()) << name;
  for (std::size_t i = 0; i < std::min(sk_coef.size(), clf.coef().size()); ++i) {
    c.max_coef_diff = std::max(c.max_coef_diff, std::abs(clf.coef()[i] - sk_coef[i]));
  }
  for (std::size_t i = 0; i < std::min(sk_intercept.size(), clf.intercept().size()); ++i) {
    c.max_coef_diff = std::max(c.max_coef_diff, std::abs(clf.intercept()[i] - sk_intercept[i]));
  }
  c.n_iter = clf.n_iter();
  c.sklearn_n_iter = fx.at("n_iter").get<int>();
  std::cout << "[ sklearn  ] " << name << ": " << c.differing_predictions << "/" << pred.size()
            << " predictions differ, |accuracy diff| = " << c.accuracy_diff
            << ", max |coef diff| = " << c.max_coef_diff << ", iterations " << c.n_iter << " (sklearn "
            << c.sklearn_n_iter << ")\n";
  return c;
}

TEST(LogisticRegressionSklearn, MulticlassMatches) {
  const SklearnComparison c = compare_with_sklearn("classification_multiclass");
  EXPECT_EQ(c.differing_predictions, 0);
  EXPECT_LE(c.max_coef_diff, 1e-3);
}

TEST(LogisticRegressionSklearn, BinaryMatches) {
  const SklearnComparison c = compare_with_sklearn("classification_binary");
  EXPECT_EQ(c.differing_predictions, 0);
  EXPECT_LE(c.max_coef_diff, 1e-3);
}

TEST(LogisticRegressionSklearn, TruncatedRunFollowsTheSameOptimiserPath) {
  // After 5 iterations the model is far from the optimum; matching coefficients means the same steps.
  const SklearnComparison c = compare_with_sklearn("classification_truncated");
  EXPECT_EQ(c.differing_predictions, 0);
  EXPECT_EQ(c.n_iter, 5);
  EXPECT_LE(c.max_coef_diff, 1e-6);
}

// ---- MTEB classification protocol ----------------------------------------------------------------

TEST(Undersample, PersistentShuffleAndPerLabelCap) {
  const std::vector<std::int64_t> y = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2};
  std::vector<std::size_t> idxs(y.size());
  std::iota(idxs.begin(), idxs.end(), std::size_t{0});
  std::mt19937_64 rng(42);
  const std::vector<std::size_t> first = undersample(idxs, y, 2, rng);
  const std::vector<std::size_t> order_after_first = idxs;

  // idxs is a permutation, and the selection is the first two of each label in its order.
  std::vector<std::size_t> sorted = idxs;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  std::vector<std::size_t> expected;
  std::map<std::int64_t, int> taken;
  for (std::size_t i : idxs) {
    if (taken[y[i]]++ < 2) expected.push_back(i);
  }
  EXPECT_EQ(first, expected);
  EXPECT_EQ(first.size(), 6u);

  // The second call reshuffles the already shuffled list; a fresh generator with the same seed on a
  // fresh list reproduces the first call.
  undersample(idxs, y, 2, rng);
  EXPECT_NE(idxs, order_after_first);
  std::vector<std::size_t> fresh(y.size());
  std::iota(fresh.begin(), fresh.end(), std::size_t{0});
  std::mt19937_64 same_seed(42);
  EXPECT_EQ(undersample(fresh, y, 2, same_seed), first);
  EXPECT_EQ(fresh, order_after_first);
}

TEST(ClassificationProtocol, ExperimentsAreFitsOnTheUndersampledSets) {
  const auto& fx = fixture().at("classification_multiclass");
  const Matrix x_train = matrix_of(fx.at("x_train")), x_test = matrix_of(fx.at("x_test"));
  const auto y_train = fx.at("y_train").get<std::vector<std::int64_t>>();
  const auto y_test = fx.at("y_test").get<std::vector<std::int64_t>>();
  ClassificationOptions options;
  options.n_experiments = 4;
  const ClassificationResult r = score_classification(x_train, y_train, x_test, y_test, options);
  ASSERT_EQ(r.experiments.size(), 4u);
  ASSERT_EQ(r.accuracy_per_experiment.size(), 4u);

  // Replay: same seed, same persistent shuffle, an independent fit per experiment.
  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> idxs(y_train.size());
  std::iota(idxs.begin(), idxs.end(), std::size_t{0});
  double sum = 0;
  for (const ClassificationExperiment& e : r.experiments) {
    const std::vector<std::size_t> chosen = undersample(idxs, y_train, options.samples_per_label, rng);
    EXPECT_EQ(e.train_indices, chosen);
    EXPECT_EQ(chosen.size(), 3u * 8);
    Matrix x{{}, static_cast<std::int64_t>(chosen.size()), x_train.cols};
    std::vector<std::int64_t> y;
    for (std::size_t i : chosen) {
      const auto row = x_train.data.begin() + static_cast<std::ptrdiff_t>(i) * x_train.cols;
      x.data.insert(x.data.end(), row, row + x_train.cols);
      y.push_back(y_train[i]);
    }
    LogisticRegression clf;
    clf.fit(x, y);
    EXPECT_EQ(e.predictions, clf.predict(x_test));
    EXPECT_NEAR(e.accuracy, accuracy(y_test, e.predictions), kEps);
    EXPECT_NEAR(e.f1, f1_macro(y_test, e.predictions), kEps);
    sum += e.accuracy;
  }
  EXPECT_NEAR(r.main_score, sum / 4, kEps);
  EXPECT_EQ(r.scores.at("main_score"), r.main_score);
  EXPECT_EQ(r.scores.at("accuracy"), r.main_score);
  // Per-item correctness averages back to the mean accuracy.
  const double mean_correct = std::accumulate(r.correct_fraction.begin(), r.correct_fraction.end(), 0.0) /
                              static_cast<double>(r.correct_fraction.size());
  EXPECT_NEAR(mean_correct, r.main_score, 1e-12);
  // The experiments see different subsets (12 rows per label, 8 taken).
  EXPECT_NE(r.experiments[0].train_indices, r.experiments[1].train_indices);
  // Deterministic for a seed.
  EXPECT_EQ(score_classification(x_train, y_train, x_test, y_test, options).accuracy_per_experiment,
            r.accuracy_per_experiment);
}

TEST(ClassificationProtocol, RejectsBadInput) {
  const Matrix x = matrix_of(2, 1, {0, 1});
  EXPECT_THROW(score_classification(x, {1, 1}, x, {1, 1}), std::invalid_argument);  // one train label
  EXPECT_THROW(score_classification(x, {1, 2}, x, {1}), std::invalid_argument);
  EXPECT_THROW(score_classification(x, {1, 2}, matrix_of(1, 2, {0, 1}), {1}), std::invalid_argument);
  EXPECT_THROW(score_classification(x, {1, 2}, Matrix{}, {}), std::invalid_argument);
  ClassificationOptions none;
  none.n_experiments = 0;
  EXPECT_THROW(score_classification(x, {1, 2}, x, {1, 2}, none), std::invalid_argument);
}

}  // namespace
}  // namespace sentbench::mteb_scoring
