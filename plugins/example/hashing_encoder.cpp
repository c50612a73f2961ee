// The example plugin: a hashing bag-of-words encoder, the smallest complete sentbench Encoder.
//
// A word is a run of ASCII letters and digits (bytes >= 0x80 count as letters, so UTF-8 words stay
// whole). Each word is lower-cased (ASCII, when `lowercase` is set) and hashed with FNV-1a into one of
// `dim` buckets; tokenize() returns those bucket ids. forward() turns a row of ids into a log(1 + tf)
// vector and L2-normalises it, so the cosine of two texts measures their (hashed) word overlap. There
// is nothing to train; it is a baseline that needs no model files.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <ATen/ops/zeros.h>  // the one LibTorch factory used here; <torch/torch.h> works too, but compiles far slower

#include <sentbench/encoder.hpp>
#include <sentbench/plugin.hpp>

namespace {

// Long texts are cut here, as EncoderInfo::max_tokens promises callers.
constexpr std::int64_t kMaxTokens = 512;

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// FNV-1a: tiny, stable across platforms and releases, so bucket ids never change under a saved model.
std::uint64_t fnv1a(const std::string& word) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : word) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// Words hashed into `dim` buckets; log(1 + term frequency), L2-normalised.
class HashingEncoder : public sentbench::Encoder {
 public:
  explicit HashingEncoder(const sentbench::Config& config)
      : dim_(config.get_int("dim", 256)), lowercase_(config.get_bool("lowercase", true)) {
    // config.fail() names the recipe file, line and key, so the user knows exactly what to change.
    if (dim_ < 1) config.fail("dim", "must be at least 1 (the number of hash buckets)");
  }

  // What reports record about this model; "model" names the settings since there are no weights.
  sentbench::EncoderInfo info() const override {
    sentbench::EncoderInfo info;
    info.name = "hashing";
    info.model = "hashing-" + std::to_string(dim_);
    info.dim = dim_;
    info.max_tokens = kMaxTokens;
    info.pooling = "log-tf";
    info.normalize = true;
    info.parameters = 0;
    return info;
  }

  // Thread-safe: reads only settings fixed at construction.
  sentbench::TokenBatch tokenize(const std::vector<std::string>& texts) const override {
    sentbench::TokenBatch batch;
    batch.ids.reserve(texts.size());
    for (const auto& text : texts) {
      std::vector<std::int32_t> ids;
      std::string word;
      auto flush = [&] {
        if (!word.empty() && static_cast<std::int64_t>(ids.size()) < kMaxTokens) {
          ids.push_back(static_cast<std::int32_t>(fnv1a(word) % static_cast<std::uint64_t>(dim_)));
        }
        word.clear();
      };
      for (unsigned char c : text) {
        if (!is_word_byte(c)) {
          flush();
          continue;
        }
        if (lowercase_ && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
        word.push_back(static_cast<char>(c));
      }
      flush();
      batch.ids.push_back(std::move(ids));
    }
    return batch;
  }

  // Counts bucket ids per row, then log(1 + tf) and L2 norm; there is no autograd graph to keep.
  at::Tensor forward(const sentbench::TokenBatch& batch) override {
    at::Tensor out = at::zeros({static_cast<std::int64_t>(batch.size()), dim_});  // float32, CPU
    auto rows = out.accessor<float, 2>();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      for (std::int32_t id : batch.ids[i]) rows[i][id] += 1.0f;
      double norm2 = 0.0;
      for (std::int64_t j = 0; j < dim_; ++j) {
        if (rows[i][j] == 0.0f) continue;
        rows[i][j] = std::log1p(rows[i][j]);
        norm2 += static_cast<double>(rows[i][j]) * rows[i][j];
      }
      // An empty text stays the zero vector rather than dividing by zero.
      if (norm2 > 0.0) {
        const float scale = static_cast<float>(1.0 / std::sqrt(norm2));
        for (std::int64_t j = 0; j < dim_; ++j) rows[i][j] *= scale;
      }
    }
    return out;
  }

  std::vector<at::Tensor> parameters() override { return {}; }  // nothing to train
  void train(bool) override {}                                   // no dropout or the like

  // The model is its settings: a TOML file whose keys can be pasted into an [encoder] section.
  void save(const std::filesystem::path& dir) const override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto file = dir / "hashing.toml";
    const auto tmp = dir / "hashing.toml.tmp";
    {
      std::ofstream out(tmp);
      out << "# sentbench hashing encoder: use these keys in an [encoder] section\n"
          << "plugin = \"hashing\"\n"
          << "dim = " << dim_ << "\n"
          << "lowercase = " << (lowercase_ ? "true" : "false") << "\n";
      if (!out.flush()) throw sentbench::IoError("cannot write " + tmp.string() + ": check the folder is writable");
    }
    std::filesystem::rename(tmp, file, ec);  // readers never see a half-written file
    if (ec) throw sentbench::IoError("cannot write " + file.string() + ": " + ec.message());
  }

 private:
  std::int64_t dim_;
  bool lowercase_;
};

// What `sentbench validate` checks in [encoder] when plugin = "hashing", before creating anything.
const sentbench::KeySpec kKeys[] = {
    {"dim", sentbench::ValueType::kInteger, false, "number of hash buckets = embedding size (default 256)"},
    {"lowercase", sentbench::ValueType::kBoolean, false, "lower-case ASCII letters before hashing (default true)"},
};

}  // namespace

// Exports sentbench_plugin_info (read by the host before anything is created) and sentbench_create.
SENTBENCH_PLUGIN(SENTBENCH_PLUGIN_INFO_INIT(sentbench::PluginKind::kEncoder, "hashing", "1.0.0",
                                            "hashing bag-of-words baseline (log-tf, L2-normalised)", kKeys),
                 HashingEncoder)
