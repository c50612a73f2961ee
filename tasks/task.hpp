// Task: one evaluation ([[eval]] table) = data + metadata; the scoring lives in one class per task type,
// each in its own file under tasks/types/ that registers itself. A task never knows which encoder it scores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/plugin.hpp"
#include "results.hpp"

namespace sentbench {

class EmbeddingCache;

// What a task needs besides the encoder: encode settings, the cache, where per-item files go.
struct TaskContext {
  EncodeOptions encode;
  EmbeddingCache* cache = nullptr;       // nullptr: always encode
  std::string model_key;                 // content hash of the encoder (part of cache keys)
  std::filesystem::path details_dir;     // empty: no per-item files
  std::string label = "model";           // who is scored: "model", "random-init", "bm25", ...
  std::uint64_t seed = 42;
};

// Scores of one scorer on one task, and everything one [[eval]] produced: the results model
// (results/results.hpp), shared with reports.
using Scores = ScorerResult;

// One evaluation task type's scoring.
class Task {
 public:
  virtual ~Task();
  // The [[eval]] name (defaults to the type).
  virtual std::string name() const = 0;
  virtual std::string type() const = 0;
  virtual std::string version() const = 0;
  virtual std::string main_metric() const = 0;
  virtual std::string dataset() const = 0;
  virtual std::string dataset_hash() const = 0;
  virtual std::int64_t items() const = 0;
  // Scores an encoder (the model or the random-init baseline).
  virtual Scores evaluate(Encoder& encoder, TaskContext& context) = 0;
  // Cuts the task to at most `max_items` items (0: keeps it whole) for the quick scores taken during
  // training, the same items on every call: retrieval keeps its first max_items judged queries (file
  // order) and the whole corpus; STS its first max_items pairs (file order); clustering one subset, its
  // first seeded subset cut to at most max_items texts by the same seed (and encodes only those).
  // items() counts what is left.
  virtual void limit_items(std::int64_t max_items) = 0;
  // The lexical baseline of this task type (BM25 or TF-IDF): the name it is reported under ("" when the
  // type has none; then evaluate_lexical is never called), its settings, and its scores.
  virtual std::string lexical_name() const { return ""; }
  virtual std::string lexical_settings() const { return ""; }
  virtual Scores evaluate_lexical(TaskContext& context);
};

// Builds a task from its [[eval]] table (data is read here, so a bad file fails before any encoding).
using TaskFactory = std::function<std::unique_ptr<Task>(const Config& table)>;

// Everything the registry knows of a task type.
struct TaskTypeSpec {
  TaskTypeInfo info;             // results metadata: type, main metric, metric list, per-item statistic
  std::vector<KeySpec> keys;     // its [[eval]] keys with help (checked by `sentbench validate`)
  TaskFactory factory;
  // The metrics besides the main one that evaluation during training logs (train-log keys
  // "eval/<task>/<metric>"); none when unset.
  std::function<std::vector<std::string>(const Scores&)> training_metrics;
};

// Registers a task type (replacing one of the same name). Types register themselves when the program
// starts, from their own file, with SENTBENCH_TASK_TYPE; nothing else names them.
void register_task_type(TaskTypeSpec spec);
// The registered type of that name, or nullptr.
const TaskTypeSpec* find_task_type(const std::string& type);
// The registered type names, sorted.
std::vector<std::string> task_types();
// A task from an [[eval]] table; ConfigError naming the type (and the known ones) when it is unknown.
std::unique_ptr<Task> make_task(const Config& table);

// At namespace scope in a task type's own .cpp: `SENTBENCH_TASK_TYPE(retrieval, make_retrieval_spec)`
// registers the TaskTypeSpec that `make_spec()` returns when the program starts. (The tasks library is
// linked whole, so a file under tasks/types/ needs no other mention to take part.)
#define SENTBENCH_TASK_TYPE(id, make_spec) \
  [[maybe_unused]] static const bool sentbench_task_type_##id = (::sentbench::register_task_type(make_spec()), true)

// Embeddings through the cache when one is given: key = model key + hash of the texts + label.
struct Encoded {
  at::Tensor embeddings;
  double seconds = 0;
  bool cache_hit = false;
};
Encoded encode_texts(Encoder& encoder, const std::vector<std::string>& texts, TaskContext& context,
                     const std::string& what);

}  // namespace sentbench
