// Task: one evaluation ([[eval]] table) = data + metadata; the scoring lives in one class per task type
// (retrieval, clustering, sts). A task never knows which encoder it scores.
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

// Scores of one scorer on one task, with timings.
struct Scores {
  double main_score = 0;
  std::map<std::string, double> metrics;
  double encode_seconds = 0;    // time spent embedding (0 on a cache hit or for lexical baselines)
  std::int64_t encoded_items = 0;
  bool cache_hit = false;
  double wall_seconds = 0;
  // Per-item values behind the main score (per query, per pair, per subset) for paired bootstraps.
  std::vector<std::string> item_ids;
  std::vector<double> item_scores;
  std::vector<double> item_reference;  // gold values when the main score correlates items with them (STS)
};

// Everything one [[eval]] produced: the model, its baselines, and the task's identity.
struct TaskResult {
  std::string name;
  std::string type;
  std::string version;        // bumps when the scoring of the task type changes
  std::string dataset;        // path
  std::string dataset_hash;
  std::string main_metric;    // e.g. "ndcg@10", "spearman", "v_measure"
  std::int64_t items = 0;     // queries, pairs, or texts
  Scores model;
  std::map<std::string, Scores> baselines;  // "bm25", "tfidf", "random-init"
  std::map<std::string, std::string> notes; // baseline settings ("bm25" -> "k1=0.9 b=0.4"), skip reasons
};

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
  // The lexical baseline of this task type (BM25 or TF-IDF); the name it is reported under.
  virtual std::string lexical_name() const = 0;
  virtual std::string lexical_settings() const = 0;
  virtual Scores evaluate_lexical(TaskContext& context) = 0;
};

// Builds a task from its [[eval]] table (data is read here, so a bad file fails before any encoding).
using TaskFactory = std::function<std::unique_ptr<Task>(const Config& table)>;

// Registers a task type: its [[eval]] keys (for `sentbench validate`) and its factory.
void register_task_type(const std::string& type, std::vector<KeySpec> keys, TaskFactory factory);
// The built-in types (retrieval, clustering, sts); idempotent.
void register_builtin_tasks();
// A task from an [[eval]] table; ConfigError naming the type when it is unknown.
std::unique_ptr<Task> make_task(const Config& table);

// Embeddings through the cache when one is given: key = model key + hash of the texts + label.
struct Encoded {
  at::Tensor embeddings;
  double seconds = 0;
  bool cache_hit = false;
};
Encoded encode_texts(Encoder& encoder, const std::vector<std::string>& texts, TaskContext& context,
                     const std::string& what);

}  // namespace sentbench
