// The contrastive training loop: data on a worker thread, plain or GradCache steps, AdamW with a
// linear schedule, per-step logs, atomic checkpoints and exact resume.
#include "contrastive_recipe.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoint.hpp"
#include "grad_cache.hpp"
#include "losses.hpp"
#include "pair_stream.hpp"
#include "sentbench/autocast.hpp"
#include "sentbench/threads.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/progress.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench::contrastive {

const KeySpec kTrainKeys[] = {
    {"plugin", ValueType::kString, true, "\"contrastive\""},
    {"data_config", ValueType::kPath, false, "data_config JSON: [{\"name\", \"lines\", \"weight\"}, ...]"},
    {"data_dir", ValueType::kPath, false, "folder the data_config names are relative to (default: its folder)"},
    {"data", ValueType::kPath, false, "a single pairs file (*.jsonl / *.jsonl.gz) instead of a data_config"},
    {"steps", ValueType::kInteger, true, "optimisation steps"},
    {"batch_size", ValueType::kInteger, true, "examples per step (global batch; each one's partner is the target)"},
    {"lr", ValueType::kFloat, false, "peak learning rate (default 2e-5)"},
    {"warmup_steps", ValueType::kInteger, false, "linear warm-up steps (default 500), then linear decay to 0"},
    {"weight_decay", ValueType::kFloat, false, "AdamW weight decay on matrices (default 0.01; none on biases/norms)"},
    {"betas", ValueType::kArray, false, "AdamW betas (default [0.9, 0.999])"},
    {"eps", ValueType::kFloat, false, "AdamW epsilon (default 1e-6)"},
    {"max_grad_norm", ValueType::kFloat, false, "gradient clipping (default 1.0; 0 disables)"},
    {"scale", ValueType::kFloat, false, "similarity scale of the MNRL loss (default 20)"},
    {"symmetric", ValueType::kBoolean, false, "average both directions of the loss (default true)"},
    {"mini_batch", ValueType::kInteger, false, "GradCache mini-batch (default 0: plain full-batch steps)"},
    {"bf16", ValueType::kBoolean, false, "bf16 autocast for forward and backward (default false)"},
    {"checkpoint_every", ValueType::kInteger, false, "steps between checkpoints (default 0: only at the end)"},
    {"keep_checkpoints", ValueType::kInteger, false, "newest checkpoints kept (default 2)"},
    {"shuffle_buffer", ValueType::kInteger, false, "examples in each file's shuffle buffer (default 4096)"},
    {"prefetch", ValueType::kInteger, false, "batches tokenized ahead on a worker thread (default 2)"},
};
const std::size_t kTrainKeyCount = sizeof(kTrainKeys) / sizeof(kTrainKeys[0]);

TrainSettings read_settings(const Config& c) {
  TrainSettings s;
  if (c.contains("data_config") == c.contains("data")) {
    c.fail(c.contains("data") ? "data" : "", "set exactly one of `data_config` (a weighted mix) or `data` (one pairs file)");
  }
  if (c.contains("data_config")) {
    s.data_config = c.get_path("data_config");
    s.data_dir = c.get_path("data_dir", s.data_config.parent_path());
  } else {
    s.data = c.get_path("data");
  }
  s.steps = c.get_int("steps");
  s.batch_size = c.get_int("batch_size");
  s.lr = c.get_double("lr", s.lr);
  s.warmup_steps = c.get_int("warmup_steps", s.warmup_steps);
  s.weight_decay = c.get_double("weight_decay", s.weight_decay);
  if (c.contains("betas")) {
    const auto b = c.get_doubles("betas");
    if (b.size() != 2) c.fail("betas", "expected two numbers, e.g. [0.9, 0.999]");
    s.beta1 = b[0];
    s.beta2 = b[1];
  }
  s.eps = c.get_double("eps", s.eps);
  s.max_grad_norm = c.get_double("max_grad_norm", s.max_grad_norm);
  s.scale = c.get_double("scale", s.scale);
  s.symmetric = c.get_bool("symmetric", s.symmetric);
  s.mini_batch = c.get_int("mini_batch", s.mini_batch);
  s.bf16 = c.get_bool("bf16", s.bf16);
  s.checkpoint_every = c.get_int("checkpoint_every", s.checkpoint_every);
  s.keep_checkpoints = c.get_int("keep_checkpoints", s.keep_checkpoints);
  s.shuffle_buffer = c.get_int("shuffle_buffer", s.shuffle_buffer);
  s.prefetch = c.get_int("prefetch", s.prefetch);
  if (s.steps < 1) c.fail("steps", "must be at least 1");
  if (s.batch_size < 2) c.fail("batch_size", "must be at least 2 (in-batch negatives need company)");
  if (s.lr <= 0) c.fail("lr", "must be positive");
  if (s.warmup_steps < 0) c.fail("warmup_steps", "must not be negative");
  if (s.mini_batch < 0) c.fail("mini_batch", "must not be negative");
  if (s.prefetch < 1) c.fail("prefetch", "must be at least 1");
  return s;
}

double learning_rate(const TrainSettings& s, std::int64_t step) {
  if (s.warmup_steps > 0 && step <= s.warmup_steps) return s.lr * static_cast<double>(step) / s.warmup_steps;
  const double remaining = static_cast<double>(s.steps - step) / std::max<std::int64_t>(1, s.steps - s.warmup_steps);
  return s.lr * std::max(0.0, remaining);
}

ContrastiveRecipe::ContrastiveRecipe(const Config& config) : settings_(read_settings(config)) {}

namespace {

// A batch made ready on the worker thread: its columns tokenized, and the mixer state after drawing it
// (what a checkpoint taken at this step must store).
struct ReadyBatch {
  PairBatch batch;                 // this rank's shard of the global batch
  std::size_t global_size = 0;     // examples in the global batch
  std::vector<TokenBatch> columns;
  std::size_t tokens = 0;
  MixState state_after;
};

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

// Draws and tokenizes batches ahead of the model on one worker thread; in order, so deterministic.
// Distributed, every rank draws the same global batch (same seed, same mixer state) and keeps its own
// contiguous shard of it: rank r holds examples [r·B/W, (r+1)·B/W).
class Prefetcher {
 public:
  Prefetcher(PairMixer& mixer, const Encoder& encoder, std::size_t batch_size, std::size_t depth, int rank,
             int world_size)
      : mixer_(mixer), encoder_(encoder), batch_size_(batch_size), depth_(depth),
        rank_(static_cast<std::size_t>(rank)), world_size_(static_cast<std::size_t>(world_size)),
        worker_([this] { run(); }) {}
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  ReadyBatch next() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);
    ReadyBatch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  void run() {
    try {
      while (true) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
          if (stop_) return;
        }
        ReadyBatch b;
        b.batch = mixer_.next_batch(batch_size_);
        b.state_after = mixer_.state();
        b.global_size = b.batch.examples.size();
        if (world_size_ > 1) {
          const std::size_t shard = b.global_size / world_size_;
          auto& ex = b.batch.examples;
          ex.erase(ex.begin() + static_cast<std::ptrdiff_t>((rank_ + 1) * shard), ex.end());
          ex.erase(ex.begin(), ex.begin() + static_cast<std::ptrdiff_t>(rank_ * shard));
        }
        b.columns = tokenize_columns(encoder_, b.batch);
        for (const auto& c : b.columns) b.tokens += c.tokens();
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }

  PairMixer& mixer_;
  const Encoder& encoder_;
  std::size_t batch_size_, depth_, rank_, world_size_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ReadyBatch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;  // last: starts after every member it uses exists
};

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

// AdamW with decay on matrices only (biases and LayerNorm weights are 1-D), as the reference run.
// Gradients set to none rather than zeroed (PyTorch 2.x's default): backward then hands each parameter its
// fresh gradient instead of a memset of every gradient and an accumulating add into it — at 30M
// parameters two passes over 120 MB a step (the autograd profile of `bench train`: fill_ 9.5% and add
// 7.2% of the step). The update is the same: 0 + g is g, and every parameter gets a gradient each step.
void clear_gradients(torch::optim::AdamW& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad() = at::Tensor();
  }
}

std::unique_ptr<torch::optim::AdamW> make_optimizer(Encoder& encoder, const TrainSettings& s) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& p : encoder.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(s.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(s.lr));
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

// Dropout streams of a distributed run: a function of (seed, rank, step) alone, so ranks differ from one
// another and a resumed run replays exactly whatever the world size was.
std::uint64_t step_seed(std::uint64_t seed, int rank, std::int64_t step) {
  std::uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(rank) + 1)) ^
                    (0xBF58476D1CE4E5B9ull * static_cast<std::uint64_t>(step));
  x ^= x >> 31;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 29);
}

}  // namespace

void ContrastiveRecipe::train(Encoder& encoder, TrainContext& context) {
  const TrainSettings& s = settings_;
  // The roberta encoder's GEMMs run in oneDNN in both dtypes: every core to LibTorch's pool
  // (sentbench/threads.hpp).
  ComputeThreads threads(Work::kOneDnn);
  if (context.dry_run) return dry_run(encoder, context);
  ProcessGroup& group = *context.group;
  const int world = group.world_size();
  if (s.batch_size % world != 0 || s.batch_size / world < 1) {
    context.config.fail("batch_size", fmt::format("the global batch {} must split evenly between the {} ranks; use a "
                                                  "multiple of {}", s.batch_size, world, world));
  }
  fs::path data_dir;
  std::vector<MixEntry> entries = mix_entries(s, data_dir);  // sets data_dir: call before using it
  PairMixer mixer(std::move(entries), data_dir, context.seed, static_cast<std::size_t>(s.shuffle_buffer));
  auto optimizer = make_optimizer(encoder, s);
  const fs::path checkpoints = context.output_dir / "checkpoints";

  std::int64_t step = 0;
  if (context.resume) {
    if (auto latest = latest_checkpoint(checkpoints, context.run_id)) {
      const CheckpointMeta meta = load_checkpoint(*latest, encoder, *optimizer);
      const json state = json::parse(meta.state_json);
      const int written_by = state.value("world_size", 1);
      if (written_by != world && !context.allow_world_size_change) {
        throw ConfigError(fmt::format(
            "checkpoint {} was written by {} rank{}, this run has {}; resume with the same number of ranks "
            "(--nproc {} or WORLD_SIZE={}), or pass --allow-world-size-change to continue anyway (the global batches "
            "stay the same; each rank's shard and the dropout streams change)",
            latest->string(), written_by, written_by == 1 ? "" : "s", world, written_by, written_by));
      }
      if (written_by != world) log::warn("resuming a {}-rank checkpoint on {} ranks, as allowed", written_by, world);
      mixer.restore(mix_state_from_json(state.at("data")));
      step = meta.step;
      log::info("resumed from {} (step {})", latest->string(), step);
    } else {
      log::warn("--resume: no complete checkpoint under {}; starting from step 0", checkpoints.string());
    }
  }
  if (step >= s.steps) {
    log::info("already trained for {} steps", step);
    return;
  }

  const LossFn loss = make_loss(s, group);
  const auto params = encoder.parameters();
  // Every rank starts from rank 0's weights (identical already when all ranks loaded the same files).
  group.broadcast(params, 0);
  Prefetcher prefetcher(mixer, encoder, static_cast<std::size_t>(s.batch_size), static_cast<std::size_t>(s.prefetch),
                        group.rank(), world);
  Progress progress("train", s.steps, "steps");
  progress.set(step);
  encoder.train(true);
  MixState last_state = mixer.state();
  std::int64_t last_saved = step;  // the newest checkpoint's step (the resumed one, or 0: none)
  // Rank 0's checkpoint of `at` (the data position is the last finished batch's).
  const auto checkpoint = [&](std::int64_t at) {
    const json state = {{"data", mix_state_json(last_state)}, {"world_size", world}};
    save_checkpoint(checkpoints, encoder, *optimizer, CheckpointMeta{at, state.dump(), context.run_id},
                    static_cast<int>(s.keep_checkpoints));
    last_saved = at;
  };
  for (++step; step <= s.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    group.set_step(step);
    if (world > 1) torch::manual_seed(step_seed(context.seed, group.rank(), step));
    ReadyBatch ready;
    try {
      ready = prefetcher.next();
    } catch (const Error& e) {
      // Bad data deep in a file (a truncated .gz, a malformed line) ends the run like a signal: with a
      // checkpoint of the last finished step first, so the run resumes from there once the data is fixed.
      if (group.is_main() && step - 1 > last_saved) {
        checkpoint(step - 1);
        log::warn("data error before step {}: wrote the checkpoint of step {}; fix the data, then `--resume`", step,
                  step - 1);
      }
      throw;
    }
    const double lr = learning_rate(s, step);
    for (auto& group : optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    clear_gradients(*optimizer);
    double value;
    {
      CpuAutocast autocast(s.bf16);
      value = forward_backward(encoder, ready.columns, loss, s.mini_batch);
    }
    double tokens = static_cast<double>(ready.tokens);
    double sync_seconds = 0;  // time in the gradient and stats all-reduces (the gathers are in the step)
    if (world > 1) {
      const auto sync_start = std::chrono::steady_clock::now();
      // Average the gradients (bucketed all-reduce), then one small all-reduce for the global loss and the
      // token count.
      std::vector<at::Tensor> grads;
      for (const auto& p : params) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
      }
      group.all_reduce_mean(grads);
      at::Tensor stats = torch::tensor({value, tokens}, torch::kFloat64);
      group.all_reduce_sum(stats);
      value = stats[0].item<double>() / world;
      tokens = stats[1].item<double>();
      sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_start).count();
    }
    if (!std::isfinite(value)) {
      throw Error(fmt::format("step {}: the loss is {} (dataset {}); lower lr or check the data", step, value,
                              ready.batch.dataset_name));
    }
    const double grad_norm = s.max_grad_norm > 0 ? torch::nn::utils::clip_grad_norm_(params, s.max_grad_norm)
                                                 : std::sqrt([&] {
                                                     double n = 0;
                                                     for (const auto& p : params) if (p.grad().defined()) n += p.grad().pow(2).sum().item<double>();
                                                     return n;
                                                   }());
    optimizer->step();
    last_state = ready.state_after;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (group.is_main()) {
      MetricRow row = {{"loss", value}, {"lr", lr}, {"grad_norm", grad_norm},
                       {"pairs_per_s", static_cast<double>(ready.global_size) / seconds},
                       {"tokens_per_s", tokens / seconds}, {"step_seconds", seconds}};
      if (world > 1) row["sync_seconds"] = sync_seconds;
      context.log_metrics(step, row, {{"dataset", ready.batch.dataset_name}});
    }
    progress.set_status(fmt::format("loss {:.4f} lr {:.2e}", value, lr));
    progress.add();
    bool stop = context.stop_requested();
    if (world > 1) {  // any rank asked to stop (Ctrl-C, SIGTERM): all stop at this step
      at::Tensor flag = torch::tensor({stop ? 1.0 : 0.0}, torch::kFloat64);
      group.all_reduce_sum(flag);
      stop = flag.item<double>() > 0;
    }
    if (group.is_main() && ((s.checkpoint_every > 0 && step % s.checkpoint_every == 0) || step == s.steps || stop)) {
      checkpoint(step);
    }
    if (stop) {
      log::warn("stopping at step {} as asked; `--resume` continues from here", step);
      throw Error(fmt::format("training interrupted at step {} (checkpoint written)", step));
    }
  }
  group.barrier();  // the last checkpoint is on disk before any rank reports success
  progress.finish();
  encoder.train(false);
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
  PairMixer mixer(std::move(entries), data_dir, context.seed, static_cast<std::size_t>(s.shuffle_buffer));
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
  auto optimizer = make_optimizer(encoder, s);
  const LossFn loss = make_loss(s, *context.group);
  encoder.train(true);
  std::vector<double> times;
  for (int i = 0; i < 3; ++i) {
    const auto& columns = sample[static_cast<std::size_t>(i) % sample.size()];
    const auto start = std::chrono::steady_clock::now();
    clear_gradients(*optimizer);
    {
      CpuAutocast autocast(s.bf16);
      forward_backward(encoder, columns, loss, s.mini_batch);
    }
    optimizer->step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  encoder.train(false);
  const double measured_rows = static_cast<double>(sample.front().front().size());
  const double step_seconds = (times[1] + times[2]) / 2.0 * (static_cast<double>(s.batch_size) / measured_rows);
  const auto gib = [](double b) { return b / (1024.0 * 1024.0 * 1024.0); };
  std::string out;
  out += fmt::format("dry run of {} steps, batch {} ({} texts per example)\n", s.steps, s.batch_size, arity);
  out += fmt::format("  model                {} ({}): {} parameters, {} in dense matmuls, ~{} layers, hidden {}\n",
                     info.name, info.model, params, dense, layers, info.dim);
  out += fmt::format("  tokens per step      {:.0f} ({:.0f} padded), {}\n", tokens, padded, token_source);
  out += fmt::format("  FLOPs per step       {:.3e} (6·N·tokens + attention); whole run {:.3e}\n", flops, flops * s.steps);
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
  out += fmt::format("  estimated run time   {} for {} steps\n", format_duration(step_seconds * s.steps), s.steps);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace sentbench::contrastive
