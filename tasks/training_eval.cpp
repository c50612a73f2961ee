// See training_eval.hpp.
#include "training_eval.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

std::string eval_name(const Config& table) { return table.get_string("name", table.get_string("type")); }

// Eval mode without grad for the call, train mode after (also when a task throws).
class EvalModeScope {
 public:
  explicit EvalModeScope(Encoder& encoder) : encoder_(encoder) { encoder_.train(false); }
  ~EvalModeScope() { encoder_.train(true); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  Encoder& encoder_;
  torch::NoGradGuard no_grad_;
};

// The default CPU generator's state, put back when the scope ends: scoring must not move the stream
// training draws dropout and shuffles from.
class KeepCpuGenerator {
 public:
  KeepCpuGenerator() : generator_(at::detail::getDefaultCPUGenerator()) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    state_ = generator_.get_state();
  }
  ~KeepCpuGenerator() {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(state_);
  }
  KeepCpuGenerator(const KeepCpuGenerator&) = delete;
  KeepCpuGenerator& operator=(const KeepCpuGenerator&) = delete;

 private:
  at::Generator generator_;
  at::Tensor state_;
};

}  // namespace

TrainingEvaluator::TrainingEvaluator(const Config& recipe, const Config& train, std::uint64_t seed)
    : recipe_(recipe), seed_(seed) {
  max_items_ = train.get_int("eval_max_items", kDefaultEvalMaxItems);
  if (max_items_ < 0) train.fail("eval_max_items", "must be 0 (the whole task) or a positive number of items");
  if (!train.contains("eval_tasks")) return;
  chosen_ = true;
  std::vector<std::string> known;
  for (const Config& table : recipe.tables("eval")) known.push_back(eval_name(table));
  const std::vector<std::string> wanted = train.get_strings("eval_tasks");
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (std::find(known.begin(), known.end(), wanted[i]) != known.end()) {
      names_.push_back(wanted[i]);
      continue;
    }
    const std::string suggestion = closest_match(wanted[i], known);
    train.fail(fmt::format("eval_tasks[{}]", i),
               fmt::format("no [[eval]] task is named '{}'{}", wanted[i],
                           !suggestion.empty() ? fmt::format("; did you mean '{}'?", suggestion)
                           : known.empty()     ? std::string("; the recipe has no [[eval]] tasks")
                                               : fmt::format(" (the recipe's tasks: {})", fmt::join(known, ", "))));
  }
}

TrainingEvaluator::~TrainingEvaluator() = default;

void TrainingEvaluator::load() {
  if (loaded_) return;
  for (const Config& table : recipe_.tables("eval")) {
    const std::string name = eval_name(table);
    if (chosen_ && std::find(names_.begin(), names_.end(), name) == names_.end()) continue;
    if (table.get_bool("optional", false) && table.contains("path") && !fs::exists(table.get_path("path"))) {
      log::debug("evaluation during training leaves out the optional task {}: {} does not exist", name,
                 table.get_path("path").string());
      continue;
    }
    std::unique_ptr<Task> task = make_task(table);
    task->limit_items(max_items_);
    tasks_.push_back(std::move(task));
  }
  loaded_ = true;
}

std::vector<TrainingEvaluator::TaskInfo> TrainingEvaluator::tasks() const {
  std::vector<TaskInfo> out;
  for (const auto& t : tasks_) out.push_back({t->name(), t->type(), t->main_metric(), t->items()});
  return out;
}

MetricRow TrainingEvaluator::operator()(Encoder& encoder, std::int64_t step) {
  load();
  MetricRow row;
  if (tasks_.empty()) return row;
  KeepCpuGenerator keep_generator;
  EvalModeScope eval_mode(encoder);
  TaskContext context;
  context.encode.show_progress = false;  // the training's progress bar owns the terminal
  context.encode.label = "eval";
  context.cache = nullptr;  // the weights changed since the last call: a cached vector would be stale
  context.label = "model";
  context.seed = seed_;
  for (const auto& task : tasks_) {
    const auto start = std::chrono::steady_clock::now();
    try {
      const Scores s = task->evaluate(encoder, context);
      const std::string prefix = "eval/" + task->name() + "/";
      row[prefix + task->main_metric()] = s.main_score;
      const TaskTypeSpec* spec = find_task_type(task->type());
      for (const std::string& metric : spec && spec->training_metrics ? spec->training_metrics(s) : std::vector<std::string>{}) {
        if (auto it = s.metrics.find(metric); it != s.metrics.end()) row[prefix + metric] = it->second;
      }
      log::debug("step {}: {} {} {:.4f} ({:.1f}s)", step, task->name(), task->main_metric(), s.main_score,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } catch (const std::exception& e) {
      // A 540k-step run should not die of its progress report; the suite at the end runs the task again.
      log::warn("step {}: evaluation of {} failed, left out of the train log: {}", step, task->name(), e.what());
    }
  }
  return row;
}

}  // namespace sentbench
