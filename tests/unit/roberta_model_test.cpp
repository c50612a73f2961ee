// The roberta backend against the reference: tiny-roberta golden outputs (last hidden state, CLS,
// mean-pooled, normalised, padded rows included), the masked-LM layout, save → load round trip,
// random init and the errors a user meets with a wrong folder.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hf_folder.hpp"
#include "roberta_encoder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using sentbench::test::TempDir;

namespace sentbench::roberta {
namespace {

torch::Tensor to_tensor(const json& j) {
  std::vector<float> flat;
  std::vector<std::int64_t> shape;
  std::function<void(const json&, std::size_t)> walk = [&](const json& node, std::size_t depth) {
    if (node.is_array()) {
      if (shape.size() <= depth) shape.push_back(static_cast<std::int64_t>(node.size()));
      for (const auto& child : node) walk(child, depth + 1);
    } else {
      flat.push_back(node.get<float>());
    }
  };
  walk(j, 0);
  return torch::tensor(flat).view(shape);
}

Config encoder_config(const std::string& toml) { return Config::parse(toml, "test.toml").table("encoder"); }

struct Golden {
  json data;
  double tol = 0;
};

Golden load_golden() {
  Golden g;
  g.data = json::parse(read_file(test::shared_data() / "tiny-roberta/golden.json"));
  g.tol = g.data["tolerance_abs"].get<double>();
  return g;
}

// Runs the golden batch exactly as given (ids and mask from the file) through an encoder.
void check_against_golden(RobertaEncoder& encoder, const Golden& g) {
  torch::NoGradGuard no_grad;
  encoder.train(false);
  std::vector<std::string> sentences = g.data["sentences"].get<std::vector<std::string>>();
  // Tokenizer parity on these rows: unpadded ids equal the golden ids up to the mask.
  const TokenBatch batch = encoder.tokenize(sentences);
  const auto golden_ids = g.data["input_ids"].get<std::vector<std::vector<std::int64_t>>>();
  const auto golden_mask = g.data["attention_mask"].get<std::vector<std::vector<std::int64_t>>>();
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    std::vector<std::int64_t> expected;
    for (std::size_t t = 0; t < golden_ids[i].size(); ++t) if (golden_mask[i][t]) expected.push_back(golden_ids[i][t]);
    EXPECT_EQ(std::vector<std::int64_t>(batch.ids[i].begin(), batch.ids[i].end()), expected) << "row " << i;
  }
  auto [ids, mask] = encoder.pad(batch);
  ASSERT_EQ(ids.size(1), static_cast<std::int64_t>(golden_ids[0].size())) << "padded to the longest row";
  const torch::Tensor hidden = encoder.model()->forward(ids, mask);
  const torch::Tensor first2 = to_tensor(g.data["last_hidden_state_first2"]);
  EXPECT_LE((hidden.slice(0, 0, 2) - first2).abs().max().item<double>(), g.tol);
  EXPECT_LE((pool(hidden, mask, "cls") - to_tensor(g.data["cls"])).abs().max().item<double>(), g.tol);
  const torch::Tensor mean = pool(hidden, mask, "mean");
  EXPECT_LE((mean - to_tensor(g.data["mean_pooled"])).abs().max().item<double>(), g.tol);
  // forward() pools and normalises: the sentence-level path a user gets.
  const torch::Tensor normalized = encoder.forward(batch);
  EXPECT_LE((normalized - to_tensor(g.data["mean_pooled_normalized"])).abs().max().item<double>(), g.tol);
}

TEST(RobertaModel, MatchesGoldenOutputs) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/golden.json");
  const Golden g = load_golden();
  RobertaEncoder encoder(encoder_config("[encoder]\nplugin='roberta'\nmodel='" +
                                        (test::shared_data() / "tiny-roberta").string() + "'\nnormalize=true\n"));
  EXPECT_EQ(encoder.info().dim, 32);
  EXPECT_EQ(encoder.info().pooling, "mean") << "a plain HF folder defaults to mean pooling";
  check_against_golden(encoder, g);
}

TEST(RobertaModel, MaskedLmCheckpointGivesSameOutputs) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta-mlm/model.safetensors");
  const Golden g = load_golden();
  RobertaEncoder encoder(encoder_config("[encoder]\nplugin='roberta'\nmodel='" +
                                        (test::shared_data() / "tiny-roberta-mlm").string() + "'\nnormalize=true\n"));
  check_against_golden(encoder, g);
}

TEST(RobertaModel, EncodeRestoresOrderAndMatchesForward) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/model.safetensors");
  RobertaEncoder encoder(encoder_config("[encoder]\nplugin='roberta'\nmodel='" +
                                        (test::shared_data() / "tiny-roberta").string() + "'\n"));
  const std::vector<std::string> texts = {"short", "a much longer sentence with many more tokens in it", "", "mid size text"};
  EncodeOptions options;
  options.batch_tokens = 16;  // forces several batches
  const torch::Tensor encoded = encoder.encode(texts, options);
  ASSERT_EQ(encoded.sizes(), (std::vector<std::int64_t>{4, 32}));
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const torch::Tensor single = encoder.forward(encoder.tokenize({texts[i]}));
    EXPECT_LE((encoded[static_cast<std::int64_t>(i)] - single[0]).abs().max().item<double>(), 1e-5) << texts[i];
  }
}

TEST(RobertaModel, SaveLoadRoundTripIsIdentical) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/model.safetensors");
  TempDir tmp;
  RobertaEncoder original(encoder_config("[encoder]\nplugin='roberta'\nmodel='" +
                                         (test::shared_data() / "tiny-roberta").string() +
                                         "'\npooling='cls'\nnormalize=true\nmax_seq_length=64\n"));
  original.save(tmp / "model");
  for (const char* f : {"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json",
                        "special_tokens_map.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json"}) {
    EXPECT_TRUE(fs::exists(tmp / "model" / f)) << f;
  }
  const json pooling = json::parse(read_file(tmp / "model/1_Pooling/config.json"));
  EXPECT_TRUE(pooling["pooling_mode_cls_token"].get<bool>());
  EXPECT_EQ(pooling["word_embedding_dimension"], 32);
  EXPECT_EQ(json::parse(read_file(tmp / "model/sentence_bert_config.json"))["max_seq_length"], 64);
  EXPECT_EQ(json::parse(read_file(tmp / "model/modules.json")).size(), 3u) << "Normalize module present";

  // The reloaded folder carries its own pooling/normalisation: no recipe keys needed.
  RobertaEncoder reloaded(encoder_config("[encoder]\nplugin='roberta'\nmodel='" + (tmp / "model").string() + "'\n"));
  EXPECT_EQ(reloaded.info().pooling, "cls");
  EXPECT_TRUE(reloaded.info().normalize);
  EXPECT_EQ(reloaded.info().max_tokens, 64);
  const std::vector<std::string> texts = {"A man is playing a guitar.", "naïve café 🦙", ""};
  EXPECT_TRUE(torch::equal(original.encode(texts, {}), reloaded.encode(texts, {})));
}

TEST(RobertaModel, RandomInitFromShape) {
  SENTBENCH_REQUIRE_SHARED("roberta-tokenizer/vocab.json");
  RobertaEncoder encoder(encoder_config("[encoder]\nplugin='roberta'\ntokenizer='" +
                                        (test::shared_data() / "roberta-tokenizer").string() +
                                        "'\nmax_seq_length=32\n[encoder.init]\nhidden=48\nlayers=2\nheads=4\n"));
  const EncoderInfo info = encoder.info();
  EXPECT_EQ(info.dim, 48);
  EXPECT_EQ(info.model, "random-init");
  EXPECT_EQ(encoder.model()->config.intermediate_size, 192);
  EXPECT_EQ(encoder.model()->config.max_position_embeddings, 34);
  const torch::Tensor w = encoder.model()->encoder->layer[0]->as<LayerImpl>()->attention->self->query->weight;
  EXPECT_NEAR(w.std().item<double>(), 0.02, 0.002);
  EXPECT_EQ(encoder.model()->embeddings->word_embeddings->weight[1].abs().sum().item<double>(), 0.0) << "pad row zero";
  const torch::Tensor e = encoder.encode({"one", "two words"}, {});
  EXPECT_EQ(e.sizes(), (std::vector<std::int64_t>{2, 48}));
  EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
  // A long text is cut at max_seq_length, </s> kept last.
  const auto ids = encoder.tokenize({std::string(500, 'a') + " b c d e f g h i j k l m n o p q r s t u v w x y z"}).ids[0];
  EXPECT_EQ(ids.size(), 32u);
  EXPECT_EQ(ids.back(), encoder.tokenizer().eos_id());
}

// A small random-init model on the shipped Debian tokenizer: no shared data needed.
RobertaEncoder small_encoder(const std::string& extra = "") {
  return RobertaEncoder(encoder_config("[encoder]\nplugin='roberta'\ntokenizer='" SENTBENCH_SOURCE_DIR
                                       "/datasets/data/debian/tokenizer'\nmax_seq_length=128\n" + extra +
                                       "[encoder.init]\nhidden=64\nlayers=2\nheads=4\nseed=3\n"));
}

const std::vector<std::string> kMixedTexts = {
    "a", "library for parsing command-line options with subcommands and help",
    "tiny", "", "the quick brown fox jumps over the lazy dog near the river bank at dawn, twice, slowly",
    "GNU C compiler", "x y z"};

TEST(RobertaModel, InferencePathMatchesAutogradPathAndPaddedGrid) {
  RobertaEncoder encoder = small_encoder();
  encoder.train(false);
  const TokenBatch batch = encoder.tokenize(kMixedTexts);
  const PackedBatch packed = PackedBatch::from_rows(batch.ids, encoder.model()->config.pad_token_id);
  torch::Tensor fast, reference;
  {
    torch::NoGradGuard no_grad;  // eval + no grad: fused weights, packed attention kernel
    fast = encoder.model()->forward(packed);
  }
  reference = encoder.model()->forward(packed).detach();  // grad on: LibTorch ops, padded attention
  ASSERT_EQ(fast.sizes(), reference.sizes());
  EXPECT_LE((fast - reference).abs().max().item<double>(), 1e-5);
  // The packed rows equal HF's padded computation at the real tokens.
  auto [ids, mask] = encoder.pad(batch);
  const torch::Tensor grid = encoder.model()->forward(ids, mask).detach();
  for (std::int64_t b = 0; b < packed.batch; ++b) {
    const auto n = packed.lengths[static_cast<std::size_t>(b)], o = packed.offsets[static_cast<std::size_t>(b)];
    EXPECT_LE((grid[b].slice(0, 0, n) - fast.slice(0, o, o + n)).abs().max().item<double>(), 1e-5) << "row " << b;
  }
  EXPECT_LE((pool(fast, packed, "mean") - pool(grid, mask, "mean")).abs().max().item<double>(), 1e-5);
  EXPECT_LE((pool(fast, packed, "cls") - pool(grid, mask, "cls")).abs().max().item<double>(), 1e-5);
  EXPECT_LE((pool(fast, packed, "max") - pool(grid, mask, "max")).abs().max().item<double>(), 1e-5);
}

TEST(RobertaModel, InferenceWeightsFollowParameterUpdates) {
  RobertaEncoder encoder = small_encoder();
  const std::vector<std::string> texts = {"compiler", "a library for images"};
  const torch::Tensor before = encoder.encode(texts, {});
  {
    torch::NoGradGuard no_grad;  // as an optimizer step does: in place
    encoder.model()->encoder->layer[0]->as<LayerImpl>()->attention->self->value->weight.mul_(2.0);
  }
  const torch::Tensor after = encoder.encode(texts, {});
  EXPECT_GT((after - before).abs().max().item<double>(), 1e-4) << "the cached fused weights went stale";
  encoder.train(false);
  const torch::Tensor reference = encoder.forward(encoder.tokenize(texts)).detach();
  EXPECT_LE((after - reference).abs().max().item<double>(), 1e-5);
}

TEST(RobertaModel, Bf16InferenceStaysCloseToFp32) {
  RobertaEncoder fp32 = small_encoder();
  RobertaEncoder bf16 = small_encoder("dtype='bfloat16'\n");
  const torch::Tensor a = fp32.encode(kMixedTexts, {}), b = bf16.encode(kMixedTexts, {});
  const torch::Tensor cosine = torch::cosine_similarity(a, b, 1);
  EXPECT_GE(cosine.min().item<double>(), 0.999) << cosine;
}

TEST(RobertaModel, RefusesPickledCheckpointWithHowToConvert) {
  TempDir tmp;
  std::ofstream(tmp / "config.json") << R"({"model_type":"roberta","hidden_size":32,"num_attention_heads":4})";
  std::ofstream(tmp / "pytorch_model.bin") << "not really a pickle";
  try {
    weights_file(tmp.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("pytorch_model.bin"), std::string::npos) << m;
    EXPECT_NE(m.find("safe_serialization=True"), std::string::npos) << m;
  }
}

TEST(RobertaModel, ListsEveryMissingUnexpectedAndMisshapedTensor) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/model.safetensors");
  TempDir tmp;
  const SafetensorsFile source = SafetensorsFile::open(test::shared_data() / "tiny-roberta/model.safetensors");
  std::map<std::string, TensorView> tensors = source.tensors();
  tensors.erase("encoder.layer.1.output.dense.weight");
  tensors.erase("embeddings.LayerNorm.bias");
  tensors["encoder.layer.7.output.dense.weight"] = source.at("encoder.layer.1.output.dense.bias");
  TensorView wrong = source.at("encoder.layer.0.output.dense.bias");
  tensors["encoder.layer.0.attention.self.query.bias"] = wrong;  // 32 expected, also 32: keep shape right
  TensorView bad = source.at("encoder.layer.0.intermediate.dense.bias");  // [64] where [32] is expected
  tensors["encoder.layer.0.attention.self.key.bias"] = bad;
  write_safetensors(tmp / "model.safetensors", tensors);
  fs::copy_file(test::shared_data() / "tiny-roberta/config.json", tmp / "config.json");
  RobertaModel model(read_config(tmp / "config.json"));
  try {
    load_weights(model, tmp.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing (2)"), std::string::npos) << m;
    EXPECT_NE(m.find("encoder.layer.1.output.dense.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("embeddings.LayerNorm.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected (1): encoder.layer.7.output.dense.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("wrong shape (1): encoder.layer.0.attention.self.key.bias is [64]"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace sentbench::roberta
