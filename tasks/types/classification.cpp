// Classification (MTEB's Classification, logReg method): texts with labels in a train and a test file;
// in each of `experiments` experiments the train set is undersampled to `samples_per_label` texts per
// label (one persistent seeded index shuffle), a logistic regression (scikit-learn's defaults: L2,
// C = 1, lbfgs, at most 100 iterations) is fitted on their embeddings and predicts every test text;
// the main score is the mean accuracy, with macro F1 beside it (tasks/mteb_scoring.hpp, MTEB 1.39.7).
// The lexical baseline runs the same protocol on TF-IDF vectors (fitted on the train texts).
#include <chrono>
#include <unordered_map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "clustering_data.hpp"
#include "embedding_matrix.hpp"
#include "lexical.hpp"
#include "sentbench/io.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

const std::vector<KeySpec> kClassificationKeys = {
    {"path", ValueType::kPath, true, "test texts: JSONL {text, label} or TSV label<TAB>text"},
    {"train", ValueType::kPath, true, "train texts, in the same formats"},
    {"experiments", ValueType::kInteger, false, "experiments, each with its own undersampled train set (default 10)"},
    {"samples_per_label", ValueType::kInteger, false, "train texts per label in each experiment (default 8)"},
    {"max_iter", ValueType::kInteger, false, "logistic regression iterations at most (default 100)"},
    {"tfidf_features", ValueType::kInteger, false, "TF-IDF baseline: most frequent words kept (default 2000)"},
};

class ClassificationTask : public Task {
 public:
  explicit ClassificationTask(const Config& t)
      : name_(t.get_string("name", "classification")), path_(t.get_path("path")), train_path_(t.get_path("train")),
        features_(t.get_int("tfidf_features", 2000)) {
    options_.n_experiments = static_cast<int>(t.get_int("experiments", 10));
    options_.samples_per_label = static_cast<int>(t.get_int("samples_per_label", 8));
    options_.logreg.max_iter = static_cast<int>(t.get_int("max_iter", 100));
    if (options_.n_experiments < 1) t.fail("experiments", "must be at least 1");
    if (options_.samples_per_label < 1) t.fail("samples_per_label", "must be at least 1");
    if (options_.logreg.max_iter < 1) t.fail("max_iter", "must be at least 1");
    if (features_ < 1) t.fail("tfidf_features", "must be at least 1");
    const ClusteringDataset train = load_clustering(train_path_);
    const ClusteringDataset test = load_clustering(path_);
    // One label numbering for both files: the train file's, then labels only the test file has.
    std::unordered_map<std::string, std::int64_t> ids;
    auto id = [&](const std::string& name) { return ids.emplace(name, static_cast<std::int64_t>(ids.size())).first->second; };
    for (std::size_t i = 0; i < train.texts.size(); ++i) train_labels_.push_back(id(train.label_names[train.labels[i]]));
    for (std::size_t i = 0; i < test.texts.size(); ++i) test_labels_.push_back(id(test.label_names[test.labels[i]]));
    train_texts_ = train.texts;
    test_texts_ = test.texts;
    hash_ = hash_bytes(train.hash + test.hash);
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "classification"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "accuracy"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return hash_; }
  std::int64_t items() const override { return static_cast<std::int64_t>(test_texts_.size()); }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded train = encode_texts(encoder, train_texts_, context, name_ + " train");
    const Encoded test = encode_texts(encoder, test_texts_, context, name_ + " test");
    Scores s = score(to_matrix(train.embeddings), to_matrix(test.embeddings), context);
    s.encode_seconds = train.seconds + test.seconds;
    s.encoded_items = (train.cache_hit ? 0 : static_cast<std::int64_t>(train_texts_.size())) +
                      (test.cache_hit ? 0 : static_cast<std::int64_t>(test_texts_.size()));
    s.cache_hit = train.cache_hit && test.cache_hit;
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0 || items() <= max_items) return;
    test_texts_.resize(static_cast<std::size_t>(max_items));
    test_labels_.resize(static_cast<std::size_t>(max_items));
  }

  std::string lexical_name() const override { return "tfidf"; }
  std::string lexical_settings() const override {
    return fmt::format("logistic regression on TF-IDF vectors (sublinear tf, smooth idf, {} words), fitted on the train texts",
                       features_);
  }
  Scores evaluate_lexical(TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const TfIdf tfidf(train_texts_, features_);
    Scores s = score(to_matrix(tfidf.transform_dense(train_texts_)), to_matrix(tfidf.transform_dense(test_texts_)), context);
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  Scores score(const mteb_scoring::Matrix& train, const mteb_scoring::Matrix& test, const TaskContext& context) const {
    mteb_scoring::ClassificationOptions options = options_;
    options.seed = context.seed;
    const mteb_scoring::ClassificationResult r =
        mteb_scoring::score_classification(train, train_labels_, test, test_labels_, options);
    Scores s;
    for (const auto& [k, v] : r.scores) {
      if (k != "main_score") s.metrics[k] = v;
    }
    s.main_score = r.main_score;
    // Per test text: the share of experiments that got it right (their mean is the mean accuracy).
    for (std::size_t i = 0; i < r.correct_fraction.size(); ++i) {
      s.per_item.ids.push_back(fmt::format("text-{}", i));
      s.per_item.scores.push_back(r.correct_fraction[i]);
    }
    return s;
  }

  std::string name_;
  fs::path path_, train_path_;
  std::int64_t features_;
  mteb_scoring::ClassificationOptions options_;
  std::vector<std::string> train_texts_, test_texts_;
  std::vector<std::int64_t> train_labels_, test_labels_;
  std::string hash_;
};

TaskTypeSpec classification_spec() {
  TaskTypeSpec spec;
  spec.info.type = "classification";
  spec.info.main_metric = "accuracy";
  spec.info.metrics = {MetricInfo::main("accuracy"), MetricInfo::score("f1"), MetricInfo::score("f1_weighted")};
  spec.info.item_noun = "texts";
  spec.info.item_noun_one = "text";
  spec.keys = kClassificationKeys;
  spec.factory = [](const Config& t) { return std::make_unique<ClassificationTask>(t); };
  spec.training_metrics = [](const Scores&) { return std::vector<std::string>{"f1"}; };
  return spec;
}

}  // namespace

SENTBENCH_TASK_TYPE(classification, classification_spec);

}  // namespace sentbench
