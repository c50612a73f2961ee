// The MTEB-style task types (tasks/types/pair_classification.cpp, reranking.cpp, classification.cpp) on
// the small sets of tests/fixtures/data/mteb: the task's numbers are the MTEB scoring of the encoder's
// embeddings, the TF-IDF baselines score what working them out by hand gives, bad data is refused with
// file and line, and the per-item scores give back the main score (what compare's bootstrap resamples).
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bag_encoder.hpp"
#include "bootstrap.hpp"
#include "mteb_scoring.hpp"
#include "sentbench/errors.hpp"
#include "suite.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::TempDir;
using testing::HasSubstr;

namespace sentbench {
namespace {

const fs::path kData = fs::path(SENTBENCH_SOURCE_DIR) / "tests/fixtures/data/mteb";

Config eval_table(const std::string& body) {
  return Config::parse("[[eval]]\n" + body, (kData / "recipe.toml").string()).tables("eval").front();
}

TaskContext plain_context() {
  TaskContext c;
  c.encode.show_progress = false;
  return c;
}

std::vector<std::size_t> all_indices(std::size_t n) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  return idx;
}

mteb_scoring::Matrix rows_of(Encoder& encoder, const std::vector<std::string>& texts) {
  const at::Tensor e = encoder.encode(texts, EncodeOptions{}).to(torch::kFloat32).contiguous();
  mteb_scoring::Matrix m;
  m.rows = e.size(0);
  m.cols = e.size(1);
  m.data.assign(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  return m;
}

TEST(PairClassificationTask, ScoresTheEncodersEmbeddingsAsMtebDoes) {
  auto task = make_task(eval_table("type = \"pair_classification\"\npath = \"pairs.tsv\"\n"));
  EXPECT_EQ(task->items(), 6);
  torch::manual_seed(3);
  test::BagEncoder encoder;
  TaskContext context = plain_context();
  const Scores s = task->evaluate(encoder, context);
  const std::vector<std::string> t1 = {"apple pear fruit", "engine wheel car", "apple juice", "violin piano", "sweet orchard", "road drive"};
  const std::vector<std::string> t2 = {"apple pear fruit", "wheel engine car", "engine fuel", "compiler code", "orchard sweet pear", "melody song"};
  const auto expected = mteb_scoring::score_pair_classification(rows_of(encoder, t1), rows_of(encoder, t2), {1, 1, 0, 0, 1, 0});
  EXPECT_NEAR(s.main_score, expected.main_score, 1e-6);
  EXPECT_NEAR(s.metrics.at("max_ap"), expected.scores.at("max_ap"), 1e-6);
  for (const char* key : {"cosine_ap", "dot_ap", "euclidean_ap", "manhattan_ap", "max_accuracy", "max_f1"}) {
    EXPECT_TRUE(s.metrics.count(key)) << key;
  }
  // The per-pair scores with the labels give back the main score (the best similarity's AP).
  EXPECT_EQ(s.per_item.reference, (std::vector<double>{1, 1, 0, 0, 1, 0}));
  EXPECT_NEAR(item_statistic(ItemStatistic::kAveragePrecision, s.per_item.scores, s.per_item.reference, all_indices(6)),
              s.main_score, 1e-9);
}

TEST(PairClassificationTask, TfIdfBaselineSeparatesSharedWordsFromNone) {
  auto task = make_task(eval_table("type = \"pair_classification\"\npath = \"pairs.tsv\"\n"));
  TaskContext context = plain_context();
  const Scores s = task->evaluate_lexical(context);
  // The three positive pairs share words (cosines 1, 1 and between 0 and 1); the negatives share none (0).
  EXPECT_NEAR(s.per_item.scores[0], 1.0, 1e-6);  // float embeddings
  EXPECT_NEAR(s.per_item.scores[1], 1.0, 1e-6);
  EXPECT_GT(s.per_item.scores[4], 0.0);
  EXPECT_LT(s.per_item.scores[4], 1.0);
  for (const int negative : {2, 3, 5}) EXPECT_DOUBLE_EQ(s.per_item.scores[negative], 0.0);
  EXPECT_DOUBLE_EQ(s.main_score, 1.0);
  EXPECT_DOUBLE_EQ(s.metrics.at("cosine_accuracy"), 1.0);
}

TEST(PairClassificationTask, BadDataNamesFileAndLine) {
  TempDir tmp;
  std::ofstream(tmp / "p.tsv") << "a\tb\t1\nc\td\t2\n";
  std::ofstream(tmp / "q.jsonl") << "{\"text1\": \"a\", \"text2\": \"b\", \"label\": 1}\n{\"text1\": \"a\"}\n";
  std::ofstream(tmp / "one.tsv") << "a\tb\t1\nc\td\t1\n";
  const auto error = [&](const std::string& file) {
    return test::error_of<Error>([&] { make_task(eval_table("type = \"pair_classification\"\npath = \"" + (tmp / file).string() + "\"\n")); });
  };
  EXPECT_THAT(error("p.tsv"), HasSubstr("p.tsv:2: the label must be 0 or 1"));
  EXPECT_THAT(error("q.jsonl"), HasSubstr("q.jsonl:2: no \"text2\""));
  EXPECT_THAT(error("one.tsv"), HasSubstr("needs both labels"));
}

TEST(RerankingTask, TfIdfRanksThePositivesFirstAndTheModelMatchesMteb) {
  auto task = make_task(eval_table("type = \"reranking\"\npath = \"reranking.jsonl\"\n"));
  EXPECT_EQ(task->items(), 2);
  TaskContext context = plain_context();
  const Scores lexical = task->evaluate_lexical(context);
  // Query 1: the positive shares both query words, the best negative one. Query 2: each positive shares
  // one word in a two-word text; the negative "engine room music" shares one in three.
  EXPECT_DOUBLE_EQ(lexical.main_score, 1.0);
  EXPECT_DOUBLE_EQ(lexical.metrics.at("mrr"), 1.0);
  EXPECT_EQ(lexical.per_item.scores, (std::vector<double>{1.0, 1.0}));

  torch::manual_seed(5);
  test::BagEncoder encoder;
  const Scores s = task->evaluate(encoder, context);
  std::vector<mteb_scoring::RerankingInstance> instances(2);
  const mteb_scoring::Matrix q = rows_of(encoder, {"apple pear", "engine fuel"});
  instances[0].query.assign(q.data.begin(), q.data.begin() + q.cols);
  instances[1].query.assign(q.data.begin() + q.cols, q.data.end());
  instances[0].positives = rows_of(encoder, {"pear apple orchard"});
  instances[0].negatives = rows_of(encoder, {"engine wheel", "apple phone charger", "music concert"});
  instances[1].positives = rows_of(encoder, {"fuel tank", "engine oil"});
  instances[1].negatives = rows_of(encoder, {"violin piano", "engine room music"});
  const auto expected = mteb_scoring::score_reranking(instances);
  EXPECT_NEAR(s.main_score, expected.map, 1e-6);
  EXPECT_NEAR(s.metrics.at("mrr"), expected.mrr, 1e-6);
  EXPECT_NEAR(item_statistic(ItemStatistic::kMean, s.per_item.scores, {}, all_indices(2)), s.main_score, 1e-12);
}

TEST(RerankingTask, BadDataNamesFileAndLine) {
  TempDir tmp;
  std::ofstream(tmp / "r.jsonl") << "{\"query\": \"q\", \"positive\": [\"a\"], \"negative\": [\"b\"]}\n"
                                    "{\"query\": \"q\", \"positive\": [], \"negative\": [\"b\"]}\n";
  EXPECT_THAT(test::error_of<Error>([&] { make_task(eval_table("type = \"reranking\"\npath = \"" + (tmp / "r.jsonl").string() + "\"\n")); }),
              HasSubstr("r.jsonl:2: \"positive\" must be a non-empty list"));
}

TEST(ClassificationTask, TfIdfBaselineClassifiesTopicsAndPerItemGivesTheMean) {
  auto task = make_task(eval_table("type = \"classification\"\npath = \"test.jsonl\"\ntrain = \"train.jsonl\"\nexperiments = 3\n"));
  EXPECT_EQ(task->items(), 4);
  TaskContext context = plain_context();
  const Scores lexical = task->evaluate_lexical(context);
  // Every test text shares words only with train texts of its own label.
  EXPECT_DOUBLE_EQ(lexical.main_score, 1.0);
  EXPECT_DOUBLE_EQ(lexical.metrics.at("f1"), 1.0);

  torch::manual_seed(7);
  test::BagEncoder encoder;
  const Scores s = task->evaluate(encoder, context);
  EXPECT_GE(s.main_score, 0.0);
  EXPECT_LE(s.main_score, 1.0);
  ASSERT_EQ(s.per_item.scores.size(), 4u);
  EXPECT_NEAR(item_statistic(ItemStatistic::kMean, s.per_item.scores, {}, all_indices(4)), s.main_score, 1e-12);
  EXPECT_EQ(s.encoded_items, 10) << "6 train and 4 test texts";
}

TEST(ClassificationTask, BadKeysAndDataAreRefused) {
  EXPECT_THAT(test::error_of<Error>([] { make_task(eval_table("type = \"classification\"\npath = \"test.jsonl\"\ntrain = \"train.jsonl\"\nsamples_per_label = 0\n")); }),
              HasSubstr("samples_per_label"));
  TempDir tmp;
  std::ofstream(tmp / "t.jsonl") << "{\"text\": \"a\", \"label\": \"x\"}\n{\"label\": \"y\"}\n";
  EXPECT_THAT(test::error_of<Error>([&] { make_task(eval_table("type = \"classification\"\npath = \"test.jsonl\"\ntrain = \"" + (tmp / "t.jsonl").string() + "\"\n")); }),
              HasSubstr("t.jsonl:2"));
}

// AP by hand: scores 0.9 0.8 0.7 0.6 with labels 1 0 1 0 -> (1/2)(1/1) + (1/2)(2/3) = 5/6; tied scores
// enter together: 0.5 0.5 with labels 1 0 -> precision 1/2 at recall 1.
TEST(BootstrapStatistic, AveragePrecisionByHand) {
  EXPECT_NEAR(item_statistic(ItemStatistic::kAveragePrecision, {0.9, 0.8, 0.7, 0.6}, {1, 0, 1, 0}, all_indices(4)), 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(item_statistic(ItemStatistic::kAveragePrecision, {0.5, 0.5}, {1, 0}, all_indices(2)), 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(item_statistic(ItemStatistic::kAveragePrecision, {0.5, 0.4}, {0, 0}, all_indices(2))));
}

}  // namespace
}  // namespace sentbench
