// The contrastive objective on the SDK's training services: weighted pair mixing tokenized ahead of the
// model, the MNRL loss (plain or GradCache steps, gathered across ranks), and the dry-run cost estimate.
#include "contrastive_recipe.hpp"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "grad_cache.hpp"
#include "losses.hpp"
#include "sentbench/data/pair_stream.hpp"
#include "sentbench/autocast.hpp"
#include "sentbench/threads.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench::contrastive {

const KeySpec kTrainKeys[] = {
    {"plugin", ValueType::kString, true, "\"contrastive\""},
    SENTBENCH_TRAINING_KEYS,
    {"data_config", ValueType::kPath, false, "data_config JSON: [{\"name\", \"lines\", \"weight\"}, ...]"},
    {"data_dir", ValueType::kPath, false, "folder the data_config names are relative to (default: its folder)"},
    {"data", ValueType::kPath, false, "a single pairs file (*.jsonl / *.jsonl.gz) instead of a data_config"},
    {"batch_size", ValueType::kInteger, true, "examples per step (global batch; each one's partner is the target)"},
    {"scale", ValueType::kFloat, false, "similarity scale of the MNRL loss (default 20)"},
    {"symmetric", ValueType::kBoolean, false, "average both directions of the loss (default true)"},
    {"mini_batch", ValueType::kInteger, false, "GradCache mini-batch (default 0: plain full-batch steps)"},
    {"shuffle_buffer", ValueType::kInteger, false, "examples in each file's shuffle buffer (default 4096)"},
    {"prefetch", ValueType::kInteger, false, "batches tokenized ahead on a worker thread (default 2)"},
    {"unique_in_batch", ValueType::kBoolean, false,
     "skip an example sharing a text with one already in the batch, a false negative (default true)"},
};
const std::size_t kTrainKeyCount = sizeof(kTrainKeys) / sizeof(kTrainKeys[0]);

TrainSettings read_settings(const Config& c) {
  TrainSettings s;
  s.train = read_training_settings(c);
  if (c.contains("data_config") == c.contains("data")) {
    c.fail(c.contains("data") ? "data" : "", "set exactly one of `data_config` (a weighted mix) or `data` (one pairs file)");
  }
  if (c.contains("data_config")) {
    s.data_config = c.get_path("data_config");
    s.data_dir = c.get_path("data_dir", s.data_config.parent_path());
  } else {
    s.data = c.get_path("data");
  }
  s.batch_size = c.get_int("batch_size");
  s.scale = c.get_double("scale", s.scale);
  s.symmetric = c.get_bool("symmetric", s.symmetric);
  s.mini_batch = c.get_int("mini_batch", s.mini_batch);
  s.shuffle_buffer = c.get_int("shuffle_buffer", s.shuffle_buffer);
  s.prefetch = c.get_int("prefetch", s.prefetch);
  s.unique_in_batch = c.get_bool("unique_in_batch", s.unique_in_batch);
  if (s.batch_size < 2) c.fail("batch_size", "must be at least 2 (in-batch negatives need company)");
  if (s.mini_batch < 0) c.fail("mini_batch", "must not be negative");
  if (s.prefetch < 1) c.fail("prefetch", "must be at least 1");
  return s;
}

ContrastiveRecipe::ContrastiveRecipe(const Config& config) : settings_(read_settings(config)) {}

namespace {

std::vector<MixEntry> mix_entries(const TrainSettings& s, fs::path& data_dir) {
  if (!s.data_config.empty()) {
    data_dir = s.data_dir;
    return read_data_config(s.data_config);
  }
  data_dir = s.data.parent_path();
  return {MixEntry{s.data.filename().string(), 0, 1.0}};
}

std::vector<TokenBatch> tokenize_columns(const Encoder& encoder, const PairBatch& batch) {
  const std::size_t arity = batch.examples.front().texts.size();
  std::vector<TokenBatch> columns;
  for (std::size_t c = 0; c < arity; ++c) {
    std::vector<std::string> texts;
    texts.reserve(batch.examples.size());
    for (const auto& e : batch.examples) texts.push_back(e.texts[c]);
    columns.push_back(encoder.tokenize(texts));
  }
  return columns;
}

json mix_state_json(const MixState& s) {
  json streams = json::array();
  for (const auto& st : s.streams) streams.push_back({{"epoch", st.epoch}, {"consumed", st.consumed}, {"rng", st.rng}});
  return {{"rng", s.rng}, {"streams", streams}};
}

MixState mix_state_from_json(const json& j) {
  MixState s;
  s.rng = j.at("rng").get<std::string>();
  for (const auto& st : j.at("streams")) {
    s.streams.push_back({st.at("epoch").get<std::uint64_t>(), st.at("consumed").get<std::uint64_t>(), st.at("rng").get<std::string>()});
  }
  return s;
}

// The MNRL loss over a step's columns. Distributed, each column is gathered from all ranks with the
// gradient-correct all-gather, so every anchor is ranked against the whole global batch; each rank's loss
// is the mean over its own anchors, and averaging the ranks' gradients gives the global batch's gradient.
LossFn make_loss(const TrainSettings& s, ProcessGroup& group) {
  return [scale = s.scale, symmetric = s.symmetric, &group](const std::vector<at::Tensor>& cols) {
    const at::Tensor anchors = cols[0].to(torch::kFloat32);
    std::vector<at::Tensor> candidates;
    for (auto it = cols.begin() + 1; it != cols.end(); ++it) candidates.push_back(group.all_gather(it->to(torch::kFloat32)));
    if (!group.distributed()) return mnrl_loss(anchors, torch::cat(candidates), scale, symmetric);
    const at::Tensor all_anchors = symmetric ? group.all_gather(anchors) : at::Tensor();
    return mnrl_loss(anchors, torch::cat(candidates), scale, symmetric, group.rank() * anchors.size(0), all_anchors);
  };
}

// A step's batch: this rank's shard of the global batch, its columns tokenized.
struct PairStep : PreparedBatch {
  std::vector<TokenBatch> columns;
};

// The contrastive objective: weighted pair mixing, tokenized ahead; the MNRL loss, plain or GradCache.
// Distributed, every rank draws the same global batch (same seed, same mixer state) and keeps its own
// contiguous shard of it: rank r holds examples [r·B/W, (r+1)·B/W).
class ContrastiveObjective : public TrainingObjective {
 public:
  ContrastiveObjective(const TrainSettings& s, Encoder& encoder, const TrainContext& context)
      : settings_(s), encoder_(encoder), rank_(static_cast<std::size_t>(context.group->rank())),
        world_(static_cast<std::size_t>(context.group->world_size())),
        mixer_([&] {
          fs::path data_dir;
          std::vector<MixEntry> entries = mix_entries(s, data_dir);  // sets data_dir
          return PairMixer(std::move(entries), data_dir, context.seed, static_cast<std::size_t>(s.shuffle_buffer),
                           s.unique_in_batch);
        }()),
        loss_(make_loss(s, *context.group)) {}

  std::unique_ptr<PreparedBatch> next_batch() override {
    auto b = std::make_unique<PairStep>();
    PairBatch batch = mixer_.next_batch(static_cast<std::size_t>(settings_.batch_size));
    b->data_state = mix_state_json(mixer_.state()).dump();
    b->examples = batch.examples.size();
    b->source = batch.dataset_name;
    if (world_ > 1) {
      const std::size_t shard = b->examples / world_;
      auto& ex = batch.examples;
      ex.erase(ex.begin() + static_cast<std::ptrdiff_t>((rank_ + 1) * shard), ex.end());
      ex.erase(ex.begin(), ex.begin() + static_cast<std::ptrdiff_t>(rank_ * shard));
    }
    b->columns = tokenize_columns(encoder_, batch);
    for (const auto& c : b->columns) b->tokens += c.tokens();
    return b;
  }
  std::string data_state() const override { return mix_state_json(mixer_.state()).dump(); }
  void restore_data(const std::string& state) override { mixer_.restore(mix_state_from_json(json::parse(state))); }
  double forward_backward(PreparedBatch& batch, MetricRow&) override {
    return contrastive::forward_backward(encoder_, static_cast<PairStep&>(batch).columns, loss_, settings_.mini_batch);
  }
  std::string examples_unit() const override { return "pairs"; }

 private:
  const TrainSettings& settings_;
  Encoder& encoder_;
  std::size_t rank_, world_;
  PairMixer mixer_;
  LossFn loss_;
};

}  // namespace

void ContrastiveRecipe::train(Encoder& encoder, TrainContext& context) {
  if (context.dry_run) {
    ComputeThreads threads(Work::kOneDnn);  // as the services give the training
    return dry_run(encoder, context);
  }
  const int world = context.group->world_size();
  if (settings_.batch_size % world != 0 || settings_.batch_size / world < 1) {
    context.config.fail("batch_size", fmt::format("the global batch {} must split evenly between the {} ranks; use a "
                                                  "multiple of {}", settings_.batch_size, world, world));
  }
  ContrastiveObjective objective(settings_, encoder, context);
  TrainingOptions options;
  options.prefetch = settings_.prefetch;
  run_training(encoder, context, settings_.train, objective, options);
}

void ContrastiveRecipe::dry_run(Encoder& encoder, TrainContext& context) {
  const TrainSettings& s = settings_;
  const EncoderInfo info = encoder.info();
  std::int64_t params = 0, dense = 0;
  for (const auto& p : encoder.parameters()) {
    params += p.numel();
    // Embedding tables are lookups, not matmuls: the largest 2-D tensors with one dim equal to vocab
    // or positions. Approximate dense weights as all 2-D tensors whose rows are not far above hidden.
    if (p.dim() == 2 && p.size(0) <= 8 * info.dim) dense += p.numel();
  }
  // Average texts per batch from a few real batches, or an upper bound when the data is absent.
  double tokens_per_text = static_cast<double>(info.max_tokens);
  double padded_per_text = static_cast<double>(info.max_tokens);
  std::size_t arity = 2;
  std::string token_source = "upper bound (max_seq_length; data not found)";
  std::vector<std::vector<TokenBatch>> sample;
  try {
    fs::path data_dir;
    std::vector<MixEntry> entries = mix_entries(s, data_dir);  // sets data_dir: call before using it
  PairMixer mixer(std::move(entries), data_dir, context.seed, static_cast<std::size_t>(s.shuffle_buffer),
                  s.unique_in_batch);
    double tokens = 0, padded = 0, texts = 0;
    for (int i = 0; i < 3; ++i) {
      const PairBatch b = mixer.next_batch(static_cast<std::size_t>(s.batch_size));
      sample.push_back(tokenize_columns(encoder, b));
      arity = sample.back().size();
      for (const auto& c : sample.back()) {
        tokens += static_cast<double>(c.tokens());
        padded += static_cast<double>(c.max_length() * c.size());
        texts += static_cast<double>(c.size());
      }
    }
    tokens_per_text = tokens / texts;
    padded_per_text = padded / texts;
    token_source = "measured on 3 batches of the data";
  } catch (const Error& e) {
    log::warn("dry run: {}", e.what());
  }
  if (sample.empty()) {
    // Synthetic texts at the length limit stand in for the data when timing steps.
    std::vector<std::string> texts(static_cast<std::size_t>(s.batch_size));
    for (auto& t : texts) for (std::int64_t w = 0; w < info.max_tokens; ++w) t += "word ";
    sample.push_back({encoder.tokenize(texts), encoder.tokenize(texts)});
  }
  const double texts_per_step = static_cast<double>(s.batch_size * static_cast<std::int64_t>(arity));
  const double tokens = tokens_per_text * texts_per_step;
  const double padded = padded_per_text * texts_per_step;
  const double h = static_cast<double>(info.dim);
  const double layers = std::max(1.0, std::round(static_cast<double>(dense) / (12.0 * h * h)));
  const double seq = padded_per_text;
  // 6·N·tokens for forward + backward of the dense weights; attention scores and mixing add
  // 12·L·T·h per token (QKᵀ and PV, forward + backward).
  const double flops = 6.0 * static_cast<double>(dense) * padded + 12.0 * layers * seq * h * padded;
  // Weights + grads + two AdamW moments in fp32; activations per layer per token ≈ (34·h + 5·a·T)·2
  // bytes in fp32 (Korthikanti et al. 2022, doubled from fp16), a = h/64 heads.
  const double state_bytes = 16.0 * static_cast<double>(params);
  auto activations = [&](double rows) { return layers * rows * seq * (34.0 * h + 5.0 * (h / 64.0) * seq) * 2.0; };
  const double full_act = activations(texts_per_step);
  const double mini = s.mini_batch > 0 ? static_cast<double>(std::min(s.mini_batch, s.batch_size)) : 0.0;
  const double gc_act = mini > 0 ? activations(mini) + texts_per_step * h * 4.0 * 2.0 : 0.0;

  // Time a few real steps (on a throwaway optimizer) to extrapolate the run.
  torch::optim::AdamW optimizer(encoder.parameters(), torch::optim::AdamWOptions(s.train.lr));
  const LossFn loss = make_loss(s, *context.group);
  encoder.train(true);
  std::vector<double> times;
  for (int i = 0; i < 3; ++i) {
    const auto& columns = sample[static_cast<std::size_t>(i) % sample.size()];
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    {
      CpuAutocast autocast(s.train.bf16);
      forward_backward(encoder, columns, loss, s.mini_batch);
    }
    optimizer.step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  encoder.train(false);
  const double measured_rows = static_cast<double>(sample.front().front().size());
  const double step_seconds = (times[1] + times[2]) / 2.0 * (static_cast<double>(s.batch_size) / measured_rows);
  const auto gib = [](double b) { return b / (1024.0 * 1024.0 * 1024.0); };
  std::string out;
  out += fmt::format("dry run of {} steps, batch {} ({} texts per example)\n", s.train.steps, s.batch_size, arity);
  out += fmt::format("  model                {} ({}): {} parameters, {} in dense matmuls, ~{} layers, hidden {}\n",
                     info.name, info.model, params, dense, layers, info.dim);
  out += fmt::format("  tokens per step      {:.0f} ({:.0f} padded), {}\n", tokens, padded, token_source);
  out += fmt::format("  FLOPs per step       {:.3e} (6·N·tokens + attention); whole run {:.3e}\n", flops, flops * s.train.steps);
  out += fmt::format("  memory, plain step   {:.2f} GiB (weights, grads, AdamW {:.2f} + activations {:.2f})\n",
                     gib(state_bytes + full_act), gib(state_bytes), gib(full_act));
  if (mini > 0) {
    out += fmt::format("  memory, GradCache    {:.2f} GiB (mini-batch {} → activations {:.2f})\n",
                       gib(state_bytes + gc_act), s.mini_batch, gib(gc_act));
  } else {
    out += fmt::format("  memory, GradCache    set mini_batch to bound activations (e.g. mini_batch = 32 → {:.2f} GiB)\n",
                       gib(state_bytes + activations(32.0 * arity) + texts_per_step * h * 8.0));
  }
  out += fmt::format("  measured step        {:.3f} s on this machine ({} threads), {:.1f} TFLOP/s achieved\n",
                     step_seconds, at::get_num_threads(), flops / step_seconds / 1e12);
  out += fmt::format("  estimated run time   {} for {} steps\n", format_duration(step_seconds * s.train.steps), s.train.steps);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace sentbench::contrastive
