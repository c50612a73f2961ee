// Clustering: k-means with k = number of labels on repeated random subsets, V-measure as mean ± std
// (MTEB's protocol), seeded and reproducible.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <torch/torch.h>

#include "clustering_data.hpp"
#include "kmeans.hpp"
#include "lexical.hpp"
#include "sentbench/io.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

const std::vector<KeySpec> kClusteringKeys = {
    {"path", ValueType::kPath, true, "JSONL {\"text\", \"label\"} or TSV label<TAB>text"},
    {"subsets", ValueType::kInteger, false, "random subsets scored (default 10)"},
    {"subset_size", ValueType::kInteger, false, "texts per subset (default 2000; the whole set when smaller)"},
    {"seed", ValueType::kInteger, false, "seed of the subsets and of k-means (default 42)"},
    {"tfidf_features", ValueType::kInteger, false, "TF-IDF baseline: most frequent words kept (default 4096)"},
};

// Clusters texts and compares with their labels: one class for the clustering task type.
class ClusteringTask : public Task {
 public:
  explicit ClusteringTask(const Config& t)
      : name_(t.get_string("name", "clustering")), path_(t.get_path("path")),
        subsets_(t.get_int("subsets", 10)), subset_size_(t.get_int("subset_size", 2000)),
        seed_(static_cast<std::uint64_t>(t.get_int("seed", 42))), tfidf_features_(t.get_int("tfidf_features", 4096)) {
    if (subsets_ < 1) t.fail("subsets", "must be at least 1");
    if (subset_size_ < 2) t.fail("subset_size", "must be at least 2");
    data_ = load_clustering(path_);
    // Subsets are drawn once so the model and every baseline see the same texts.
    std::mt19937_64 rng(seed_);
    const auto n = static_cast<std::int64_t>(data_.texts.size());
    for (std::int64_t s = 0; s < subsets_; ++s) {
      std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
      std::iota(idx.begin(), idx.end(), 0);
      if (subset_size_ < n) {
        std::shuffle(idx.begin(), idx.end(), rng);
        idx.resize(static_cast<std::size_t>(subset_size_));
        std::sort(idx.begin(), idx.end());
      }
      subsets_idx_.push_back(std::move(idx));
    }
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "clustering"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "v_measure"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return data_.hash; }
  std::int64_t items() const override { return static_cast<std::int64_t>(data_.texts.size()); }
  std::string lexical_name() const override { return "tfidf"; }
  std::string lexical_settings() const override {
    return fmt::format("TF-IDF ({} most frequent words) + the same k-means", tfidf_features_);
  }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded e = encode_texts(encoder, data_.texts, context, name_ + " texts");
    const at::Tensor unit = torch::nn::functional::normalize(e.embeddings, torch::nn::functional::NormalizeFuncOptions().dim(1));
    Scores s = cluster(unit, context);
    s.encode_seconds = e.seconds;
    s.encoded_items = static_cast<std::int64_t>(data_.texts.size());
    s.cache_hit = e.cache_hit;
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0) return;
    // One subset: k-means on several would multiply the cost, and the same texts at every step are what
    // make the scores of a run comparable with one another.
    std::vector<std::int64_t> idx = subsets_idx_.front();
    if (static_cast<std::int64_t>(idx.size()) > max_items) {
      std::mt19937_64 rng(seed_);
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(static_cast<std::size_t>(max_items));
      std::sort(idx.begin(), idx.end());
    }
    // Only these texts are encoded: the data keeps them alone and the subset indexes them anew.
    ClusteringDataset kept;
    kept.label_names = data_.label_names;
    kept.hash = data_.hash;
    for (const std::int64_t i : idx) {
      kept.texts.push_back(data_.texts[static_cast<std::size_t>(i)]);
      kept.labels.push_back(data_.labels[static_cast<std::size_t>(i)]);
    }
    data_ = std::move(kept);
    std::vector<std::int64_t> all(data_.texts.size());
    std::iota(all.begin(), all.end(), 0);
    subsets_idx_ = {std::move(all)};
  }

  Scores evaluate_lexical(TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const TfIdf tfidf(data_.texts, tfidf_features_);
    Scores s = cluster(tfidf.transform_dense(data_.texts), context);
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  Scores cluster(const at::Tensor& points, const TaskContext& context) const {
    std::vector<double> v, h, c;
    std::string details = "index\tgold\tcluster\n";
    for (std::size_t s = 0; s < subsets_idx_.size(); ++s) {
      const auto& idx = subsets_idx_[s];
      std::vector<std::int64_t> gold;
      gold.reserve(idx.size());
      for (auto i : idx) gold.push_back(data_.labels[static_cast<std::size_t>(i)]);
      std::vector<std::int64_t> distinct = gold;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      KMeansOptions options;
      options.k = static_cast<std::int64_t>(distinct.size());
      options.seed = seed_ + s;
      const KMeansResult km = kmeans(points.index_select(0, torch::tensor(idx)).contiguous(), options);
      const at::Tensor labels = km.labels.to(torch::kLong).contiguous();
      const std::vector<std::int64_t> predicted(labels.data_ptr<std::int64_t>(), labels.data_ptr<std::int64_t>() + labels.numel());
      const metrics::VMeasure m = metrics::v_measure(gold, predicted);
      v.push_back(m.v_measure);
      h.push_back(m.homogeneity);
      c.push_back(m.completeness);
      if (s == 0 && !context.details_dir.empty()) {
        for (std::size_t i = 0; i < idx.size(); ++i) {
          details += fmt::format("{}\t{}\t{}\n", idx[i], data_.label_names[static_cast<std::size_t>(gold[i])], predicted[i]);
        }
      }
    }
    Scores s;
    const metrics::MeanStd vm = metrics::mean_std(v);
    s.main_score = vm.mean;
    s.metrics = {{"v_measure", vm.mean}, {"v_measure_std", vm.std}, {"homogeneity", metrics::mean_std(h).mean},
                 {"completeness", metrics::mean_std(c).mean}, {"subsets", static_cast<double>(v.size())}};
    for (std::size_t i = 0; i < v.size(); ++i) s.per_item.ids.push_back(fmt::format("subset-{}", i));
    s.per_item.scores = v;
    if (!context.details_dir.empty()) {
      write_file_atomic(context.details_dir / fmt::format("{}.{}.clusters.tsv", name_, context.label), details);
    }
    return s;
  }

  std::string name_;
  fs::path path_;
  std::int64_t subsets_, subset_size_;
  std::uint64_t seed_;
  std::int64_t tfidf_features_;
  ClusteringDataset data_;
  std::vector<std::vector<std::int64_t>> subsets_idx_;
};

}  // namespace

TaskTypeSpec clustering_spec() {
  TaskTypeSpec spec;
  spec.info.type = "clustering";
  spec.info.main_metric = "v_measure";
  spec.info.metrics = {MetricInfo::main("v_measure"), MetricInfo::score("v_measure_std", false),
                       MetricInfo::score("homogeneity"), MetricInfo::score("completeness"),
                       MetricInfo::count("subsets")};
  spec.info.item_noun = "texts";
  spec.info.item_noun_one = "text";
  spec.info.mteb_per_item = "v_measures";  // MTEB keeps the V-measure of every subset
  spec.keys = kClusteringKeys;
  spec.factory = [](const Config& t) { return std::make_unique<ClusteringTask>(t); };
  return spec;
}
SENTBENCH_TASK_TYPE(clustering, clustering_spec);

}  // namespace sentbench
