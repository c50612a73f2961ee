// STS: cosine of the two sentences' embeddings against gold scores; Spearman (main) and Pearson.
#include <chrono>
#include <unordered_map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "lexical.hpp"
#include "sentbench/io.hpp"
#include "sts.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

const std::vector<KeySpec> kStsKeys = {
    {"path", ValueType::kPath, true, "STS file: STS-B csv, stsbenchmark.tsv.gz, SICK, or a TSV with named columns"},
    {"format", ValueType::kString, false, "auto | stsb | stsb-gz | sick | tsv (default auto)"},
    {"split", ValueType::kString, false, "rows of this split where the file has several (default \"test\")"},
    {"sentence1_column", ValueType::kString, false, "tsv: first sentence column (default sentence1)"},
    {"sentence2_column", ValueType::kString, false, "tsv: second sentence column (default sentence2)"},
    {"score_column", ValueType::kString, false, "tsv: gold score column (default score)"},
    {"split_column", ValueType::kString, false, "tsv: column holding the split name"},
};

// Scores sentence pairs by cosine similarity: one class for the sts task type.
class StsTask : public Task {
 public:
  explicit StsTask(const Config& t) : name_(t.get_string("name", "sts")), path_(t.get_path("path")) {
    StsReadOptions o;
    o.format = t.get_string("format", o.format);
    o.split = t.get_string("split", o.split);
    o.sentence1_column = t.get_string("sentence1_column", o.sentence1_column);
    o.sentence2_column = t.get_string("sentence2_column", o.sentence2_column);
    o.score_column = t.get_string("score_column", o.score_column);
    o.split_column = t.get_string("split_column", o.split_column);
    data_ = load_sts(path_, o);
    index_pairs();
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "sts"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "spearman"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return data_.hash; }
  std::int64_t items() const override { return static_cast<std::int64_t>(data_.pairs.size()); }
  std::string lexical_name() const override { return "tfidf"; }
  std::string lexical_settings() const override { return "TF-IDF (sublinear tf, smooth idf) fitted on the pairs"; }

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const Encoded e = encode_texts(encoder, sentences_, context, name_ + " sentences");
    const at::Tensor unit = torch::nn::functional::normalize(e.embeddings, torch::nn::functional::NormalizeFuncOptions().dim(1));
    const at::Tensor cos = (unit.index_select(0, torch::tensor(left_)) * unit.index_select(0, torch::tensor(right_))).sum(1).to(torch::kFloat64).contiguous();
    std::vector<double> predicted(cos.data_ptr<double>(), cos.data_ptr<double>() + cos.numel());
    Scores s = finish(predicted, context);
    s.encode_seconds = e.seconds;
    s.encoded_items = static_cast<std::int64_t>(sentences_.size());
    s.cache_hit = e.cache_hit;
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

  void limit_items(std::int64_t max_items) override {
    if (max_items <= 0 || items() <= max_items) return;
    data_.pairs.resize(static_cast<std::size_t>(max_items));
    index_pairs();  // only the kept pairs' sentences are embedded
  }

  Scores evaluate_lexical(TaskContext& context) override {
    const auto start = std::chrono::steady_clock::now();
    const TfIdf tfidf(sentences_);
    std::vector<double> predicted;
    predicted.reserve(data_.pairs.size());
    for (const auto& p : data_.pairs) predicted.push_back(tfidf.cosine(p.a, p.b));
    Scores s = finish(predicted, context);
    s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }

 private:
  // Each distinct sentence is embedded once: the sentence list and each pair's two rows in it.
  void index_pairs() {
    sentences_.clear();
    left_.clear();
    right_.clear();
    gold_.clear();
    std::unordered_map<std::string, std::int64_t> index;
    for (const auto& p : data_.pairs) {
      for (const std::string* s : {&p.a, &p.b}) {
        auto [it, added] = index.emplace(*s, static_cast<std::int64_t>(sentences_.size()));
        if (added) sentences_.push_back(*s);
        (s == &p.a ? left_ : right_).push_back(it->second);
      }
      gold_.push_back(p.score);
    }
  }

  Scores finish(const std::vector<double>& predicted, const TaskContext& context) const {
    Scores s;
    s.metrics["spearman"] = metrics::spearman(predicted, gold_);
    s.metrics["pearson"] = metrics::pearson(predicted, gold_);
    s.main_score = s.metrics["spearman"];
    s.per_item.scores = predicted;  // with per_item.reference = gold, a bootstrap can resample pairs
    s.per_item.reference = gold_;
    if (!context.details_dir.empty()) {
      std::string text = "gold\tcosine\tsentence1\tsentence2\n";
      for (std::size_t i = 0; i < predicted.size(); ++i) {
        text += fmt::format("{}\t{:.6f}\t{}\t{}\n", gold_[i], predicted[i], data_.pairs[i].a, data_.pairs[i].b);
      }
      write_file_atomic(context.details_dir / fmt::format("{}.{}.tsv", name_, context.label), text);
    }
    return s;
  }

  std::string name_;
  fs::path path_;
  StsDataset data_;
  std::vector<std::string> sentences_;
  std::vector<std::int64_t> left_, right_;
  std::vector<double> gold_;
};

}  // namespace

TaskTypeSpec sts_spec() {
  TaskTypeSpec spec;
  spec.info.type = "sts";
  spec.info.main_metric = "spearman";
  spec.info.metrics = {MetricInfo::main("spearman"), MetricInfo::score("pearson")};
  spec.info.item_statistic = ItemStatistic::kSpearman;  // Spearman of cosine against gold, over pairs
  spec.info.item_noun = "pairs";
  spec.info.item_noun_one = "pair";
  // MTEB reports STS per similarity function; sentbench scores with cosine only.
  spec.info.mteb_aliases = {{"cosine_spearman", "spearman"}, {"cosine_pearson", "pearson"}};
  spec.keys = kStsKeys;
  spec.factory = [](const Config& t) { return std::make_unique<StsTask>(t); };
  spec.training_metrics = [](const Scores&) { return std::vector<std::string>{"pearson"}; };
  return spec;
}
SENTBENCH_TASK_TYPE(sts, sts_spec);

}  // namespace sentbench
