// ContrastiveRecipe: the 1B-pairs objective — in-batch negatives with MNRL, weighted data mixing and
// GradCache, on the SDK's training services (AdamW and its schedule, checkpoints, exact resume, ranks).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sentbench/recipe.hpp"
#include "sentbench/training.hpp"

namespace sentbench::contrastive {

extern const KeySpec kTrainKeys[];
extern const std::size_t kTrainKeyCount;

// The settings of [train], read and checked once: the services' (steps, lr, schedule, AdamW, clipping,
// bf16, checkpoints, evaluation) and the contrastive objective's own.
struct TrainSettings {
  TrainingSettings train;
  std::filesystem::path data_config;  // data_config JSON (with data_dir), or
  std::filesystem::path data;         // one pairs file
  std::filesystem::path data_dir;
  std::int64_t batch_size = 64;
  double scale = 20.0;
  bool symmetric = true;
  std::int64_t mini_batch = 0;        // GradCache chunk (0: off)
  std::int64_t shuffle_buffer = 4096;
  bool unique_in_batch = true;        // never two examples sharing a text in one batch
  std::int64_t prefetch = 2;          // tokenized batches prepared ahead on a worker thread
};

TrainSettings read_settings(const Config& config);

// Trains an encoder with the contrastive objective: the loss and the batches; everything else is the
// SDK's training services (sentbench/training.hpp).
class ContrastiveRecipe : public Recipe {
 public:
  explicit ContrastiveRecipe(const Config& config);
  void train(Encoder& encoder, TrainContext& context) override;

 private:
  void dry_run(Encoder& encoder, TrainContext& context);
  TrainSettings settings_;
};

}  // namespace sentbench::contrastive
