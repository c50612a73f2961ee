// A task type that lives in the tests, to show that a new type is one file that registers itself: no
// other file names it. "nearest_neighbour": a TSV of `text<TAB>group` lines; each text's nearest other
// text by cosine either shares its group (1) or not (0); the main score is the mean, "nn_accuracy".
// `fail_while_scoring = true` makes evaluate() throw, for the test of a task failing at run time.
#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "task.hpp"

namespace sentbench {
namespace {

class NearestNeighbourTask : public Task {
 public:
  explicit NearestNeighbourTask(const Config& t)
      : name_(t.get_string("name", "nearest_neighbour")), path_(t.get_path("path")),
        fail_(t.get_bool("fail_while_scoring", false)) {
    std::ifstream in(path_);
    if (!in) throw DataError(fmt::format("{}: cannot read", path_.string()));
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      const auto tab = line.find('\t');
      if (tab == std::string::npos || tab == 0 || tab + 1 == line.size()) {
        throw DataError(fmt::format("{}:{}: expected text<TAB>group", path_.string(), number));
      }
      texts_.push_back(line.substr(0, tab));
      groups_.push_back(line.substr(tab + 1));
    }
    if (texts_.size() < 2) throw DataError(fmt::format("{}: needs at least two texts", path_.string()));
    hash_ = hash_bytes(read_file(path_));
  }

  std::string name() const override { return name_; }
  std::string type() const override { return "nearest_neighbour"; }
  std::string version() const override { return "1"; }
  std::string main_metric() const override { return "nn_accuracy"; }
  std::string dataset() const override { return path_.string(); }
  std::string dataset_hash() const override { return hash_; }
  std::int64_t items() const override { return static_cast<std::int64_t>(texts_.size()); }
  void limit_items(std::int64_t) override {}

  Scores evaluate(Encoder& encoder, TaskContext& context) override {
    if (fail_) throw Error(fmt::format("{}: the fixture was asked to fail", name_));
    const Encoded e = encode_texts(encoder, texts_, context, name_ + " texts");
    const at::Tensor unit = torch::nn::functional::normalize(e.embeddings, torch::nn::functional::NormalizeFuncOptions().dim(1));
    at::Tensor sims = unit.matmul(unit.t());
    sims.fill_diagonal_(-2.0);
    const at::Tensor nearest = sims.argmax(1);
    Scores s;
    for (std::size_t i = 0; i < texts_.size(); ++i) {
      const auto j = static_cast<std::size_t>(nearest[static_cast<std::int64_t>(i)].item<std::int64_t>());
      s.per_item.ids.push_back(fmt::format("text-{}", i));
      s.per_item.scores.push_back(groups_[i] == groups_[j] ? 1.0 : 0.0);
    }
    double sum = 0;
    for (const double v : s.per_item.scores) sum += v;
    s.main_score = sum / static_cast<double>(texts_.size());
    s.metrics = {{"nn_accuracy", s.main_score}, {"texts", static_cast<double>(texts_.size())}};
    s.encode_seconds = e.seconds;
    s.encoded_items = e.cache_hit ? 0 : static_cast<std::int64_t>(texts_.size());
    s.cache_hit = e.cache_hit;
    return s;
  }

 private:
  std::string name_;
  std::filesystem::path path_;
  bool fail_;
  std::vector<std::string> texts_, groups_;
  std::string hash_;
};

TaskTypeSpec nearest_neighbour_spec() {
  TaskTypeSpec spec;
  spec.info.type = "nearest_neighbour";
  spec.info.main_metric = "nn_accuracy";
  spec.info.metrics = {MetricInfo::main("nn_accuracy"), MetricInfo::count("texts")};
  spec.info.item_noun = "texts";
  spec.info.item_noun_one = "text";
  spec.keys = {{"path", ValueType::kPath, true, "TSV of text<TAB>group lines"},
               {"fail_while_scoring", ValueType::kBoolean, false, "throw in evaluate() (for tests)"}};
  spec.factory = [](const Config& t) { return std::make_unique<NearestNeighbourTask>(t); };
  return spec;
}

}  // namespace

SENTBENCH_TASK_TYPE(nearest_neighbour, nearest_neighbour_spec);

}  // namespace sentbench
