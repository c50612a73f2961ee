// Training checkpoints: written atomically (temp folder + rename) with a manifest of content hashes,
// verified on load; the last K are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sentbench/encoder.hpp"

namespace sentbench::contrastive {

// What a checkpoint restores besides the weights: the step and the recipe's own JSON state (data
// positions, world size, ...).
struct CheckpointMeta {
  std::int64_t step = 0;
  std::string state_json;
};

// Writes <root>/step-NNNNNNNN: params.safetensors (encoder parameters in order), optimizer.safetensors
// (AdamW moments and steps), rng.safetensors (CPU generator), state.json, model/ (the encoder's own
// folder, for users) and manifest.json; then deletes all but the newest `keep` checkpoints.
std::filesystem::path save_checkpoint(const std::filesystem::path& root, Encoder& encoder,
                                      torch::optim::AdamW& optimizer, const CheckpointMeta& meta, int keep);

// The newest checkpoint under root whose manifest verifies; incomplete or corrupt ones are skipped with
// a warning. nullopt when there is none.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& root);

// Restores parameters, optimizer state and generator state; returns the meta.
CheckpointMeta load_checkpoint(const std::filesystem::path& dir, Encoder& encoder, torch::optim::AdamW& optimizer);

}  // namespace sentbench::contrastive
