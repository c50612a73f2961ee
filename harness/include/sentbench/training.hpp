// Training services every recipe plugin builds on: the optimizer and its schedule, gradient clipping,
// bf16 autocast, atomic checkpoints with exact resume (weights, optimizer, generator, data position),
// the distributed step (bucketed gradient all-reduce, stop consensus, rank 0 writes), step logs,
// evaluation every N steps and SIGINT/SIGTERM stops. A recipe supplies only its data and its loss, as a
// TrainingObjective, and calls run_training():
//
//   class MyObjective : public sentbench::TrainingObjective {
//     std::unique_ptr<PreparedBatch> next_batch() override;          // data (on the loader thread)
//     std::string data_state() const override;                       // where the data stands (JSON)
//     void restore_data(const std::string& state) override;          // and back
//     double forward_backward(PreparedBatch& b, MetricRow&) override; // loss.backward(); return loss
//   };
//   void MyRecipe::train(Encoder& e, TrainContext& c) { MyObjective o(...); run_training(e, c, settings_, o); }
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/export.hpp"
#include "sentbench/plugin.hpp"
#include "sentbench/recipe.hpp"

namespace sentbench {

// The [train] (or [[stage]]) keys the services read. A recipe declares them beside its own:
// its KeySpec array lists `SENTBENCH_TRAINING_KEYS` (below) and then its own keys.
struct TrainingSettings {
  std::int64_t steps = 1000;
  double lr = 2e-5;
  std::int64_t warmup_steps = 500;
  std::string schedule = "linear";  // linear (warm-up, then linear decay to 0) | cosine | constant
  double weight_decay = 0.01;       // on matrices only (dim >= 2); biases and norms get none
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
  double max_grad_norm = 1.0;       // 0: no clipping (the norm is still logged)
  bool bf16 = false;                // bf16 autocast for forward and backward
  std::int64_t checkpoint_every = 0;  // 0: only at the end (and on a stop)
  std::int64_t keep_checkpoints = 2;
  std::int64_t eval_every = 0;      // score the recipe's [[eval]] tasks every N steps (0: off)
};

// Reads and checks the service keys of a [train] / [[stage]] table (ConfigError naming file:line).
SENTBENCH_API TrainingSettings read_training_settings(const Config& train);

// Learning rate at a step (1-based) under the settings' schedule.
SENTBENCH_API double learning_rate(const TrainingSettings& s, std::int64_t step);

// The service keys, for a recipe's KeySpec array: `const KeySpec kKeys[] = {SENTBENCH_TRAINING_KEYS, {...own...}};`
#define SENTBENCH_TRAINING_KEYS                                                                                      \
  {"steps", ::sentbench::ValueType::kInteger, true, "optimisation steps"},                                          \
      {"lr", ::sentbench::ValueType::kFloat, false, "peak learning rate (default 2e-5)"},                           \
      {"warmup_steps", ::sentbench::ValueType::kInteger, false, "linear warm-up steps (default 500)"},              \
      {"schedule", ::sentbench::ValueType::kString, false,                                                          \
       "after warm-up: linear (decay to 0, default) | cosine | constant"},                                          \
      {"weight_decay", ::sentbench::ValueType::kFloat, false,                                                       \
       "AdamW weight decay on matrices (default 0.01; none on biases/norms)"},                                      \
      {"betas", ::sentbench::ValueType::kArray, false, "AdamW betas (default [0.9, 0.999])"},                       \
      {"eps", ::sentbench::ValueType::kFloat, false, "AdamW epsilon (default 1e-6)"},                               \
      {"max_grad_norm", ::sentbench::ValueType::kFloat, false, "gradient clipping (default 1.0; 0 disables)"},     \
      {"bf16", ::sentbench::ValueType::kBoolean, false, "bf16 autocast for forward and backward (default false)"},  \
      {"checkpoint_every", ::sentbench::ValueType::kInteger, false,                                                 \
       "steps between checkpoints (default 0: only at the end)"},                                                   \
      {"keep_checkpoints", ::sentbench::ValueType::kInteger, false, "newest checkpoints kept (default 2)"},          \
      {"eval_every", ::sentbench::ValueType::kInteger, false,                                                       \
       "score the [[eval]] tasks every N steps into the train log (default 0: off)"},                               \
      {"eval_tasks", ::sentbench::ValueType::kArray, false,                                                         \
       "names of the [[eval]] tasks scored during training (default: all)"},                                        \
      {"eval_max_items", ::sentbench::ValueType::kInteger, false,                                                   \
       "during training, each task is cut to this many queries / pairs / texts (default 1000; 0: whole task)"}

// One step's batch, prepared ahead of the model on the loader thread. Recipes derive their own type and
// static_cast back in forward_backward.
struct SENTBENCH_API PreparedBatch {
  virtual ~PreparedBatch();
  std::size_t examples = 0;  // examples in the global batch (for examples_per_s)
  std::size_t tokens = 0;    // tokens on this rank (summed over ranks for tokens_per_s)
  std::string source;        // the data set it came from (the train log's "dataset" tag; "" for none)
  std::string data_state;    // data position after drawing it (data_state() then); stored with this step
};

// A recipe's own part of training: its data and its loss.
class SENTBENCH_API TrainingObjective {
 public:
  virtual ~TrainingObjective();
  // Parameters trained beside the encoder's (an LM head, a projection); optimised, clipped, all-reduced
  // and checkpointed after the encoder's, in this order.
  virtual std::vector<at::Tensor> extra_parameters() { return {}; }
  // The next batch; called in order on one loader thread, `prefetch` batches ahead of the model (the
  // objective must not touch the model here). Throw DataError for bad data.
  virtual std::unique_ptr<PreparedBatch> next_batch() = 0;
  // The data position (JSON text) before any prefetched batch was drawn; restore_data(data_state())
  // must make next_batch() repeat the same batches. Called on the training thread before prefetching starts.
  virtual std::string data_state() const = 0;
  virtual void restore_data(const std::string& state) = 0;
  // Forward and backward of one step (gradients accumulate into .grad(); they start empty). Runs
  // under bf16 autocast when enabled. Returns this rank's loss; may add metrics (accuracy, ...) to `metrics`.
  virtual double forward_backward(PreparedBatch& batch, MetricRow& metrics) = 0;
  // The objective's own scores of the model as it is now (held-out accuracy, ...): called on rank 0 in
  // eval mode without grad, at every eval_every step and always at the last step; the metrics join that
  // step's log row beside context.evaluate's. Default: none.
  virtual MetricRow evaluate(std::int64_t /*step*/) { return {}; }
  // The model folder of a checkpoint and of the run (default: encoder.save(dir)).
  virtual void save_model(Encoder& encoder, const std::filesystem::path& dir) { encoder.save(dir); }
  // The unit of examples in the log: "<unit>_per_s" (e.g. "pairs" for pairs_per_s).
  virtual std::string examples_unit() const { return "examples"; }
};

struct TrainingOptions {
  std::int64_t prefetch = 2;  // batches prepared ahead on the loader thread
};

// Trains `encoder` with `objective` under `settings`: resumes from the newest checkpoint of this run
// when context.resume, logs every step through context.log_metrics, scores context.evaluate every
// settings.eval_every steps, checkpoints (rank 0) every settings.checkpoint_every steps, at the end and
// when a stop is requested (then throws Interrupted-like Error after the checkpoint), and on a data error
// checkpoints the last finished step before rethrowing. Distributed: every rank calls it; gradients are
// averaged, the loss and token counts summed, a stop on any rank stops all.
SENTBENCH_API void run_training(Encoder& encoder, TrainContext& context, const TrainingSettings& settings,
                                TrainingObjective& objective, const TrainingOptions& options = {});

// The parameters of an encoder (and extras) as a safetensors file of "p.<i>" tensors, and back (shapes
// checked). Staged recipes hand one stage's weights to the next with these.
SENTBENCH_API void save_parameters(const std::filesystem::path& file, const std::vector<at::Tensor>& params);
SENTBENCH_API void load_parameters(const std::filesystem::path& file, const std::vector<at::Tensor>& params);

}  // namespace sentbench
