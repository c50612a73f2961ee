// Recipe: the interface every training-recipe plugin implements — it owns the training loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sentbench/config.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/export.hpp"
#include "sentbench/plugin.hpp"
#include "sentbench/progress.hpp"

namespace sentbench {

// One training step's numbers, as a recipe reports them (loss, lr, grad_norm, pairs_per_s, ...).
using MetricRow = std::map<std::string, double>;
// Text fields of a step (the dataset a batch came from, ...).
using TagRow = std::map<std::string, std::string>;

// Everything the harness hands a recipe: its settings, where to write, and the services around it.
struct TrainContext {
  Config config;                      // the recipe's [train] section
  std::filesystem::path output_dir;   // the run folder; checkpoints go below it
  std::uint64_t seed = 0;
  bool resume = false;                // continue from the last complete checkpoint
  bool dry_run = false;               // report cost estimates (parameters, FLOPs, memory, time), do not train
  int rank = 0;                       // process group (world size 1 when not distributed)
  int world_size = 1;
  // Records one step's metrics (the harness writes them to the train log and the report).
  // True once the run should end early (Ctrl-C, SIGTERM from a scheduler): the recipe writes a
  // checkpoint at the current step and returns, so --resume continues from exactly there.
  std::function<bool()> stop_requested = [] { return false; };
  std::function<void(std::int64_t step, const MetricRow&, const TagRow&)> log_metrics =
      [](std::int64_t, const MetricRow&, const TagRow&) {};
  // Added in SDK 1.1 (appended, so 1.0 plugins still read the fields above at the same offsets):
  // The process group of a distributed run (a group of one otherwise); rank() and world_size() equal the
  // fields above. Only rank 0 writes checkpoints; every rank calls the same collectives in the same order.
  std::shared_ptr<ProcessGroup> group = single_process_group();
  // Resume even when the checkpoint was written at another world size (the user accepted that per-rank
  // shards and random streams change).
  bool allow_world_size_change = false;
  // Added in SDK 2.1: the id of the run that owns the run folder (run_identity.json; "" when the host
  // records none). A recipe stores it in each checkpoint, resumes only from checkpoints carrying it (or
  // none, written before ids existed) and prunes only its own.
  std::string run_id;
  // Added in SDK 2.2: scores the recipe's evaluation tasks (or the [train].eval_tasks subset, each cut to
  // eval_max_items) with the encoder as it is now, in eval mode without grad; returns metrics named
  // "eval/<task>/<metric>" that the loop adds to the step's log row. Empty when the recipe has no tasks.
  // Called on rank 0 only; the services call it every [train].eval_every steps.
  std::function<MetricRow(std::int64_t step)> evaluate;
};

// Trains an encoder in place.
class SENTBENCH_API Recipe : public PluginObject {
 public:
  ~Recipe() override;
  // Runs the whole training; returns when done (or throws).
  virtual void train(Encoder& encoder, TrainContext& context) = 0;
};

}  // namespace sentbench
