// MTEB's scoring protocols for pair classification, reranking and classification as pure functions on
// plain embedding matrices (no LibTorch), so that sentbench's numbers are comparable with MTEB's.
//
// Followed: MTEB 1.39.7 (tag 1.39.7, commit d2c704c15a6312264822be11986372cc1f7e6c6b, the last 1.x
// release): mteb/evaluation/evaluators/PairClassificationEvaluator.py, RerankingEvaluator.py,
// ClassificationEvaluator.py (logRegClassificationEvaluator) and mteb/abstasks/AbsTaskClassification.py,
// with the scikit-learn those call taken as Debian 12's python3-sklearn 1.2.1 (average_precision_score,
// LogisticRegression, f1_score) on scipy 1.10.1 (L-BFGS-B).
//
// Deviations from MTEB, all deliberate:
// - Classification undersampling shuffles with std::mt19937_64 (seed 42 by default, MTEB's seed) and
//   our own Fisher-Yates, not numpy's global RandomState, so the train subsets (and thus the scores)
//   are not bit-identical to MTEB's; the protocol (one persistent index list, re-shuffled in place
//   every experiment, first `samples_per_label` of each label in shuffled order) is MTEB's.
// - Pair classification omits MTEB's "similarity_*" block: without a model-specific similarity MTEB
//   fills it with the cosine scores, so it duplicates "cosine_*" and cannot change any max_*.
// - Reranking takes one query embedding per query (MTEB also accepts a list of sub-queries and takes
//   the max similarity over them) and does not compute MTEB's nAUC confidence scores.
// - Classification does not report MTEB's binary-only "ap"/"ap_weighted" (AP of hard predictions).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sentbench::mteb_scoring {

// A dense row-major matrix of embeddings: row i is data[i*cols, (i+1)*cols). Every function checks
// data.size() == rows*cols and throws std::invalid_argument otherwise.
struct Matrix {
  std::vector<float> data;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

// ---- shared metric -------------------------------------------------------------------------------

// sklearn.metrics.average_precision_score(labels, scores) for 0/1 labels: step-wise, no interpolation,
// sum over distinct score thresholds (descending) of (recall_k - recall_{k-1}) * precision_k. Samples
// with equal scores form one threshold, so a tie counts all its positives and negatives at once.
// Throws std::invalid_argument on empty input, different lengths, a label other than 0/1, a non-finite
// score (sklearn refuses those too), or no positive label (where sklearn warns and returns 0).
double average_precision(const std::vector<double>& scores, const std::vector<int>& labels);

// ---- pair classification -------------------------------------------------------------------------

// The four per-pair scores MTEB computes, in double precision. cosine = 1 - paired_cosine_distances
// (= 1 - 0.5*||x/|x| - y/|y|||^2, a zero vector left as is), dot = x.y, euclidean = ||x-y||,
// manhattan = sum|x-y|. The distances are not negated here: MTEB passes them with
// high_score_more_similar = false.
struct PairScores {
  std::vector<double> cosine, dot, euclidean, manhattan;
};
PairScores pair_scores(const Matrix& emb1, const Matrix& emb2);

// PairClassificationEvaluator.find_best_acc_and_threshold: rows sorted by score (descending when
// high_score_more_similar, ascending otherwise; a stable sort, as Python's sorted), then every cut after
// position i < n-1 is tried (the first i+1 rows predicted similar); the first cut with the highest
// accuracy wins and its threshold is the midpoint of the scores either side. Starting values are
// accuracy 0 and threshold -1, as in MTEB.
struct AccuracyThreshold {
  double accuracy = 0;
  double threshold = -1;
};
AccuracyThreshold find_best_acc_and_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                              bool high_score_more_similar);

// PairClassificationEvaluator.find_best_f1_and_threshold: the same sweep maximising F1 of the positive
// class (only cuts with at least one true positive count; all zero, threshold 0, when none does).
struct F1Threshold {
  double f1 = 0;
  double precision = 0;
  double recall = 0;
  double threshold = 0;
};
F1Threshold find_best_f1_and_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                       bool high_score_more_similar);

// PairClassificationEvaluator.ap_score: average_precision(scores * (high_score_more_similar ? 1 : -1)).
double pair_ap_score(const std::vector<double>& scores, const std::vector<int>& labels, bool high_score_more_similar);

// Result of one pair-classification task. `scores` holds MTEB 1.39.7's flat keys:
// "{cosine,manhattan,euclidean,dot}_{accuracy,accuracy_threshold,f1,f1_threshold,precision,recall,ap}",
// "max_{accuracy,f1,precision,recall,ap}" (each the max over the four similarities on its own) and
// "main_score" (= max_ap, the main score of 40 of MTEB's 44 pair-classification tasks).
struct PairClassificationResult {
  std::map<std::string, double> scores;
  double main_score = 0;  // max_ap
};

// Scores pairs (emb1 row i, emb2 row i) with 0/1 labels (1 = similar). Throws std::invalid_argument on
// empty input, different row counts or dimensions, labels not 0/1, or labels of a single class.
PairClassificationResult score_pair_classification(const Matrix& emb1, const Matrix& emb2,
                                                   const std::vector<int>& labels);

// ---- reranking -----------------------------------------------------------------------------------

// One query's candidates, scored by the caller (e.g. a lexical scorer): scores[j] for candidate j,
// relevant[j] = 1 for a positive, 0 for a negative.
struct ScoredCandidates {
  std::vector<double> scores;
  std::vector<int> relevant;
};

// One query with its positive and negative candidates (MTEB's {"query", "positive", "negative"}).
struct RerankingInstance {
  std::vector<float> query;
  Matrix positives;
  Matrix negatives;
};

// Per-query and mean reranking metrics. As MTEB, a query without positives or without negatives is
// dropped before scoring; `query_indices` lists the scored queries (positions in the input), and the
// per-query vectors are aligned with it. scores: "map", "mrr" (MRR@k), "recall_at_<k>" and
// "main_score" (= map, the main score of MTEB's reranking tasks).
struct RerankingResult {
  std::map<std::string, double> scores;
  double map = 0;
  double mrr = 0;
  std::vector<std::size_t> query_indices;
  std::vector<double> ap_per_query;
  std::vector<double> mrr_per_query;
  std::vector<double> recall_per_query;
};

// RerankingEvaluator on precomputed scores: per query, AP = average_precision(scores, relevant);
// candidates are ranked by score descending with ties in input order (a stable sort: MTEB uses
// torch.argsort(-scores), whose CPU sort keeps input order for ties in practice); MRR@k is the
// reciprocal rank of the first relevant candidate within the top k (0 if none) and recall@k the share
// of relevant candidates in the top k. Throws std::invalid_argument on k < 1, a query whose vectors
// differ in length or hold a label other than 0/1, or when no query has both a positive and a negative.
RerankingResult score_reranking_scored(const std::vector<ScoredCandidates>& queries, int k = 10);

// RerankingEvaluator with MTEB's default similarity: cosine of the query with each candidate (norms
// clamped below at 1e-12, as torch.nn.functional.normalize), positives listed before negatives as
// MTEB does, then score_reranking_scored. Throws std::invalid_argument on dimension mismatches.
std::vector<double> cosine_scores(const std::vector<float>& query, const Matrix& candidates);
RerankingResult score_reranking(const std::vector<RerankingInstance>& queries, int k = 10);

// ---- classification ------------------------------------------------------------------------------

// sklearn.linear_model.LogisticRegression(max_iter=100) as of sklearn 1.2.1 (defaults: C=1, lbfgs,
// tol=1e-4, fit_intercept, multi_class="auto"). Classes are the sorted distinct labels. With more than
// two classes it fits the multinomial model (one weight row per class) minimising
//   sum_i [logsumexp_k(w_k.x_i + b_k) - (w_{y_i}.x_i + b_{y_i})] + 0.5/C * sum_k ||w_k||^2,
// with exactly two it fits sklearn's binary ("ovr") model, one weight row w for classes[1]:
//   sum_i [log(1 + exp(w.x_i + b)) - [y_i = classes[1]] (w.x_i + b)] + 0.5/C * ||w||^2;
// intercepts are not penalised. The minimiser is L-BFGS as scipy's L-BFGS-B runs it without bounds
// (memory 10, Moré-Thuente line search with ftol 1e-3 / gtol 0.9 / xtol 0.1, first step 1/||d||, at
// most 20 evaluations per search, restart on a failed search), starting from zero and stopping when
// max|gradient| <= tol, when the relative decrease of the objective is <= 2.22e-9 (scipy's default
// ftol), or after max_iter iterations, in double precision throughout.
struct LogisticRegressionOptions {
  double C = 1.0;
  int max_iter = 100;
  double tol = 1e-4;
};

class LogisticRegression {
 public:
  explicit LogisticRegression(LogisticRegressionOptions options = {});

  // Throws std::invalid_argument on empty input, rows != labels, or fewer than two distinct labels.
  void fit(const Matrix& x, const std::vector<std::int64_t>& y);
  // Predicted labels: argmax of the decision values (first class on ties); for two classes,
  // classes[1] when the decision value is > 0. Throws std::logic_error before fit and
  // std::invalid_argument on a dimension mismatch.
  std::vector<std::int64_t> predict(const Matrix& x) const;

  const std::vector<std::int64_t>& classes() const { return classes_; }
  // Row-major weights, one row of `dim` per class (one row in total for two classes), and intercepts.
  const std::vector<double>& coef() const { return coef_; }
  const std::vector<double>& intercept() const { return intercept_; }
  int n_iter() const { return n_iter_; }

 private:
  LogisticRegressionOptions options_;
  std::vector<std::int64_t> classes_;
  std::vector<double> coef_;
  std::vector<double> intercept_;
  std::int64_t dim_ = 0;
  int n_iter_ = 0;
};

// sklearn.metrics accuracy_score and f1_score(average="macro" / "weighted"). F1 is computed per label
// of the union of true and predicted labels (0 where precision + recall is 0, sklearn's zero_division
// default); "weighted" weights by the number of true samples of each label. Throw
// std::invalid_argument on empty input or different lengths.
double accuracy(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred);
double f1_macro(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred);
double f1_weighted(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred);

// AbsTaskClassification's defaults: 10 experiments, 8 samples per label, seed 42.
struct ClassificationOptions {
  int n_experiments = 10;
  int samples_per_label = 8;
  std::uint64_t seed = 42;
  LogisticRegressionOptions logreg;
};

// One experiment of the protocol: the train rows used (in shuffled order) and the test predictions.
struct ClassificationExperiment {
  std::vector<std::size_t> train_indices;
  std::vector<std::int64_t> predictions;
  double accuracy = 0;
  double f1 = 0;
  double f1_weighted = 0;
};

// scores: "accuracy", "f1", "f1_weighted" (means over experiments) and "main_score" (= accuracy, the
// main score of MTEB's classification tasks). correct_fraction[t] is the share of experiments that
// predicted test item t correctly (its mean is the mean accuracy), for bootstrap resampling.
struct ClassificationResult {
  std::map<std::string, double> scores;
  double main_score = 0;
  std::vector<double> accuracy_per_experiment;
  std::vector<double> correct_fraction;
  std::vector<ClassificationExperiment> experiments;
};

// AbsTaskClassification._undersample_data: shuffles `idxs` in place with `rng` (Fisher-Yates from the
// last position down, each draw uniform by rejection, so the order is the same on every platform; the
// list persists across experiments, so each experiment shuffles the previous order again) and returns,
// in that order, the first samples_per_label indices of each label of y.
std::vector<std::size_t> undersample(std::vector<std::size_t>& idxs, const std::vector<std::int64_t>& y,
                                     int samples_per_label, std::mt19937_64& rng);

// The MTEB classification protocol (logReg method): for each of n_experiments experiments, undersample
// the train set, fit LogisticRegression on it, predict every test item and score accuracy and F1.
// Throws std::invalid_argument on empty sets, mismatched sizes or dimensions, n_experiments < 1,
// samples_per_label < 1, or a train set with fewer than two labels.
ClassificationResult score_classification(const Matrix& x_train, const std::vector<std::int64_t>& y_train,
                                          const Matrix& x_test, const std::vector<std::int64_t>& y_test,
                                          const ClassificationOptions& options = {});

}  // namespace sentbench::mteb_scoring
