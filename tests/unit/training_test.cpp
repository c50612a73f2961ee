// The SDK's training services (sentbench/training.hpp): schedules and settings, a whole recipe written in
// one file (tests/fixtures/plugins/toy_objective.cpp) trained through them and resumed exactly, evaluation
// during training that leaves the training untouched, and the parameter files staged recipes use.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "plugin_host.hpp"
#include "roberta_encoder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/training.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::TempDir;

namespace sentbench {
namespace {

TEST(TrainingSchedule, WarmupThenLinearCosineOrConstant) {
  TrainingSettings s;
  s.lr = 1e-3;
  s.steps = 110;
  s.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(learning_rate(s, 1), 1e-4);
  EXPECT_DOUBLE_EQ(learning_rate(s, 10), 1e-3);
  EXPECT_NEAR(learning_rate(s, 60), 0.5e-3, 1e-12);
  EXPECT_DOUBLE_EQ(learning_rate(s, 110), 0.0);
  s.schedule = "cosine";
  EXPECT_DOUBLE_EQ(learning_rate(s, 5), 0.5e-3);  // warm-up is the same
  EXPECT_NEAR(learning_rate(s, 60), 0.5e-3, 1e-12);  // half way: cos(π/2) → half
  EXPECT_NEAR(learning_rate(s, 35), 1e-3 * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  EXPECT_NEAR(learning_rate(s, 110), 0.0, 1e-15);
  s.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate(s, 60), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate(s, 110), 1e-3);
}

std::string error_of(const std::string& toml) {
  try {
    read_training_settings(Config::parse(toml, "r.toml").table("train"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainingSettings, BadValuesNameTheKeyAndLine) {
  EXPECT_TRUE(test::has_substr(error_of("[train]\nsteps = 0\n"), "r.toml:2")) << error_of("[train]\nsteps = 0\n");
  EXPECT_TRUE(test::has_substr(error_of("[train]\nsteps = 3\nschedule = 'cosin'\n"), "cosine"));
  EXPECT_TRUE(test::has_substr(error_of("[train]\nsteps = 3\nbetas = [0.9]\n"), "betas"));
  EXPECT_TRUE(test::has_substr(error_of("[train]\nsteps = 3\nlr = -1.0\n"), "lr"));
  EXPECT_TRUE(test::has_substr(error_of("[train]\nsteps = 3\neval_every = -2\n"), "eval_every"));
  EXPECT_EQ(error_of("[train]\nsteps = 3\nschedule = 'cosine'\nbetas = [0.9, 0.98]\n"), "");
}

std::unique_ptr<roberta::RobertaEncoder> tiny_encoder() {
  const std::string toml = "[encoder]\nplugin='roberta'\ntokenizer='" SENTBENCH_SOURCE_DIR
                           "/datasets/data/debian/tokenizer'\nmax_seq_length=16\n[encoder.init]\nhidden=16\n"
                           "layers=1\nheads=2\nffn=32\nseed=5\ndropout=0.1\n";
  return std::make_unique<roberta::RobertaEncoder>(Config::parse(toml).table("encoder"));
}

struct ToyRun {
  std::map<std::int64_t, MetricRow> rows;
  std::vector<std::int64_t> evaluated;
  std::vector<at::Tensor> final_params;
};

// Trains the one-file toy recipe (loaded as a plugin, as the harness does) for `steps`, stopping after
// `stop_at` steps (0: never).
ToyRun train_toy(const fs::path& out, std::int64_t steps, std::int64_t stop_at, bool resume, std::int64_t eval_every = 0) {
  at::set_num_threads(1);
  torch::manual_seed(resume ? 999 : 7);  // a resumed run must not depend on the process's generator
  PluginHost host;
  host.scan(SENTBENCH_BINARY_DIR "/tests/plugins-training");
  auto encoder = tiny_encoder();
  const std::string toml = "[train]\nplugin='toy_objective'\nsteps=" + std::to_string(steps) +
                           "\nbatch_size=6\nlr=1e-2\nwarmup_steps=2\nkeep_checkpoints=1\neval_every=" +
                           std::to_string(eval_every) + "\n";
  auto recipe = host.create_recipe("toy_objective", Config::parse(toml).table("train"));
  TrainContext context;
  context.output_dir = out;
  context.seed = 11;
  context.resume = resume;
  ToyRun run;
  std::int64_t last = 0;
  context.log_metrics = [&](std::int64_t step, const MetricRow& row, const TagRow&) {
    run.rows[step] = row;
    last = step;
  };
  context.stop_requested = [&] { return stop_at > 0 && last >= stop_at; };
  context.evaluate = [&](std::int64_t step) {
    run.evaluated.push_back(step);
    // Evaluation encodes (and may draw random numbers); none of it may change the training.
    (void)torch::rand({16});
    const at::Tensor e = encoder->encode({"apt kernel font", "game server parser"}, EncodeOptions{});
    return MetricRow{{"eval/toy/norm", e.norm().item<double>()}};
  };
  try {
    recipe->train(*encoder, context);
  } catch (const Error& e) {
    EXPECT_GT(stop_at, 0) << e.what();
  }
  for (const auto& p : encoder->parameters()) run.final_params.push_back(p.detach().clone());
  return run;
}

TEST(TrainingServices, OneFileRecipeTrainsAndResumesExactly) {
  log::set_level(log::Level::kWarn);
  TempDir tmp;
  const ToyRun straight = train_toy(tmp / "a", 12, 0, false);
  ASSERT_EQ(straight.rows.size(), 12u);
  EXPECT_LT(straight.rows.at(12).at("loss"), straight.rows.at(1).at("loss")) << "training lowers the loss";
  EXPECT_GT(straight.rows.at(12).at("offset_norm"), 0.0) << "the recipe's own parameter is trained";
  EXPECT_TRUE(straight.rows.at(1).count("texts_per_s")) << "the recipe names its examples";
  const ToyRun first = train_toy(tmp / "b", 12, 6, false);
  ASSERT_EQ(first.rows.size(), 6u);
  EXPECT_TRUE(fs::exists(tmp / "b/checkpoints/step-00000006/manifest.json"));
  const ToyRun second = train_toy(tmp / "b", 12, 0, true);
  ASSERT_EQ(second.rows.size(), 6u);
  ASSERT_EQ(second.rows.begin()->first, 7);
  for (std::int64_t step = 1; step <= 12; ++step) {
    const MetricRow& resumed = step <= 6 ? first.rows.at(step) : second.rows.at(step);
    EXPECT_DOUBLE_EQ(straight.rows.at(step).at("loss"), resumed.at("loss")) << "step " << step;
    EXPECT_DOUBLE_EQ(straight.rows.at(step).at("offset_norm"), resumed.at("offset_norm")) << "step " << step;
  }
  for (std::size_t i = 0; i < straight.final_params.size(); ++i) {
    EXPECT_TRUE(torch::equal(straight.final_params[i], second.final_params[i])) << "parameter " << i;
  }
  log::set_level(log::Level::kInfo);
}

TEST(TrainingServices, EvaluationEveryNStepsLeavesTrainingUntouched) {
  log::set_level(log::Level::kWarn);
  TempDir tmp;
  const ToyRun plain = train_toy(tmp / "a", 7, 0, false);
  const ToyRun evaluated = train_toy(tmp / "b", 7, 0, false, 3);
  EXPECT_EQ(evaluated.evaluated, (std::vector<std::int64_t>{3, 6, 7})) << "every 3 steps and the last";
  EXPECT_TRUE(plain.evaluated.empty());
  for (std::int64_t step = 1; step <= 7; ++step) {
    EXPECT_DOUBLE_EQ(plain.rows.at(step).at("loss"), evaluated.rows.at(step).at("loss")) << "step " << step;
  }
  EXPECT_TRUE(evaluated.rows.at(3).count("eval/toy/norm"));
  EXPECT_TRUE(evaluated.rows.at(3).count("eval_seconds"));
  EXPECT_FALSE(evaluated.rows.at(4).count("eval/toy/norm"));
  EXPECT_NE(evaluated.rows.at(3).at("eval/toy/norm"), evaluated.rows.at(6).at("eval/toy/norm"))
      << "scores follow the training";
  log::set_level(log::Level::kInfo);
}

TEST(TrainingServices, ParameterFilesRoundTripAndRefuseAnotherShape) {
  TempDir tmp;
  auto a = tiny_encoder();
  torch::manual_seed(3);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : a->parameters()) p.add_(torch::randn_like(p));
  }
  save_parameters(tmp / "p.safetensors", a->parameters());
  auto b = tiny_encoder();
  load_parameters(tmp / "p.safetensors", b->parameters());
  const auto pa = a->parameters(), pb = b->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
  std::vector<at::Tensor> wrong = b->parameters();
  wrong.pop_back();
  EXPECT_THROW(load_parameters(tmp / "p.safetensors", wrong), IoError);
}

}  // namespace
}  // namespace sentbench
