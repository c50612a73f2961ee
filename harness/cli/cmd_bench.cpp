// `sentbench bench encode|train`: throughput of the real encoder and training step on a model folder, one
// JSON object on stdout, measured as the PyTorch reference script (shared/bench/pytorch_reference.py) does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.hpp"
#include "model_options.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/recipe.hpp"
#include "sentbench/threads.hpp"
#include "sentbench/version.hpp"
#include "system_info.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench::cli {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What every bench result says about the model and the settings it ran with. EncoderInfo has no layer
// count; a Hugging Face folder's config.json does.
json model_fields(const ModelOptions& options, const EncoderInfo& info, int threads) {
  json out = {{"engine", "sentbench"}, {"sentbench_version", kVersion}, {"plugin", info.name}, {"model", info.model},
              {"dim", info.dim}, {"max_tokens", info.max_tokens}, {"pooling", info.pooling},
              {"parameters", info.parameters}, {"dtype", options.dtype}, {"threads", threads}};
  std::ifstream config(fs::path(options.model) / "config.json");
  const json hf = config ? json::parse(config, nullptr, false) : json();
  if (hf.is_object() && hf.contains("num_hidden_layers") && hf["num_hidden_layers"].is_number_integer()) {
    out["layers"] = hf["num_hidden_layers"];
  }
  return out;
}

// A fresh folder under the temp dir for a throw-away run, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "sentbench-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw IoError("cannot create a temporary folder under " + fs::temp_directory_path().string());
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct EncodeArgs {
  ModelOptions model;
  InputOptions input;
  std::int64_t batch = 0;
  int repeat = 1;
  bool tokenize_only = false;
};

// Tokenize everything (timed on its own), sort longest first, cut batches, one warm-up batch, then the
// forward passes of all batches under InferenceMode: model time only, the best of `repeat` passes.
int bench_encode(const EncodeArgs& args) {
  const int threads = apply_threads(args.model.threads);
  std::vector<std::string> texts = read_input_texts(args.input);
  // Blank lines are not texts here, as in the reference's read_lines.
  if (!args.input.jsonl) {
    texts.erase(std::remove_if(texts.begin(), texts.end(),
                               [](const std::string& t) { return t.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }),
                texts.end());
  }
  if (texts.empty()) throw DataError(fmt::format("{}: no texts to encode", args.input.input));
  const LoadedRecipe loaded = check_options_recipe(encoder_toml(args.model), "bench encode");
  const std::shared_ptr<Encoder> encoder = create_encoder(loaded);
  const EncoderInfo info = encoder->info();

  std::size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  const auto tokenize_start = std::chrono::steady_clock::now();
  TokenBatch all = encoder->tokenize(texts);
  const double tokenize_seconds = seconds_since(tokenize_start);

  const std::vector<std::size_t> order = all.longest_first();
  std::vector<std::size_t> lengths(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) lengths[i] = all.ids[order[i]].size();
  const std::int64_t tokens = static_cast<std::int64_t>(std::accumulate(lengths.begin(), lengths.end(), std::size_t{0}));
  std::vector<std::pair<std::size_t, std::size_t>> plan;
  if (args.batch > 0) {
    for (std::size_t begin = 0; begin < order.size(); begin += static_cast<std::size_t>(args.batch)) {
      plan.emplace_back(begin, std::min(order.size(), begin + static_cast<std::size_t>(args.batch)));
    }
  } else {
    plan = plan_batches(lengths, encoder->default_batch_tokens());
  }
  std::vector<TokenBatch> batches(plan.size());
  for (std::size_t b = 0; b < plan.size(); ++b) {
    for (std::size_t i = plan[b].first; i < plan[b].second; ++i) batches[b].ids.push_back(std::move(all.ids[order[i]]));
  }

  json out = model_fields(args.model, info, threads);
  out["input_bytes"] = bytes;
  out["sentences"] = texts.size();
  out["tokens"] = tokens;
  out["tokenize_seconds"] = tokenize_seconds;
  out["tokenize_mb_per_s"] = tokenize_seconds > 0 ? static_cast<double>(bytes) / 1e6 / tokenize_seconds : 0.0;
  if (args.tokenize_only) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  // The encoder sets its thread pools itself (sentbench/threads.hpp; roberta: inside forward()).
  c10::InferenceMode guard;
  encoder->train(false);
  encoder->forward(batches.front());  // warm-up: first-touch of weights and activation buffers
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < args.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (const auto& batch : batches) encoder->forward(batch);
    const double seconds = seconds_since(start);
    best = std::min(best, seconds);
    log::info("pass {}/{}: {} texts in {:.3f}s", r + 1, args.repeat, texts.size(), seconds);
  }
  out["batch"] = args.batch;
  if (args.batch == 0) out["batch_tokens"] = encoder->default_batch_tokens();
  out["batches"] = batches.size();
  out["repeat"] = args.repeat;
  out["seconds"] = best;
  out["sentences_per_s"] = static_cast<double>(texts.size()) / best;
  out["tokens_per_s"] = static_cast<double>(tokens) / best;
  std::cout << out.dump() << std::endl;
  return 0;
}

struct TrainArgs {
  ModelOptions model;
  std::string pairs;
  std::int64_t batch = 64;
  std::int64_t steps = 5;
};

// The contrastive recipe plugin itself, run from an in-memory recipe into a scratch folder: one warm-up
// step, then `steps` timed steps whose per-step timings come from its train-log rows.
int bench_train(const TrainArgs& args) {
  const int threads = apply_threads(args.model.threads);
  std::string toml = encoder_toml(args.model);
  toml += fmt::format(
      "[train]\nplugin = \"contrastive\"\ndata = {}\nsteps = {}\nbatch_size = {}\nlr = 2e-5\nwarmup_steps = 0\n"
      // shuffle_buffer = 1: the pairs in file order, the reference's batches (pairs[0:64] warm-up, then
      // pairs[64:128], ...), so both engines see the same texts and the same padding.
      "scale = 20.0\nsymmetric = true\nbf16 = {}\ncheckpoint_every = 0\nkeep_checkpoints = 1\nshuffle_buffer = 1\n",
      toml_string(fs::absolute(args.pairs).lexically_normal().string()), args.steps + 1, args.batch,
      args.model.dtype == "bf16" ? "true" : "false");
  const LoadedRecipe loaded = check_options_recipe(toml, "bench train");
  const std::shared_ptr<Encoder> encoder = create_encoder(loaded);
  const Config train_section = loaded.recipe.table("train");
  const std::shared_ptr<Recipe> recipe = loaded.host->create_recipe(train_section.get_string("plugin"), train_section);

  ScratchDir scratch;
  std::vector<MetricRow> rows;
  TrainContext context;
  context.config = train_section;
  context.output_dir = scratch.path();
  context.seed = 42;
  context.log_metrics = [&rows](std::int64_t, const MetricRow& row, const TagRow&) { rows.push_back(row); };
  torch::manual_seed(context.seed);
  log::info("bench train: {} + 1 warm-up steps of batch {} on {} ({} core{})", args.steps, args.batch, args.pairs,
            threads, threads == 1 ? "" : "s");
  recipe->train(*encoder, context);
  if (rows.size() != static_cast<std::size_t>(args.steps + 1)) {
    throw Error(fmt::format("the contrastive recipe logged {} steps, expected {}", rows.size(), args.steps + 1));
  }
  double seconds = 0, tokens = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {  // row 0 is the warm-up step
    const double step_seconds = rows[i].at("step_seconds");
    seconds += step_seconds;
    tokens += rows[i].at("tokens_per_s") * step_seconds;
  }
  json out = model_fields(args.model, encoder->info(), threads);
  out["batch"] = args.batch;
  out["steps"] = args.steps;
  out["seconds"] = seconds;
  out["warmup_seconds"] = rows.front().at("step_seconds");
  out["tokens"] = std::llround(tokens);
  out["pairs_per_s"] = static_cast<double>(args.steps * args.batch) / seconds;
  out["tokens_per_s"] = tokens / seconds;
  out["final_loss"] = rows.back().at("loss");
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

void add_bench_commands(CLI::App& app, Action& action) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure encoding or training throughput on a model folder; prints one JSON object on stdout.");
  bench->require_subcommand(1);

  auto encode = std::make_shared<EncodeArgs>();
  CLI::App* e = bench->add_subcommand("encode", "Encoding throughput (model time) on a texts file.");
  e->footer(
      "Measured as shared/bench/pytorch_reference.py `encode` does:\n"
      "all texts are tokenized first in one call (timed apart: tokenize_mb_per_s = input UTF-8 bytes / 1e6 / s),\n"
      "sorted by length, longest first, and cut into batches; one warm-up batch (the first), then forward() of\n"
      "every batch under InferenceMode is timed. Blank lines of a plain texts file are skipped.\n"
      "Prints {sentences_per_s, tokens_per_s, tokenize_mb_per_s, threads, dtype, batch, sentences, tokens\n"
      "(real, unpadded), seconds, dim, layers, parameters, ...}.");
  add_model_options(*e, encode->model);
  add_input_options(*e, encode->input);
  e->add_option("--batch", encode->batch,
                "sentences per batch; 0 = the encoder's own batching as `sentbench encode` uses it (filled up to its "
                "padded-token budget, rows·T² capped)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  e->add_option("--repeat", encode->repeat, "timed passes over all batches; the best is reported")
      ->check(CLI::PositiveNumber)->capture_default_str();
  e->add_flag("--tokenize-only", encode->tokenize_only,
              "only the tokenizer: print the tokenize figures and skip the model passes");
  e->callback([&action, encode] { action = [encode] { return bench_encode(*encode); }; });

  auto train = std::make_shared<TrainArgs>();
  CLI::App* t = bench->add_subcommand("train", "Training throughput of the contrastive step on a pairs file.");
  t->footer(
      "The real step of the `contrastive` recipe plugin (in-batch negatives, scale 20, symmetric, AdamW lr 2e-5,\n"
      "clipping 1.0), measured as shared/bench/pytorch_reference.py `train` does: one warm-up step, then\n"
      "--steps timed steps, the pairs taken in file order (no shuffle) so both see the same batches.\n"
      "pairs_per_s = steps * batch / seconds; tokens_per_s counts the real tokens of both columns. The run\n"
      "goes to a temporary folder that is removed afterwards.\n"
      "Prints {pairs_per_s, tokens_per_s, batch, steps, seconds, dtype, threads, ...}.");
  add_model_options(*t, train->model);
  t->add_option("--pairs", train->pairs,
                "training pairs (*.jsonl or *.jsonl.gz): [\"a\", \"b\"], [\"a\", \"b\", \"neg\"], {\"texts\": [...]} "
                "or {\"query\", \"pos\", \"neg\"} a line; read again from the start when exhausted")
      ->required()->check(CLI::ExistingFile);
  t->add_option("--batch", train->batch, "pairs per step (in-batch negatives: at least 2)")
      ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 30))->capture_default_str();
  t->add_option("--steps", train->steps, "timed steps after the warm-up step")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))->capture_default_str();
  t->callback([&action, train] { action = [train] { return bench_train(*train); }; });
}

}  // namespace sentbench::cli
