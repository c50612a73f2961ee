// Training checkpoints: written atomically (temp folder + rename) with a manifest of content hashes,
// verified on load; the last K are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <functional>

#include <torch/torch.h>

namespace sentbench {

// What a checkpoint restores besides the weights: the step and the recipe's own JSON state (data
// positions, world size, ...).
struct CheckpointMeta {
  std::int64_t step = 0;
  std::string state_json;
  std::string run_id;  // the run that wrote it (TrainContext::run_id); "" = not recorded
};

// Writes <root>/step-NNNNNNNN: params.safetensors (the trained parameters in order: the encoder's, then a
// recipe's extras), optimizer.safetensors (AdamW moments and steps), rng.safetensors (CPU generator),
// state.json, model/ (written by save_model: the model folder, for users) and manifest.json; then deletes
// all but the newest `keep` checkpoints of the same run (meta.run_id): another run's are never touched.
std::filesystem::path save_checkpoint(const std::filesystem::path& root, const std::vector<at::Tensor>& params,
                                      torch::optim::AdamW& optimizer, const CheckpointMeta& meta, int keep,
                                      const std::function<void(const std::filesystem::path&)>& save_model);

// The newest checkpoint under root whose manifest verifies and that belongs to run_id (or records no run,
// written before run ids existed; any run when run_id is ""); others are skipped with a warning. nullopt
// when there is none.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& root, const std::string& run_id = "");

// The run id a checkpoint's state.json records ("" when none or unreadable).
std::string checkpoint_run_id(const std::filesystem::path& dir);

// Restores parameters, optimizer state and generator state; returns the meta.
CheckpointMeta load_checkpoint(const std::filesystem::path& dir, const std::vector<at::Tensor>& params,
                               torch::optim::AdamW& optimizer);

}  // namespace sentbench
