// Reranking (MTEB's Reranking): each query comes with positive and negative candidates; candidates are
// ranked by cosine with the query, and the main score is MAP (mean over queries of the average
// precision of that ranking), with MRR@10 beside it, as MTEB 1.39.7's RerankingEvaluator
// (tasks/mteb_scoring.hpp). The lexical baseline ranks by TF-IDF cosine (fitted on all texts of the set).
#include <chrono>
#include <unordered_map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "embedding_matrix.hpp"
#include "lexical.hpp"
#include "mteb_sets.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

const std::vector<KeySpec> kRerankingKeys = {
    {"path", ValueType::kPath, true, "JSONL {query, positive: [..], negative: [..]} a line"},
};

class RerankingTask : public Task {
 public:
  explicit RerankingTask(const Config& t)
      : name_(t.get_string("name", "reranking")), path_(t.get_path("path")), data_(load_reranking(path_)) {
    index_texts();
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "reranking"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "map"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return data_.hash; }
  std::int64_t items() const override { return static_cast<std::int64_t>(data_.samples.size()); }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded e = encode_texts(encoder, texts_, context, name_ + " texts");
    const mteb_scoring::Matrix all = to_matrix(e.embeddings);
    auto row = [&](std::int64_t i) {
      return std::vector<float>(all.data.begin() + i * all.cols, all.data.begin() + (i + 1) * all.cols);
    };
    std::vector<mteb_scoring::ScoredCandidates> queries;
    for (const Rows& r : rows_) {
      mteb_scoring::Matrix candidates;
      candidates.cols = all.cols;
      for (const std::int64_t c : r.candidates) {
        const std::vector<float> v = row(c);
        candidates.data.insert(candidates.data.end(), v.begin(), v.end());
        ++candidates.rows;
      }
      queries.push_back({mteb_scoring::cosine_scores(row(r.query), candidates), r.relevant});
    }
    Scores s = finish(mteb_scoring::score_reranking_scored(queries));
    s.encode_seconds = e.seconds;
    s.encoded_items = e.cache_hit ? 0 : static_cast<std::int64_t>(texts_.size());
    s.cache_hit = e.cache_hit;
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0 || items() <= max_items) return;
    data_.samples.resize(static_cast<std::size_t>(max_items));
    index_texts();
  }

  std::string lexical_name() const override { return "tfidf"; }
  std::string lexical_settings() const override { return "TF-IDF (sublinear tf, smooth idf) cosine, fitted on the set's texts"; }
  Scores evaluate_lexical(TaskContext&) override {
    const auto start = std::chrono::steady_clock::now();
    const TfIdf tfidf(texts_);
    std::vector<mteb_scoring::ScoredCandidates> queries;
    for (const Rows& r : rows_) {
      mteb_scoring::ScoredCandidates q;
      for (const std::int64_t c : r.candidates) q.scores.push_back(tfidf.cosine(texts_[r.query], texts_[c]));
      q.relevant = r.relevant;
      queries.push_back(std::move(q));
    }
    Scores s = finish(mteb_scoring::score_reranking_scored(queries));
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  // One query's rows in the text list: the query, then its candidates (positives first, as MTEB).
  struct Rows {
    std::int64_t query = 0;
    std::vector<std::int64_t> candidates;
    std::vector<int> relevant;
  };

  // Each distinct text is embedded once.
  void index_texts() {
    texts_.clear();
    rows_.clear();
    std::unordered_map<std::string, std::int64_t> index;
    auto add = [&](const std::string& t) {
      auto [it, added] = index.emplace(t, static_cast<std::int64_t>(texts_.size()));
      if (added) texts_.push_back(t);
      return it->second;
    };
    for (const RerankingSample& sample : data_.samples) {
      Rows r;
      r.query = add(sample.query);
      for (const auto& p : sample.positive) r.candidates.push_back(add(p)), r.relevant.push_back(1);
      for (const auto& n : sample.negative) r.candidates.push_back(add(n)), r.relevant.push_back(0);
      rows_.push_back(std::move(r));
    }
  }

  static Scores finish(const mteb_scoring::RerankingResult& r) {
    Scores s;
    for (const auto& [k, v] : r.scores) {
      if (k != "main_score") s.metrics[k] = v;
    }
    s.main_score = r.map;
    for (std::size_t i = 0; i < r.query_indices.size(); ++i) {
      s.per_item.ids.push_back(fmt::format("query-{}", r.query_indices[i]));
      s.per_item.scores.push_back(r.ap_per_query[i]);
    }
    return s;
  }

  std::string name_;
  fs::path path_;
  RerankingDataset data_;
  std::vector<std::string> texts_;
  std::vector<Rows> rows_;
};

TaskTypeSpec reranking_spec() {
  TaskTypeSpec spec;
  spec.info.type = "reranking";
  spec.info.main_metric = "map";
  spec.info.metrics = {MetricInfo::main("map"), MetricInfo::score("mrr"), MetricInfo::score("recall_at_10")};
  spec.info.item_noun = "queries";
  spec.info.item_noun_one = "query";
  spec.keys = kRerankingKeys;
  spec.factory = [](const Config& t) { return std::make_unique<RerankingTask>(t); };
  spec.training_metrics = [](const Scores&) { return std::vector<std::string>{"mrr"}; };
  return spec;
}

}  // namespace

SENTBENCH_TASK_TYPE(reranking, reranking_spec);

}  // namespace sentbench
