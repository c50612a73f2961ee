// Pair classification (MTEB's PairClassification): two texts and a 0/1 label per pair; each pair is
// scored by the cosine, dot, euclidean and manhattan similarity of its two embeddings, and the main
// score is the best average precision over the four ("max_ap"), as MTEB 1.39.7 reports it; accuracy and
// F1 at their best thresholds beside it (tasks/mteb_scoring.hpp). The lexical baseline is the TF-IDF
// cosine of the two texts (fitted on all texts of the set).
#include <algorithm>
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

const std::vector<KeySpec> kPairClassificationKeys = {
    {"path", ValueType::kPath, true, "JSONL {text1, text2, label 0/1} or TSV text1<TAB>text2<TAB>label"},
};

// The similarity functions in MTEB's order, with the direction of each (distances: lower = more similar).
constexpr const char* kSimilarities[] = {"cosine", "dot", "euclidean", "manhattan"};

class PairClassificationTask : public Task {
 public:
  explicit PairClassificationTask(const Config& t)
      : name_(t.get_string("name", "pair_classification")), path_(t.get_path("path")),
        data_(load_pair_classification(path_)) {
    index_texts();
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "pair_classification"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "max_ap"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return data_.hash; }
  std::int64_t items() const override { return static_cast<std::int64_t>(data_.labels.size()); }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded e = encode_texts(encoder, texts_, context, name_ + " texts");
    const at::Tensor left = e.embeddings.index_select(0, torch::tensor(left_));
    const at::Tensor right = e.embeddings.index_select(0, torch::tensor(right_));
    const mteb_scoring::PairClassificationResult r =
        mteb_scoring::score_pair_classification(to_matrix(left), to_matrix(right), data_.labels);
    Scores s;
    s.metrics = r.scores;
    s.main_score = r.main_score;
    // Per pair: the similarity that gave the best AP, oriented so that higher means "more likely 1";
    // with the labels as reference, a bootstrap recomputes that AP on resampled pairs.
    const mteb_scoring::PairScores all = mteb_scoring::pair_scores(to_matrix(left), to_matrix(right));
    const std::vector<const std::vector<double>*> by_name = {&all.cosine, &all.dot, &all.euclidean, &all.manhattan};
    std::size_t best = 0;
    for (std::size_t i = 1; i < 4; ++i) {
      if (s.metrics[std::string(kSimilarities[i]) + "_ap"] > s.metrics[std::string(kSimilarities[best]) + "_ap"]) best = i;
    }
    const double sign = best >= 2 ? -1.0 : 1.0;  // distances: negated
    for (const double v : *by_name[best]) s.per_item.scores.push_back(sign * v);
    finish(s);
    s.encode_seconds = e.seconds;
    s.encoded_items = e.cache_hit ? 0 : static_cast<std::int64_t>(texts_.size());
    s.cache_hit = e.cache_hit;
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0 || items() <= max_items) return;
    const auto n = static_cast<std::size_t>(max_items);
    data_.text1.resize(n);
    data_.text2.resize(n);
    data_.labels.resize(n);
    index_texts();
  }

  std::string lexical_name() const override { return "tfidf"; }
  std::string lexical_settings() const override { return "TF-IDF (sublinear tf, smooth idf) cosine, fitted on the pairs"; }
  Scores evaluate_lexical(TaskContext&) override {
    const auto start = std::chrono::steady_clock::now();
    const TfIdf tfidf(texts_);
    Scores s;
    for (std::size_t i = 0; i < data_.labels.size(); ++i) s.per_item.scores.push_back(tfidf.cosine(data_.text1[i], data_.text2[i]));
    const auto& scores = s.per_item.scores;
    const auto acc = mteb_scoring::find_best_acc_and_threshold(scores, data_.labels, true);
    const auto f1 = mteb_scoring::find_best_f1_and_threshold(scores, data_.labels, true);
    s.metrics = {{"cosine_ap", mteb_scoring::pair_ap_score(scores, data_.labels, true)},
                 {"cosine_accuracy", acc.accuracy}, {"cosine_accuracy_threshold", acc.threshold},
                 {"cosine_f1", f1.f1}, {"cosine_precision", f1.precision}, {"cosine_recall", f1.recall},
                 {"cosine_f1_threshold", f1.threshold}};
    s.metrics["max_ap"] = s.metrics["cosine_ap"];
    s.metrics["max_accuracy"] = acc.accuracy;
    s.metrics["max_f1"] = f1.f1;
    s.main_score = s.metrics["max_ap"];
    finish(s);
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  // Each distinct text is embedded once: the text list and each pair's two rows in it.
  void index_texts() {
    texts_.clear();
    left_.clear();
    right_.clear();
    std::unordered_map<std::string, std::int64_t> index;
    for (std::size_t i = 0; i < data_.labels.size(); ++i) {
      for (const std::string* t : {&data_.text1[i], &data_.text2[i]}) {
        auto [it, added] = index.emplace(*t, static_cast<std::int64_t>(texts_.size()));
        if (added) texts_.push_back(*t);
        (t == &data_.text1[i] ? left_ : right_).push_back(it->second);
      }
    }
  }

  void finish(Scores& s) const {
    for (std::size_t i = 0; i < data_.labels.size(); ++i) {
      s.per_item.ids.push_back(fmt::format("pair-{}", i));
      s.per_item.reference.push_back(data_.labels[i]);
    }
  }

  std::string name_;
  fs::path path_;
  PairClassificationDataset data_;
  std::vector<std::string> texts_;
  std::vector<std::int64_t> left_, right_;
};

TaskTypeSpec pair_classification_spec() {
  TaskTypeSpec spec;
  spec.info.type = "pair_classification";
  spec.info.main_metric = "max_ap";
  spec.info.metrics = {MetricInfo::main("max_ap"), MetricInfo::score("max_accuracy"), MetricInfo::score("max_f1")};
  spec.info.item_statistic = ItemStatistic::kAveragePrecision;
  spec.info.item_noun = "pairs";
  spec.info.item_noun_one = "pair";
  spec.keys = kPairClassificationKeys;
  spec.factory = [](const Config& t) { return std::make_unique<PairClassificationTask>(t); };
  spec.training_metrics = [](const Scores&) { return std::vector<std::string>{"max_accuracy"}; };
  return spec;
}

}  // namespace

SENTBENCH_TASK_TYPE(pair_classification, pair_classification_spec);

}  // namespace sentbench
