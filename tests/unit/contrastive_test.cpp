// The contrastive recipe: the loss against hand-computed values, GradCache against the plain step, and
// exact resume (2N steps == N steps, stop, resume N more).
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include "sentbench/bpe_trainer.hpp"
#include "checkpoint.hpp"
#include "contrastive_recipe.hpp"
#include "grad_cache.hpp"
#include "losses.hpp"
#include "roberta_encoder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::TempDir;

namespace sentbench::contrastive {
namespace {

TEST(MnrlLoss, MatchesHandComputedCrossEntropy) {
  // Unit vectors: a0=(1,0), a1=(0,1); positives p0=(1,0), p1=(0.6,0.8).
  // cos: a0·p0=1, a0·p1=0.6, a1·p0=0, a1·p1=0.8; scale 1.
  // row0: -log(e^1/(e^1+e^0.6)); row1: -log(e^0.8/(e^0+e^0.8)).
  const auto a = torch::tensor({{2.0f, 0.0f}, {0.0f, 3.0f}});  // norms do not matter: cosine
  const auto p = torch::tensor({{1.0f, 0.0f}, {0.6f, 0.8f}});
  const double row0 = -std::log(std::exp(1.0) / (std::exp(1.0) + std::exp(0.6)));
  const double row1 = -std::log(std::exp(0.8) / (std::exp(0.0) + std::exp(0.8)));
  EXPECT_NEAR(mnrl_loss(a, p, 1.0, false).item<double>(), (row0 + row1) / 2, 1e-6);
  // Backward direction: p0 picks among a: (1, 0) → -log(e^1/(e^1+e^0)); p1: (0.6, 0.8) → -log(e^.8/(e^.6+e^.8)).
  const double back0 = -std::log(std::exp(1.0) / (std::exp(1.0) + std::exp(0.0)));
  const double back1 = -std::log(std::exp(0.8) / (std::exp(0.6) + std::exp(0.8)));
  EXPECT_NEAR(mnrl_loss(a, p, 1.0, true).item<double>(), ((row0 + row1) / 2 + (back0 + back1) / 2) / 2, 1e-6);
  // A hard negative n0=(0,1) joins the columns of row 0 only as an extra candidate.
  const auto c = torch::cat({p, torch::tensor({{0.0f, 1.0f}})});
  const double row0n = -std::log(std::exp(1.0) / (std::exp(1.0) + std::exp(0.6) + std::exp(0.0)));
  const double row1n = -std::log(std::exp(0.8) / (std::exp(0.0) + std::exp(0.8) + std::exp(1.0)));
  EXPECT_NEAR(mnrl_loss(a, c, 1.0, false).item<double>(), (row0n + row1n) / 2, 1e-6);
}

// Sentences on a few topics, and a pairs file of (sentence, paraphrase-ish) examples.
std::vector<std::string> corpus() {
  std::vector<std::string> out;
  const char* subjects[] = {"the library", "a parser", "this tool", "the server", "a compiler", "the editor"};
  const char* verbs[] = {"reads", "writes", "checks", "builds", "formats", "indexes"};
  const char* objects[] = {"json files", "source code", "network packets", "log messages", "images", "fonts"};
  for (auto s : subjects) for (auto v : verbs) for (auto o : objects) out.push_back(std::string(s) + " " + v + " " + o);
  return out;
}

fs::path write_pairs(const fs::path& dir) {
  const auto texts = corpus();
  const fs::path file = dir / "pairs.jsonl";
  std::ofstream out(file);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    out << "[\"" << texts[i] << "\", \"about " << texts[i] << " quickly\"]\n";
  }
  return file;
}

std::unique_ptr<roberta::RobertaEncoder> tiny_encoder(const fs::path& dir, double dropout) {
  if (!fs::exists(dir / "vocab.json")) {
    roberta::BpeTrainerOptions o;
    o.vocab_size = 400;
    o.output_dir = dir;
    roberta::train_bpe_from_texts(corpus(), o);
  }
  const std::string toml = "[encoder]\nplugin='roberta'\ntokenizer='" + dir.string() +
                           "'\nmax_seq_length=16\n[encoder.init]\nhidden=16\nlayers=1\nheads=2\nffn=32\nseed=5\ndropout=" +
                           std::to_string(dropout) + "\n";
  return std::make_unique<roberta::RobertaEncoder>(Config::parse(toml).table("encoder"));
}

TEST(GradCache, SameParameterGradientsAsTheFullBatchStep) {
  at::set_num_threads(1);
  TempDir tmp;
  auto encoder = tiny_encoder(tmp.path(), 0.0);
  encoder->train(true);
  const auto texts = corpus();
  std::vector<std::string> anchors(texts.begin(), texts.begin() + 24), positives;
  for (const auto& t : anchors) positives.push_back("about " + t);
  const std::vector<TokenBatch> columns = {encoder->tokenize(anchors), encoder->tokenize(positives)};
  const LossFn loss = [](const std::vector<at::Tensor>& c) { return mnrl_loss(c[0], c[1], 20.0, true); };

  auto grads = [&](std::int64_t mini_batch, double& value) {
    for (auto& p : encoder->parameters()) if (p.grad().defined()) p.grad().zero_();
    value = forward_backward(*encoder, columns, loss, mini_batch);
    std::vector<at::Tensor> g;
    for (auto& p : encoder->parameters()) g.push_back(p.grad().clone());
    return g;
  };
  double plain_loss = 0, cached_loss = 0;
  const auto plain = grads(0, plain_loss);
  const auto cached = grads(5, cached_loss);  // 24 rows in chunks of 5: uneven last chunk
  EXPECT_NEAR(plain_loss, cached_loss, 1e-6);
  double max_diff = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) max_diff = std::max(max_diff, (plain[i] - cached[i]).abs().max().item<double>());
  EXPECT_LE(max_diff, 1e-5);
  EXPECT_GT(plain[0].abs().sum().item<double>(), 0.0) << "gradients actually flow";
}

TEST(GradCache, ReplaysDropoutMasksExactly) {
  // With dropout on, GradCache must give the gradient of the loss over the very embeddings its first
  // pass produced. Reference: from the same generator state, embed the same chunks in the same order
  // WITH grad, concatenate, take the loss and back-propagate — the masks are then identical by
  // construction. Without the replay the second pass would draw new masks and the gradients differ.
  at::set_num_threads(1);
  TempDir tmp;
  auto encoder = tiny_encoder(tmp.path(), 0.3);
  encoder->train(true);
  const auto texts = corpus();
  std::vector<std::string> a(texts.begin(), texts.begin() + 12), p(texts.begin() + 12, texts.begin() + 24);
  const std::vector<TokenBatch> columns = {encoder->tokenize(a), encoder->tokenize(p)};
  const LossFn loss = [](const std::vector<at::Tensor>& c) { return mnrl_loss(c[0], c[1], 20.0, false); };
  auto gen = at::detail::getDefaultCPUGenerator();
  at::Tensor state;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    state = gen.get_state();
  }
  auto collect = [&] {
    std::vector<at::Tensor> g;
    for (auto& prm : encoder->parameters()) {
      g.push_back(prm.grad().clone());
      prm.grad().zero_();
    }
    return g;
  };
  const double cached_loss = forward_backward(*encoder, columns, loss, 4);
  const auto cached = collect();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
  std::vector<at::Tensor> embedded;
  for (const auto& column : columns) {
    std::vector<at::Tensor> parts;
    for (std::size_t b = 0; b < column.size(); b += 4) {
      TokenBatch chunk;
      chunk.ids.assign(column.ids.begin() + b, column.ids.begin() + std::min(column.size(), b + 4));
      parts.push_back(encoder->forward(chunk));
    }
    embedded.push_back(torch::cat(parts));
  }
  const at::Tensor reference_loss = loss(embedded);
  reference_loss.backward();
  const auto reference = collect();
  EXPECT_NEAR(cached_loss, reference_loss.item<double>(), 1e-6);
  double max_diff = 0;
  for (std::size_t i = 0; i < cached.size(); ++i) max_diff = std::max(max_diff, (cached[i] - reference[i]).abs().max().item<double>());
  EXPECT_LE(max_diff, 1e-5);
}

// Runs the recipe for `steps` total, stopping after `stop_at` steps (0: never), collecting losses.
std::map<std::int64_t, double> run_recipe(const fs::path& out, const fs::path& tok_dir, const fs::path& pairs,
                                          std::int64_t steps, std::int64_t stop_at, bool resume,
                                          const std::string& run_id = "") {
  at::set_num_threads(1);
  torch::manual_seed(resume ? 999 : 7);  // a resumed run must not depend on the process's generator
  auto encoder = tiny_encoder(tok_dir, 0.1);
  const std::string toml = "[train]\nplugin='contrastive'\ndata='" + pairs.string() + "'\nsteps=" +
                           std::to_string(steps) + "\nbatch_size=8\nlr=1e-3\nwarmup_steps=2\nshuffle_buffer=16\n"
                           "mini_batch=3\nkeep_checkpoints=1\n";
  ContrastiveRecipe recipe(Config::parse(toml).table("train"));
  TrainContext context;
  context.output_dir = out;
  context.seed = 11;
  context.resume = resume;
  context.run_id = run_id;
  std::map<std::int64_t, double> losses;
  std::int64_t last = 0;
  context.log_metrics = [&](std::int64_t step, const MetricRow& row, const TagRow&) {
    losses[step] = row.at("loss");
    last = step;
  };
  context.stop_requested = [&] { return stop_at > 0 && last >= stop_at; };
  try {
    recipe.train(*encoder, context);
  } catch (const Error& e) {
    EXPECT_GT(stop_at, 0) << e.what();
  }
  return losses;
}

TEST(Resume, KilledAndResumedRunLogsTheSameLosses) {
  log::set_level(log::Level::kWarn);
  TempDir tmp;
  fs::create_directories(tmp / "tok");
  const fs::path pairs = write_pairs(tmp.path());
  const auto straight = run_recipe(tmp / "a", tmp / "tok", pairs, 12, 0, false);
  ASSERT_EQ(straight.size(), 12u);
  const auto first_half = run_recipe(tmp / "b", tmp / "tok", pairs, 12, 6, false);
  ASSERT_EQ(first_half.size(), 6u);
  EXPECT_TRUE(fs::exists(tmp / "b/checkpoints/step-00000006/manifest.json"));
  const auto second_half = run_recipe(tmp / "b", tmp / "tok", pairs, 12, 0, true);
  ASSERT_EQ(second_half.size(), 6u);
  for (std::int64_t step = 1; step <= 12; ++step) {
    const double resumed = step <= 6 ? first_half.at(step) : second_half.at(step);
    EXPECT_DOUBLE_EQ(straight.at(step), resumed) << "step " << step;
  }
  EXPECT_LT(straight.at(12), straight.at(1)) << "training lowers the loss";
  log::set_level(log::Level::kInfo);
}

TEST(Resume, CorruptCheckpointIsSkipped) {
  log::set_level(log::Level::kError);
  TempDir tmp;
  fs::create_directories(tmp / "tok");
  const fs::path pairs = write_pairs(tmp.path());
  run_recipe(tmp / "a", tmp / "tok", pairs, 4, 0, false);
  // Corrupt the only checkpoint: resume starts over instead of loading garbage.
  std::ofstream(tmp / "a/checkpoints/step-00000004/params.safetensors", std::ios::app) << "x";
  EXPECT_FALSE(latest_checkpoint(tmp / "a/checkpoints").has_value());
  log::set_level(log::Level::kInfo);
}

TEST(Resume, DataErrorDeepInTheDataWritesACheckpointFirst) {
  log::set_level(log::Level::kError);
  TempDir tmp;
  fs::create_directories(tmp / "tok");
  // The pairs gzipped, then cut: the stream fails a few batches in, as a truncated download would.
  const std::string text = read_file(write_pairs(tmp.path()));
  const fs::path gz = tmp / "pairs.jsonl.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  fs::resize_file(gz, fs::file_size(gz) / 2);
  at::set_num_threads(1);
  auto encoder = tiny_encoder(tmp / "tok", 0.1);
  ContrastiveRecipe recipe(Config::parse("[train]\nplugin='contrastive'\ndata='" + gz.string() +
                                         "'\nsteps=1000\nbatch_size=8\nshuffle_buffer=1\ncheckpoint_every=500\n")
                               .table("train"));
  TrainContext context;
  context.output_dir = tmp / "run";
  context.run_id = "run-a";
  std::int64_t last = 0;
  context.log_metrics = [&](std::int64_t step, const MetricRow&, const TagRow&) { last = step; };
  EXPECT_THROW(recipe.train(*encoder, context), Error);
  ASSERT_GT(last, 0) << "some steps ran before the cut";
  // Before: no checkpoint (the first one was due at step 500). Now: the last finished step's.
  const auto latest = latest_checkpoint(tmp / "run/checkpoints", "run-a");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->filename().string(), fmt::format("step-{:08d}", last));
  EXPECT_EQ(checkpoint_run_id(*latest), "run-a");
  log::set_level(log::Level::kInfo);
}

TEST(Resume, PruningKeepsAnotherRunsCheckpoints) {
  log::set_level(log::Level::kError);
  TempDir tmp;
  fs::create_directories(tmp / "tok");
  const fs::path pairs = write_pairs(tmp.path());
  // Another run's checkpoint (step 5) sits in the folder. This run (3 steps, keeping 1) neither resumes from
  // it nor deletes it, and keeps its own newest although the other's is newer. Before, pruning by step
  // deleted this run's step 3 right after writing it, and --resume continued the other run.
  run_recipe(tmp / "a", tmp / "tok", pairs, 5, 0, false, "run-a");
  ASSERT_TRUE(fs::exists(tmp / "a/checkpoints/step-00000005"));
  auto encoder = tiny_encoder(tmp / "tok", 0.1);
  ContrastiveRecipe recipe(Config::parse("[train]\nplugin='contrastive'\ndata='" + pairs.string() +
                                         "'\nsteps=3\nbatch_size=8\ncheckpoint_every=1\nkeep_checkpoints=1\n")
                               .table("train"));
  TrainContext context;
  context.output_dir = tmp / "a";
  context.run_id = "run-b";
  context.resume = true;
  std::vector<std::int64_t> steps;
  context.log_metrics = [&](std::int64_t step, const MetricRow&, const TagRow&) { steps.push_back(step); };
  recipe.train(*encoder, context);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(fs::exists(tmp / "a/checkpoints/step-00000005")) << "the other run's checkpoint";
  EXPECT_FALSE(fs::exists(tmp / "a/checkpoints/step-00000002")) << "pruned: this run's, not its newest";
  EXPECT_TRUE(fs::exists(tmp / "a/checkpoints/step-00000003"));
  EXPECT_EQ(checkpoint_run_id(tmp / "a/checkpoints/step-00000003"), "run-b");
  log::set_level(log::Level::kInfo);
}

TEST(Settings, ErrorsNameTheKey) {
  try {
    ContrastiveRecipe r(Config::parse("[train]\nplugin='contrastive'\ndata='x.jsonl'\nsteps=10\nbatch_size=1\n", "t.toml").table("train"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(sentbench::test::has_substr(e.what(), "batch_size"));
  }
  EXPECT_THROW(ContrastiveRecipe(Config::parse("[train]\nplugin='contrastive'\nsteps=10\nbatch_size=4\n").table("train")),
               ConfigError);
}

TEST(Settings, UniqueInBatchDefaultsOnAndIsABoolean) {
  const std::string base = "[train]\nplugin='contrastive'\ndata='x.jsonl'\nsteps=10\nbatch_size=4\n";
  EXPECT_TRUE(read_settings(Config::parse(base).table("train")).unique_in_batch);
  EXPECT_FALSE(read_settings(Config::parse(base + "unique_in_batch=false\n").table("train")).unique_in_batch);
  try {
    read_settings(Config::parse(base + "unique_in_batch=1\n", "t.toml").table("train"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(sentbench::test::has_substr(e.what(), "unique_in_batch")) << e.what();
  }
}

}  // namespace
}  // namespace sentbench::contrastive
