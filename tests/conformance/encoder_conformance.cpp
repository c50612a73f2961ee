// The checks of the encoder conformance suite (see encoder_conformance.hpp): shapes, determinism, order,
// edge-case texts, batch-size invariance, bf16 against fp32, and save → load.
#include "encoder_conformance.hpp"

#include <algorithm>
#include <random>

#include <torch/torch.h>

#include "plugin_host.hpp"
#include "sentbench/config.hpp"
#include "test_util.hpp"

namespace sentbench::conformance {

std::shared_ptr<Encoder> load_plugin_encoder(const std::filesystem::path& plugin_file, const std::string& toml) {
  PluginHost host;
  const std::string name = host.load(plugin_file).name;
  const Config section = Config::parse(toml, "conformance case").table("encoder");
  return host.create_encoder(name, section);  // the object keeps its library loaded after the host is gone
}

void EncoderConformance::SetUp() {
  const EncoderCase& c = GetParam();
  if (c.unavailable) {
    if (const std::string why = c.unavailable(); !why.empty()) GTEST_SKIP() << c.name << ": " << why;
  }
  encoder_ = c.make();
  ASSERT_NE(encoder_, nullptr) << c.name << ": the factory returned no encoder";
}

namespace {

// 64 texts of mixed lengths (1 to ~150 words), with punctuation, digits, non-ASCII and an empty one.
std::vector<std::string> mixed_texts() {
  const std::vector<std::string> words = {"the", "model", "encodes", "sentences", "into", "vectors", "café", "naïve",
                                          "Debian", "package", "42", "retrieval", "clustering", "(STS-B)", "🦙",
                                          "über", "a", "quickly", "training", "batch,", "tokens.", "日本語"};
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) {
    const int n = i == 0 ? 0 : 1 + static_cast<int>(rng() % (i % 8 == 0 ? 150 : 20));
    std::string text;
    for (int w = 0; w < n; ++w) text += (w ? " " : "") + words[rng() % words.size()];
    texts.push_back(text);
  }
  return texts;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

void expect_finite(const at::Tensor& t, const std::string& what) {
  EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << what << " has non-finite values";
}

}  // namespace

TEST_P(EncoderConformance, InfoAndOutputShape) {
  const EncoderInfo info = encoder_->info();
  EXPECT_FALSE(info.name.empty());
  ASSERT_GT(info.dim, 0);
  const auto texts = mixed_texts();
  const at::Tensor out = encoder_->encode(texts, EncodeOptions{});
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), static_cast<std::int64_t>(texts.size()));
  EXPECT_EQ(out.size(1), info.dim);
  EXPECT_EQ(out.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(out.device().is_cpu());
  expect_finite(out, "encode()");
  const TokenBatch tokens = encoder_->tokenize(texts);
  ASSERT_EQ(tokens.size(), texts.size());
  if (info.max_tokens > 0) {
    EXPECT_LE(static_cast<std::int64_t>(tokens.max_length()), info.max_tokens);
  }
}

TEST_P(EncoderConformance, NoTextsGiveNoRows) {
  const at::Tensor out = encoder_->encode({}, EncodeOptions{});
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), 0);
  EXPECT_EQ(out.size(1), encoder_->info().dim);
}

TEST_P(EncoderConformance, Deterministic) {
  const auto texts = mixed_texts();
  const at::Tensor a = encoder_->encode(texts, EncodeOptions{});
  const at::Tensor b = encoder_->encode(texts, EncodeOptions{});
  EXPECT_TRUE(torch::equal(a, b)) << "max difference " << max_abs_diff(a, b);
}

TEST_P(EncoderConformance, InputOrderRestored) {
  const auto texts = mixed_texts();
  std::vector<std::size_t> perm(texts.size());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), std::mt19937(11));
  std::vector<std::string> shuffled;
  for (std::size_t i : perm) shuffled.push_back(texts[i]);
  const at::Tensor base = encoder_->encode(texts, EncodeOptions{});
  const at::Tensor out = encoder_->encode(shuffled, EncodeOptions{});
  std::vector<std::int64_t> idx(perm.begin(), perm.end());
  const at::Tensor expected = base.index_select(0, torch::tensor(idx, torch::kLong));
  EXPECT_LE(max_abs_diff(out, expected), GetParam().batch_tolerance);
}

TEST_P(EncoderConformance, EmptyTextIsFinite) {
  const at::Tensor alone = encoder_->encode({""}, EncodeOptions{});
  ASSERT_EQ(alone.size(0), 1);
  expect_finite(alone, "the empty text");
  const at::Tensor among = encoder_->encode({"a sentence first", "", "and one after"}, EncodeOptions{});
  ASSERT_EQ(among.size(0), 3);
  expect_finite(among, "the empty text among others");
}

TEST_P(EncoderConformance, VeryLongTextIsCutAndFinite) {
  std::string text;
  for (int i = 0; text.size() < 10000; ++i) text += "word" + std::to_string(i % 97) + " and more text, ";
  text.resize(10000);
  const TokenBatch tokens = encoder_->tokenize({text});
  const EncoderInfo info = encoder_->info();
  if (info.max_tokens > 0) {
    EXPECT_LE(static_cast<std::int64_t>(tokens.ids.at(0).size()), info.max_tokens);
  }
  const at::Tensor out = encoder_->encode({text}, EncodeOptions{});
  ASSERT_EQ(out.size(0), 1);
  EXPECT_EQ(out.size(1), info.dim);
  expect_finite(out, "a 10,000-character text");
}

// A text encoded alone (batch of one) and inside one batch of 64 mixed-length texts, straight through
// forward(): padding to the batch's longest row must not change any row.
TEST_P(EncoderConformance, BatchSizeInvariant) {
  const auto texts = mixed_texts();
  c10::InferenceMode guard;
  encoder_->train(false);
  const TokenBatch all = encoder_->tokenize(texts);
  const at::Tensor batched = encoder_->forward(all).to(torch::kFloat32);
  ASSERT_EQ(batched.size(0), static_cast<std::int64_t>(texts.size()));
  double worst = 0;
  std::size_t worst_row = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    TokenBatch one;
    one.ids.push_back(all.ids[i]);
    const double d = max_abs_diff(encoder_->forward(one).to(torch::kFloat32)[0], batched[static_cast<std::int64_t>(i)]);
    if (d > worst) {
      worst = d;
      worst_row = i;
    }
  }
  EXPECT_LE(worst, GetParam().batch_tolerance)
      << "text " << worst_row << " (" << all.ids[worst_row].size() << " tokens, batch padded to " << all.max_length() << ")";
}

TEST_P(EncoderConformance, Bf16CloseToFp32) {
  const EncoderCase& c = GetParam();
  if (!c.make_bf16) GTEST_SKIP() << c.name << " has no dtype setting";
  const std::shared_ptr<Encoder> bf16 = c.make_bf16();
  auto texts = mixed_texts();
  texts.erase(texts.begin());  // the empty text: a zero vector in some encoders has no direction
  const at::Tensor a = encoder_->encode(texts, EncodeOptions{});
  const at::Tensor b = bf16->encode(texts, EncodeOptions{});
  ASSERT_EQ(b.scalar_type(), torch::kFloat32);
  ASSERT_EQ(a.sizes(), b.sizes());
  const at::Tensor cos = torch::cosine_similarity(a, b, 1);
  const auto worst = cos.min().item<double>();
  EXPECT_GE(worst, c.bf16_min_cosine) << "row " << cos.argmin().item<std::int64_t>();
}

TEST_P(EncoderConformance, SaveThenLoadGivesIdenticalEmbeddings) {
  const EncoderCase& c = GetParam();
  if (!c.load_saved) GTEST_SKIP() << c.name << " gives no loader for saved folders";
  sentbench::test::TempDir tmp;
  encoder_->save(tmp / "model");
  const std::shared_ptr<Encoder> loaded = c.load_saved(tmp / "model");
  ASSERT_NE(loaded, nullptr);
  const EncoderInfo before = encoder_->info(), after = loaded->info();
  EXPECT_EQ(after.dim, before.dim);
  EXPECT_EQ(after.max_tokens, before.max_tokens);
  EXPECT_EQ(after.pooling, before.pooling);
  EXPECT_EQ(after.normalize, before.normalize);
  const auto texts = mixed_texts();
  const at::Tensor a = encoder_->encode(texts, EncodeOptions{});
  const at::Tensor b = loaded->encode(texts, EncodeOptions{});
  EXPECT_TRUE(torch::equal(a, b)) << "max difference " << max_abs_diff(a, b);
}

}  // namespace sentbench::conformance
