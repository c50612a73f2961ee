// ContrastiveRecipe: the 1B-pairs objective — in-batch negatives with MNRL, weighted data mixing,
// AdamW with linear warm-up/decay, GradCache, atomic checkpoints and exact resume.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sentbench/recipe.hpp"

namespace sentbench::contrastive {

extern const KeySpec kTrainKeys[];
extern const std::size_t kTrainKeyCount;

// The settings of [train], read and checked once.
struct TrainSettings {
  std::filesystem::path data_config;  // data_config JSON (with data_dir), or
  std::filesystem::path data;         // one pairs file
  std::filesystem::path data_dir;
  std::int64_t steps = 1000;
  std::int64_t batch_size = 64;
  double lr = 2e-5;
  std::int64_t warmup_steps = 500;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
  double max_grad_norm = 1.0;
  double scale = 20.0;
  bool symmetric = true;
  std::int64_t mini_batch = 0;        // GradCache chunk (0: off)
  bool bf16 = false;
  std::int64_t checkpoint_every = 0;  // 0: only at the end
  std::int64_t keep_checkpoints = 2;
  std::int64_t shuffle_buffer = 4096;
  std::int64_t prefetch = 2;          // tokenized batches prepared ahead on a worker thread
};

TrainSettings read_settings(const Config& config);

// Learning rate at a step (1-based): linear warm-up to lr, then linear decay to 0 at the last step.
double learning_rate(const TrainSettings& s, std::int64_t step);

// Trains an encoder with the contrastive objective.
class ContrastiveRecipe : public Recipe {
 public:
  explicit ContrastiveRecipe(const Config& config);
  void train(Encoder& encoder, TrainContext& context) override;

 private:
  void dry_run(Encoder& encoder, TrainContext& context);
  TrainSettings settings_;
};

}  // namespace sentbench::contrastive
