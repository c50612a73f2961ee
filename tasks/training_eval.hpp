// Evaluation during training: the recipe's [[eval]] tasks (or the training table's eval_tasks subset),
// each cut to eval_max_items (Task::limit_items), scored with the encoder as it is at a step. What the
// runner hands a recipe as TrainContext::evaluate. Cheap by design: no baselines, no per-item files,
// and no embedding cache (the weights change between calls, so a cached vector would be a stale one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/recipe.hpp"
#include "task.hpp"

namespace sentbench {

// Items per task during training when the table does not say (eval_max_items).
inline constexpr std::int64_t kDefaultEvalMaxItems = 1000;

class TrainingEvaluator {
 public:
  // `recipe` holds the [[eval]] tables; `train` is the [train] or [[stage]] table with eval_tasks and
  // eval_max_items. Reads the settings (ConfigError naming file:line for a name in eval_tasks that is no
  // [[eval]] task, or a negative eval_max_items); the data is read by load() or the first call.
  TrainingEvaluator(const Config& recipe, const Config& train, std::uint64_t seed = 42);
  ~TrainingEvaluator();
  TrainingEvaluator(const TrainingEvaluator&) = delete;
  TrainingEvaluator& operator=(const TrainingEvaluator&) = delete;

  // Reads every chosen task's data and cuts it (idempotent). Optional tasks whose data is absent are
  // left out without a word: the suite at the end reports them.
  void load();

  // The tasks that will be scored (after load()): name, type, main metric and items after the cut.
  struct TaskInfo {
    std::string name;
    std::string type;
    std::string main_metric;
    std::int64_t items = 0;
  };
  std::vector<TaskInfo> tasks() const;
  std::int64_t max_items() const { return max_items_; }

  // Scores every task with `encoder` as it is: "eval/<task>/<main metric>" and a few cheap others
  // (retrieval mrr@10 and recall at the largest cut-off, STS pearson). Runs without grad and in eval mode
  // (train mode is switched back on after), and leaves the default CPU generator's state as it found
  // it, so the training's random stream does not depend on when it evaluates. A task that fails is
  // logged as a warning naming the step and left out of the row; training goes on.
  MetricRow operator()(Encoder& encoder, std::int64_t step);

 private:
  Config recipe_;
  bool chosen_ = false;             // eval_tasks given: only names_ (none when it is empty); else all
  std::vector<std::string> names_;
  std::int64_t max_items_ = kDefaultEvalMaxItems;
  std::uint64_t seed_ = 42;
  bool loaded_ = false;
  std::vector<std::unique_ptr<Task>> tasks_;
};

}  // namespace sentbench
