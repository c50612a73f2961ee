// Retrieval on a BEIR folder: embed queries and corpus, exact blockwise top-k, trec_eval metrics.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include <fmt/format.h>
#include <torch/torch.h>

#include "beir.hpp"
#include "lexical.hpp"
#include "search.hpp"
#include "sentbench/io.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

const std::vector<KeySpec> kRetrievalKeys = {
    {"path", ValueType::kPath, true, "BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv"},
    {"split", ValueType::kString, false, "qrels split (default \"test\")"},
    {"k", ValueType::kArray, false, "metric cut-offs (default [1, 3, 5, 10, 100]); 10 is always added"},
    {"similarity", ValueType::kString, false, "cosine | dot (default cosine)"},
    {"ignore_identical_ids", ValueType::kBoolean, false, "drop a document whose id equals the query id"},
    {"bm25_k1", ValueType::kFloat, false, "BM25 baseline k1 (default 0.9)"},
    {"bm25_b", ValueType::kFloat, false, "BM25 baseline b (default 0.4)"},
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Scores a BEIR folder's queries: one class for the retrieval task type.
class RetrievalTask : public Task {
 public:
  explicit RetrievalTask(const Config& t)
      : name_(t.get_string("name", "retrieval")), path_(t.get_path("path")), split_(t.get_string("split", "test")),
        cosine_(t.get_string("similarity", "cosine") == "cosine"),
        ignore_identical_(t.get_bool("ignore_identical_ids", false)),
        k1_(t.get_double("bm25_k1", 0.9)), b_(t.get_double("bm25_b", 0.4)) {
    const std::string sim = t.get_string("similarity", "cosine");
    if (sim != "cosine" && sim != "dot") t.fail("similarity", "expected \"cosine\" or \"dot\"");
    for (auto k : t.contains("k") ? t.get_ints("k") : std::vector<std::int64_t>{1, 3, 5, 10, 100}) {
      if (k <= 0) t.fail("k", "cut-offs must be positive");
      cutoffs_.push_back(static_cast<int>(k));
    }
    if (std::find(cutoffs_.begin(), cutoffs_.end(), 10) == cutoffs_.end()) cutoffs_.push_back(10);
    std::sort(cutoffs_.begin(), cutoffs_.end());
    data_ = load_beir(path_, split_);
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "retrieval"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "ndcg@10"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return data_.hash; }
  std::int64_t items() const override { return static_cast<std::int64_t>(data_.query_ids.size()); }
  std::string lexical_name() const override { return "bm25"; }
  std::string lexical_settings() const override { return fmt::format("BM25 k1={} b={}", k1_, b_); }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded q = encode_texts(encoder, data_.query_texts, context, name_ + " queries");
    const Encoded d = encode_texts(encoder, data_.doc_texts, context, name_ + " corpus");
    SearchOptions options;
    options.k = depth();
    options.cosine = cosine_;
    const SearchResult top = exact_search(q.embeddings, d.embeddings, options);
    std::map<std::string, std::vector<metrics::Scored>> runs;
    const auto scores = top.scores.accessor<float, 2>();
    const auto indices = top.indices.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < top.scores.size(0); ++i) {
      auto& run = runs[data_.query_ids[static_cast<std::size_t>(i)]];
      for (std::int64_t j = 0; j < top.scores.size(1); ++j) {
        run.push_back({data_.doc_ids[static_cast<std::size_t>(indices[i][j])], scores[i][j]});
      }
    }
    Scores s = finish(runs, context);
    s.encode_seconds = q.seconds + d.seconds;
    s.encoded_items = static_cast<std::int64_t>(data_.query_texts.size() + data_.doc_texts.size());
    s.cache_hit = q.cache_hit && d.cache_hit;
    s.wall_seconds = seconds_since(start);
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0 || items() <= max_items) return;
    const auto n = static_cast<std::size_t>(max_items);
    data_.query_ids.resize(n);
    data_.query_texts.resize(n);
    // Judgements of the dropped queries would count as unanswered queries.
    const std::set<std::string> kept(data_.query_ids.begin(), data_.query_ids.end());
    for (auto it = data_.qrels.begin(); it != data_.qrels.end();) {
      it = kept.count(it->first) ? std::next(it) : data_.qrels.erase(it);
    }
  }

  Scores evaluate_lexical(TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Bm25 bm25(data_.doc_ids, data_.doc_texts, k1_, b_);
    std::map<std::string, std::vector<metrics::Scored>> runs;
    for (std::size_t i = 0; i < data_.query_ids.size(); ++i) runs[data_.query_ids[i]] = bm25.search(data_.query_texts[i], depth());
    Scores s = finish(runs, context);
    s.wall_seconds = seconds_since(start);
    return s;
  }

 private:
  std::int64_t depth() const { return cutoffs_.back() + (ignore_identical_ ? 1 : 0); }

  // trec_eval order, identical ids dropped, metrics, and the run file when details are asked for.
  Scores finish(std::map<std::string, std::vector<metrics::Scored>>& runs, const TaskContext& context) const {
    for (auto& [qid, run] : runs) {
      if (ignore_identical_) {
        run.erase(std::remove_if(run.begin(), run.end(), [&](const metrics::Scored& s) { return s.doc_id == qid; }),
                  run.end());
      }
      metrics::trec_sort(run);
      if (static_cast<std::int64_t>(run.size()) > cutoffs_.back()) run.resize(static_cast<std::size_t>(cutoffs_.back()));
    }
    const metrics::RetrievalScores r = metrics::score_retrieval(runs, data_.qrels, cutoffs_);
    Scores s;
    s.metrics = r.mean;
    s.metrics["queries_skipped"] = static_cast<double>(r.queries_skipped);
    s.main_score = r.mean.at("ndcg@10");
    s.per_item.ids = r.query_ids;
    s.per_item.scores = r.per_query.at("ndcg@10");
    if (!context.details_dir.empty()) {
      std::string text;
      for (const auto& [qid, run] : runs) {
        for (std::size_t rank = 0; rank < run.size(); ++rank) {
          text += fmt::format("{} Q0 {} {} {:.6f} sentbench-{}\n", qid, run[rank].doc_id, rank + 1, run[rank].score,
                              context.label);
        }
      }
      write_file_atomic(context.details_dir / fmt::format("{}.{}.run", name_, context.label), text);
    }
    return s;
  }

  std::string name_;
  fs::path path_;
  std::string split_;
  bool cosine_;
  bool ignore_identical_;
  double k1_, b_;
  std::vector<int> cutoffs_;
  BeirDataset data_;
};

}  // namespace

TaskTypeSpec retrieval_spec() {
  TaskTypeSpec spec;
  spec.info.type = "retrieval";
  spec.info.main_metric = "ndcg@10";
  spec.info.metrics = {MetricInfo::main("ndcg@10"), MetricInfo::count("queries_skipped")};
  spec.info.item_noun = "queries";
  spec.info.item_noun_one = "query";
  spec.keys = kRetrievalKeys;
  spec.factory = [](const Config& t) { return std::make_unique<RetrievalTask>(t); };
  spec.training_metrics = [](const Scores& scores) {
    std::vector<std::string> out = {"mrr@10"};
    // The largest recall cut-off: how much of the relevant set the model finds at all.
    std::string recall;
    int largest = 0;
    for (const auto& [metric, value] : scores.metrics) {
      if (metric.rfind("recall@", 0) != 0) continue;
      const int k = std::atoi(metric.c_str() + 7);
      if (k > largest) largest = k, recall = metric;
    }
    if (!recall.empty() && recall != "recall@10") out.push_back(recall);
    return out;
  };
  return spec;
}
SENTBENCH_TASK_TYPE(retrieval, retrieval_spec);

}  // namespace sentbench
