// Evaluation during training (tasks/training_eval.hpp): the [[eval]] tasks a training table chooses, cut
// to eval_max_items, scored with the weights as they are at each call (never from the embedding cache),
// in eval mode without grad, leaving train mode and the random stream as they were.
#include "training_eval.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sentbench/errors.hpp"
#include "bag_encoder.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::has_substr;
using sentbench::test::TempDir;

namespace sentbench {
namespace {

using test::BagEncoder;

// Word lists by topic: texts of one topic share words, so the tasks have something to find.
const std::vector<std::vector<std::string>> kTopics = {
    {"apple", "pear", "fruit", "juice", "orchard", "sweet"},
    {"engine", "wheel", "car", "road", "fuel", "drive"},
    {"violin", "piano", "music", "concert", "melody", "song"},
    {"python", "compiler", "code", "debug", "library", "function"}};

std::string topic_text(std::size_t topic, std::size_t i) {
  const auto& w = kTopics[topic];
  return w[i % w.size()] + " " + w[(i * 5 + 1) % w.size()] + " " + w[(i * 7 + 2) % w.size()] + " item" + std::to_string(i);
}

// A recipe with a retrieval set (40 queries), an STS set (60 pairs) and a clustering set (80 texts)
// written under `dir`, plus whatever `train` lines the test gives its [train] table.
Config write_recipe(const TempDir& dir, const std::string& train = "", const std::string& extra_eval = "") {
  const fs::path beir = dir / "beir";
  fs::create_directories(beir / "qrels");
  std::ofstream corpus(beir / "corpus.jsonl"), queries(beir / "queries.jsonl"), qrels(beir / "qrels" / "test.tsv");
  qrels << "query-id\tcorpus-id\tscore\n";
  for (std::size_t i = 0; i < 40; ++i) {
    corpus << "{\"_id\": \"d" << i << "\", \"text\": \"" << topic_text(i % 4, i) << "\"}\n";
    queries << "{\"_id\": \"q" << i << "\", \"text\": \"" << topic_text(i % 4, i + 3) << "\"}\n";
    qrels << "q" << i << "\td" << i << "\t1\n";
  }
  std::ofstream sts(dir / "sts.tsv");
  sts << "sentence1\tsentence2\tscore\n";
  for (std::size_t i = 0; i < 60; ++i) {
    const std::size_t a = i % 4, b = (i / 4) % 4;
    sts << topic_text(a, i) << '\t' << topic_text(b, i + 11) << '\t' << (a == b ? 4.0 + (i % 3) * 0.3 : (i % 5) * 0.4) << '\n';
  }
  std::ofstream clusters(dir / "clusters.tsv");
  for (std::size_t i = 0; i < 80; ++i) clusters << "topic" << i % 4 << '\t' << topic_text(i % 4, i + 20) << '\n';
  const std::string toml =
      "[encoder]\nplugin = 'bag'\n[train]\nplugin = 'x'\n" + train + "\n[[eval]]\ntype = 'retrieval'\nname = 'ret'\npath = '" +
      beir.string() + "'\n[[eval]]\ntype = 'sts'\nname = 'sim'\npath = '" + (dir / "sts.tsv").string() +
      "'\nformat = 'tsv'\n[[eval]]\ntype = 'clustering'\nname = 'topics'\npath = '" + (dir / "clusters.tsv").string() +
      "'\nsubsets = 3\nsubset_size = 60\n" + extra_eval;
  return Config::parse(toml, (dir / "recipe.toml").string());
}

TrainingEvaluator evaluator_for(const Config& recipe, std::uint64_t seed = 42) {
  return TrainingEvaluator(recipe, recipe.table("train"), seed);
}

TEST(TrainingEval, ScoresEveryTaskUnderEvalNames) {
  TempDir tmp;
  torch::manual_seed(1);
  const Config recipe = write_recipe(tmp);
  TrainingEvaluator evaluate = evaluator_for(recipe);
  BagEncoder encoder;
  const MetricRow row = evaluate(encoder, 10);
  for (const char* key : {"eval/ret/ndcg@10", "eval/ret/mrr@10", "eval/ret/recall@100", "eval/sim/spearman",
                          "eval/sim/pearson", "eval/topics/v_measure"}) {
    ASSERT_TRUE(row.count(key)) << key;
    EXPECT_TRUE(std::isfinite(row.at(key))) << key;
  }
  EXPECT_EQ(row.size(), 6u);
}

// The embedding cache must not answer a second call with the first call's vectors: the weights changed.
TEST(TrainingEval, ScoresFollowTheWeightsAndTheCacheIsNotUsed) {
  TempDir tmp;
  const fs::path cache = tmp / "cache";
  ::setenv("SENTBENCH_CACHE", cache.string().c_str(), 1);
  torch::manual_seed(2);
  const Config recipe = write_recipe(tmp);
  TrainingEvaluator evaluate = evaluator_for(recipe);
  BagEncoder encoder;
  const MetricRow before = evaluate(encoder, 1);
  {
    torch::NoGradGuard no_grad;
    encoder.weights_.add_(torch::randn_like(encoder.weights_));
  }
  const MetricRow after = evaluate(encoder, 2);
  EXPECT_NE(before.at("eval/sim/spearman"), after.at("eval/sim/spearman"));
  EXPECT_NE(before.at("eval/sim/pearson"), after.at("eval/sim/pearson"));
  // Unchanged weights give the same scores (the tasks and their cuts are deterministic).
  EXPECT_EQ(evaluate(encoder, 3), after);
  EXPECT_FALSE(fs::exists(cache) && !fs::is_empty(cache)) << "nothing was written to the embedding cache";
  ::unsetenv("SENTBENCH_CACHE");
}

TEST(TrainingEval, RunsInEvalModeWithoutGradAndLeavesTrainModeAndTheGeneratorAsTheyWere) {
  TempDir tmp;
  const Config recipe = write_recipe(tmp);
  TrainingEvaluator evaluate = evaluator_for(recipe);
  BagEncoder encoder;
  encoder.train(true);
  encoder.modes.clear();
  torch::manual_seed(7);
  const double expected = torch::rand({1}).item<double>();
  torch::manual_seed(7);
  {
    torch::AutoGradMode grad(true);  // as in a training step
    evaluate(encoder, 5);
  }
  EXPECT_EQ(torch::rand({1}).item<double>(), expected) << "the training's random stream moved";
  EXPECT_FALSE(encoder.grad_in_forward);
  ASSERT_FALSE(encoder.modes.empty());
  EXPECT_FALSE(encoder.modes.front()) << "eval mode first";
  EXPECT_TRUE(encoder.training) << "train mode after";
}

TEST(TrainingEval, EvalTasksChooseTasksAndMaxItemsCutsThem) {
  TempDir tmp;
  const Config recipe = write_recipe(tmp, "eval_tasks = ['sim', 'topics', 'ret']\neval_max_items = 25\n");
  TrainingEvaluator evaluate = evaluator_for(recipe);
  evaluate.load();
  const auto tasks = evaluate.tasks();
  ASSERT_EQ(tasks.size(), 3u);
  // Recipe order; retrieval 25 of 40 queries, STS 25 of 60 pairs, clustering one subset of 25 texts.
  EXPECT_EQ(tasks[0].name, "ret");
  EXPECT_EQ(tasks[0].items, 25);
  EXPECT_EQ(tasks[1].name, "sim");
  EXPECT_EQ(tasks[1].items, 25);
  EXPECT_EQ(tasks[2].name, "topics");
  EXPECT_EQ(tasks[2].items, 25);
  BagEncoder encoder;
  EXPECT_EQ(evaluate(encoder, 1).count("eval/ret/ndcg@10"), 1u);

  const Config some = write_recipe(tmp, "eval_tasks = ['sim']\neval_max_items = 0\n");
  TrainingEvaluator only = evaluator_for(some);
  only.load();
  ASSERT_EQ(only.tasks().size(), 1u);
  EXPECT_EQ(only.tasks()[0].items, 60) << "0 keeps the whole task";
  const MetricRow row = only(encoder, 1);
  EXPECT_EQ(row.size(), 2u);
  EXPECT_TRUE(row.count("eval/sim/spearman"));

  // The default cut is 1000 items: these tasks are smaller, so whole (clustering: one subset of 60).
  TrainingEvaluator defaults = evaluator_for(write_recipe(tmp));
  defaults.load();
  EXPECT_EQ(defaults.tasks()[0].items, 40);
  EXPECT_EQ(defaults.tasks()[2].items, 60);
}

TEST(TrainingEval, UnknownTaskNamesAreConfigErrorsWithTheirLocation) {
  TempDir tmp;
  const Config recipe = write_recipe(tmp, "eval_tasks = ['sim', 'topcs']\n");
  const std::string message = sentbench::test::error_of<ConfigError>([&] { evaluator_for(recipe); });
  EXPECT_TRUE(has_substr(message, "recipe.toml:5:"));
  EXPECT_TRUE(has_substr(message, "no [[eval]] task is named 'topcs'; did you mean 'topics'?"));
  const Config negative = write_recipe(tmp, "eval_max_items = -3\n");
  EXPECT_TRUE(has_substr(sentbench::test::error_of<ConfigError>([&] { evaluator_for(negative); }), "eval_max_items"));
}

TEST(TrainingEval, OptionalTasksWithoutDataAreLeftOutSilently) {
  TempDir tmp;
  const Config recipe =
      write_recipe(tmp, "", "[[eval]]\ntype = 'sts'\nname = 'absent'\npath = '/no/such/sts.csv'\noptional = true\n");
  TrainingEvaluator evaluate = evaluator_for(recipe);
  evaluate.load();
  EXPECT_EQ(evaluate.tasks().size(), 3u);
  BagEncoder encoder;
  for (const auto& [key, value] : evaluate(encoder, 1)) EXPECT_EQ(key.find("absent"), std::string::npos) << key;
}

}  // namespace
}  // namespace sentbench
