// The training loop every recipe shares (training.hpp): data on a loader thread, the optimizer and its
// schedule, bf16 autocast, the distributed step, logs, evaluation, checkpoints and exact resume.
#include "sentbench/training.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "checkpoint.hpp"
#include "sentbench/autocast.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/progress.hpp"
#include "sentbench/threads.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench {

PreparedBatch::~PreparedBatch() = default;
TrainingObjective::~TrainingObjective() = default;

TrainingSettings read_training_settings(const Config& c) {
  TrainingSettings s;
  s.steps = c.get_int("steps");
  s.lr = c.get_double("lr", s.lr);
  s.warmup_steps = c.get_int("warmup_steps", s.warmup_steps);
  s.schedule = c.get_string("schedule", s.schedule);
  s.weight_decay = c.get_double("weight_decay", s.weight_decay);
  if (c.contains("betas")) {
    const auto b = c.get_doubles("betas");
    if (b.size() != 2) c.fail("betas", "expected two numbers, e.g. [0.9, 0.999]");
    s.beta1 = b[0];
    s.beta2 = b[1];
  }
  s.eps = c.get_double("eps", s.eps);
  s.max_grad_norm = c.get_double("max_grad_norm", s.max_grad_norm);
  s.bf16 = c.get_bool("bf16", s.bf16);
  s.checkpoint_every = c.get_int("checkpoint_every", s.checkpoint_every);
  s.keep_checkpoints = c.get_int("keep_checkpoints", s.keep_checkpoints);
  s.eval_every = c.get_int("eval_every", s.eval_every);
  if (s.steps < 1) c.fail("steps", "must be at least 1");
  if (s.lr <= 0) c.fail("lr", "must be positive");
  if (s.warmup_steps < 0) c.fail("warmup_steps", "must not be negative");
  if (s.schedule != "linear" && s.schedule != "cosine" && s.schedule != "constant") {
    c.fail("schedule", fmt::format("unknown schedule '{}'; expected linear, cosine or constant", s.schedule));
  }
  if (s.weight_decay < 0) c.fail("weight_decay", "must not be negative");
  if (s.beta1 < 0 || s.beta1 >= 1 || s.beta2 < 0 || s.beta2 >= 1) c.fail("betas", "both must be in [0, 1)");
  if (s.eps <= 0) c.fail("eps", "must be positive");
  if (s.max_grad_norm < 0) c.fail("max_grad_norm", "must not be negative (0 disables clipping)");
  if (s.checkpoint_every < 0) c.fail("checkpoint_every", "must not be negative (0: only at the end)");
  if (s.keep_checkpoints < 0) c.fail("keep_checkpoints", "must not be negative (0 keeps all)");
  if (s.eval_every < 0) c.fail("eval_every", "must not be negative (0: off)");
  return s;
}

double learning_rate(const TrainingSettings& s, std::int64_t step) {
  if (s.warmup_steps > 0 && step <= s.warmup_steps) return s.lr * static_cast<double>(step) / s.warmup_steps;
  if (s.schedule == "constant") return s.lr;
  const double progress =
      static_cast<double>(step - s.warmup_steps) / std::max<std::int64_t>(1, s.steps - s.warmup_steps);
  if (s.schedule == "cosine") return s.lr * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, std::max(0.0, progress))));
  return s.lr * std::max(0.0, 1.0 - progress);
}

namespace {

// Prepares batches ahead of the model on one loader thread; in order, so deterministic.
class Loader {
 public:
  Loader(TrainingObjective& objective, std::size_t depth)
      : objective_(objective), depth_(depth), worker_([this] { run(); }) {}
  ~Loader() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  std::unique_ptr<PreparedBatch> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);
    std::unique_ptr<PreparedBatch> b = std::move(queue_.front());
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
        std::unique_ptr<PreparedBatch> b = objective_.next_batch();
        if (!b) throw Error("training objective returned no batch");
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

  TrainingObjective& objective_;
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PreparedBatch>> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;  // last: starts after every member it uses exists
};

// AdamW with decay on matrices only (biases and LayerNorm weights are 1-D), as the reference run.
std::unique_ptr<torch::optim::AdamW> make_optimizer(const std::vector<at::Tensor>& params, const TrainingSettings& s) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& p : params) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(s.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(s.lr));
}

// Gradients set to none rather than zeroed (PyTorch 2.x's default): backward then hands each parameter its
// fresh gradient instead of a memset of every gradient and an accumulating add into it — at 30M
// parameters two passes over 120 MB a step (the autograd profile of `bench train`: fill_ 9.5% and add
// 7.2% of the step). The update is the same: 0 + g is g.
void clear_gradients(const std::vector<at::Tensor>& params) {
  for (const auto& p : params) p.mutable_grad() = at::Tensor();
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

double total_norm(const std::vector<at::Tensor>& params) {
  double n = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) n += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(n);
}

// The CPU generator's state around work that must not move the training's random stream (evaluation).
class KeepGeneratorState {
 public:
  KeepGeneratorState() {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    state_ = gen.get_state();
  }
  ~KeepGeneratorState() {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state_);
  }

 private:
  at::Tensor state_;
};

}  // namespace

void run_training(Encoder& encoder, TrainContext& context, const TrainingSettings& s, TrainingObjective& objective,
                  const TrainingOptions& options) {
  // The roberta encoder's GEMMs run in oneDNN in both dtypes: every core to LibTorch's pool.
  ComputeThreads threads(Work::kOneDnn);
  ProcessGroup& group = *context.group;
  const int world = group.world_size();
  std::vector<at::Tensor> params = encoder.parameters();
  for (const auto& p : objective.extra_parameters()) params.push_back(p);
  auto optimizer = make_optimizer(params, s);
  const fs::path checkpoints = context.output_dir / "checkpoints";
  const auto save_model = [&](const fs::path& dir) { objective.save_model(encoder, dir); };

  std::int64_t step = 0;
  if (context.resume) {
    if (auto latest = latest_checkpoint(checkpoints, context.run_id)) {
      const CheckpointMeta meta = load_checkpoint(*latest, params, *optimizer);
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
      objective.restore_data(state.at("data").dump());
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

  // Every rank starts from rank 0's weights (identical already when all ranks loaded the same files).
  group.broadcast(params, 0);
  std::string last_state = objective.data_state();  // before the loader draws anything
  Loader loader(objective, static_cast<std::size_t>(std::max<std::int64_t>(1, options.prefetch)));
  Progress progress("train", s.steps, "steps");
  progress.set(step);
  encoder.train(true);
  std::int64_t last_saved = step;  // the newest checkpoint's step (the resumed one, or 0: none)
  // Rank 0's checkpoint of `at` (the data position is the last finished batch's).
  const auto checkpoint = [&](std::int64_t at) {
    const json state = {{"data", json::parse(last_state)}, {"world_size", world}};
    save_checkpoint(checkpoints, params, *optimizer, CheckpointMeta{at, state.dump(), context.run_id},
                    static_cast<int>(s.keep_checkpoints), save_model);
    last_saved = at;
  };
  const std::string per_s = objective.examples_unit() + "_per_s";
  for (++step; step <= s.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    group.set_step(step);
    if (world > 1) torch::manual_seed(step_seed(context.seed, group.rank(), step));
    std::unique_ptr<PreparedBatch> batch;
    try {
      batch = loader.next();
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
    for (auto& g : optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    clear_gradients(params);
    MetricRow row;
    double value;
    {
      CpuAutocast autocast(s.bf16);
      value = objective.forward_backward(*batch, row);
    }
    double tokens = static_cast<double>(batch->tokens);
    double sync_seconds = 0;  // time in the gradient and stats all-reduces (the recipe's gathers are in the step)
    if (world > 1) {
      const auto sync_start = std::chrono::steady_clock::now();
      // Average the gradients (bucketed all-reduce), then one small all-reduce for the global loss and the
      // token count.
      std::vector<at::Tensor> grads;
      for (auto& p : params) {
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
      throw Error(fmt::format("step {}: the loss is {}{}; lower lr or check the data", step, value,
                              batch->source.empty() ? "" : fmt::format(" (dataset {})", batch->source)));
    }
    const double grad_norm =
        s.max_grad_norm > 0 ? torch::nn::utils::clip_grad_norm_(params, s.max_grad_norm) : total_norm(params);
    optimizer->step();
    last_state = batch->data_state;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (group.is_main()) {
      row["loss"] = value;
      row["lr"] = lr;
      row["grad_norm"] = grad_norm;
      row[per_s] = static_cast<double>(batch->examples) / seconds;
      row["tokens_per_s"] = tokens / seconds;
      row["step_seconds"] = seconds;
      if (world > 1) row["sync_seconds"] = sync_seconds;
      if ((s.eval_every > 0 && step % s.eval_every == 0) || step == s.steps) {
        // Scores of the model as it is after this step: the recipe's tasks (when eval_every asks for them)
        // and the objective's own. Evaluation must not move the random stream the training draws dropout
        // from, or a run evaluated at other steps (or resumed) would train differently.
        KeepGeneratorState keep;
        torch::NoGradGuard no_grad;
        encoder.train(false);
        const auto eval_start = std::chrono::steady_clock::now();
        const bool tasks = s.eval_every > 0 && context.evaluate;
        MetricRow scores = tasks ? context.evaluate(step) : MetricRow{};
        for (const auto& [k, v] : objective.evaluate(step)) scores[k] = v;
        if (tasks || !scores.empty()) {
          for (const auto& [k, v] : scores) row[k] = v;
          row["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
        }
        encoder.train(true);
      }
      TagRow tags;
      if (!batch->source.empty()) tags["dataset"] = batch->source;
      context.log_metrics(step, row, tags);
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

}  // namespace sentbench
