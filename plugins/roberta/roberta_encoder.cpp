// The roberta encoder: configuration, padding, pooling, bf16 autocast and saving.
#include "roberta_encoder.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hf_folder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/threads.hpp"

namespace fs = std::filesystem;

namespace sentbench::roberta {

const KeySpec kEncoderKeys[] = {
    {"plugin", ValueType::kString, true, "\"roberta\""},
    {"model", ValueType::kPath, false, "Hugging Face / sentence-transformers folder to load"},
    {"tokenizer", ValueType::kPath, false, "folder with vocab.json + merges.txt (or tokenizer.json) for init"},
    {"init.hidden", ValueType::kInteger, false, "random init: hidden size"},
    {"init.layers", ValueType::kInteger, false, "random init: number of layers"},
    {"init.heads", ValueType::kInteger, false, "random init: attention heads"},
    {"init.ffn", ValueType::kInteger, false, "random init: feed-forward size (default 4 × hidden)"},
    {"init.dropout", ValueType::kFloat, false, "random init: hidden and attention dropout (default 0.1)"},
    {"init.seed", ValueType::kInteger, false, "random init: seed of the N(0, 0.02) weights (default 42)"},
    {"max_seq_length", ValueType::kInteger, false, "tokens per text, <s> and </s> included"},
    {"pooling", ValueType::kString, false, "mean | cls | max (default: the folder's, else mean)"},
    {"normalize", ValueType::kBoolean, false, "L2-normalise embeddings (default: the folder's, else false)"},
    {"dtype", ValueType::kString, false, "float32 | bfloat16 (bf16 autocast for matmuls)"},
    {"batch_tokens", ValueType::kInteger, false, "tokens per inference batch (default 8192; batches are packed, not padded)"},
};
const std::size_t kEncoderKeyCount = sizeof(kEncoderKeys) / sizeof(kEncoderKeys[0]);

RobertaEncoder::RobertaEncoder(const Config& config) {
  SentenceSettings settings;
  if (config.contains("model")) {
    const fs::path dir = config.get_path("model");
    if (!fs::is_directory(dir)) config.fail("model", fmt::format("model folder {} does not exist", dir.string()));
    if (!fs::exists(dir / "config.json")) config.fail("model", fmt::format("{} has no config.json", dir.string()));
    const RobertaConfig rc = read_config(dir / "config.json");
    model_ = RobertaModel(rc);
    load_weights(model_, dir);
    tokenizer_ = std::make_shared<BpeTokenizer>(BpeTokenizer::from_folder(config.get_path("tokenizer", dir)));
    settings = read_sentence_settings(dir);
    source_ = dir.string();
    max_seq_length_ = settings.max_seq_length.value_or(rc.max_position_embeddings - rc.pad_token_id - 1);
  } else if (config.contains("init")) {
    if (!config.contains("tokenizer")) config.fail("tokenizer", "random init needs a tokenizer folder (vocab.json + merges.txt)");
    tokenizer_ = std::make_shared<BpeTokenizer>(BpeTokenizer::from_folder(config.get_path("tokenizer")));
    const Config init = config.table("init");
    RobertaConfig rc;
    rc.vocab_size = static_cast<std::int64_t>(tokenizer_->vocab_size());
    rc.hidden_size = init.get_int("hidden");
    rc.num_hidden_layers = init.get_int("layers");
    rc.num_attention_heads = init.get_int("heads");
    rc.intermediate_size = init.get_int("ffn", 4 * rc.hidden_size);
    rc.hidden_dropout_prob = rc.attention_probs_dropout_prob = init.get_double("dropout", 0.1);
    rc.pad_token_id = tokenizer_->pad_id();
    rc.bos_token_id = tokenizer_->bos_id();
    rc.eos_token_id = tokenizer_->eos_id();
    max_seq_length_ = config.get_int("max_seq_length", 128);
    rc.max_position_embeddings = max_seq_length_ + rc.pad_token_id + 1;
    model_ = RobertaModel(rc);
    model_->reset_parameters(static_cast<std::uint64_t>(init.get_int("seed", 42)));
    source_ = "random-init";
  } else {
    config.fail("", "set either `model = \"DIR\"` (a Hugging Face folder) or an [encoder.init] table for random init");
  }
  if (tokenizer_->pad_id() < 0 || tokenizer_->bos_id() < 0 || tokenizer_->eos_id() < 0) {
    config.fail("tokenizer", "the tokenizer vocabulary lacks <s>, </s> or <pad>");
  }
  max_seq_length_ = config.get_int("max_seq_length", max_seq_length_);
  const std::int64_t limit = model_->config.max_position_embeddings - model_->config.pad_token_id - 1;
  if (max_seq_length_ < 2 || max_seq_length_ > limit) {
    config.fail("max_seq_length", fmt::format("must be between 2 and {} (the model's position embeddings)", limit));
  }
  pooling_ = config.get_string("pooling", settings.pooling.value_or("mean"));
  if (pooling_ != "mean" && pooling_ != "cls" && pooling_ != "max") config.fail("pooling", "expected mean, cls or max");
  normalize_ = config.get_bool("normalize", settings.normalize.value_or(false));
  const std::string dtype = config.get_string("dtype", "float32");
  if (dtype != "float32" && dtype != "bfloat16") config.fail("dtype", "expected float32 or bfloat16");
  bf16_ = dtype == "bfloat16";
  batch_tokens_ = config.get_int("batch_tokens", batch_tokens_);
}

EncoderInfo RobertaEncoder::info() const {
  EncoderInfo i;
  i.name = "roberta";
  i.model = source_;
  i.dim = model_->config.hidden_size;
  i.max_tokens = max_seq_length_;
  i.pooling = pooling_;
  i.normalize = normalize_;
  for (const auto& p : model_->parameters()) i.parameters += p.numel();
  return i;
}

TokenBatch RobertaEncoder::tokenize(const std::vector<std::string>& texts) const {
  TokenBatch batch;
  batch.ids.reserve(texts.size());
  for (const auto& t : texts) batch.ids.push_back(tokenizer_->encode(t, static_cast<int>(max_seq_length_)));
  return batch;
}

std::pair<torch::Tensor, torch::Tensor> RobertaEncoder::pad(const TokenBatch& batch) const {
  const auto B = static_cast<std::int64_t>(batch.size());
  const auto T = static_cast<std::int64_t>(std::max<std::size_t>(1, batch.max_length()));
  torch::Tensor ids = torch::full({B, T}, model_->config.pad_token_id, torch::kLong);
  torch::Tensor mask = torch::zeros({B, T}, torch::kLong);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& row = batch.ids[static_cast<std::size_t>(b)];
    for (std::size_t t = 0; t < row.size(); ++t) {
      ids_a[b][static_cast<std::int64_t>(t)] = row[t];
      mask_a[b][static_cast<std::int64_t>(t)] = 1;
    }
  }
  return {ids, mask};
}

at::Tensor RobertaEncoder::forward(const TokenBatch& batch) {
  // The GEMMs run in oneDNN in both dtypes (roberta_model.cpp): every core to LibTorch's pool. A no-op
  // when the caller (the training loop, encode()) already set it.
  ComputeThreads threads(Work::kOneDnn);
  // Packed: no padding anywhere but inside the training path's attention.
  const PackedBatch packed = PackedBatch::from_rows(batch.ids, model_->config.pad_token_id);
  torch::Tensor pooled = pool(model_->forward(packed, bf16_), packed, pooling_).to(torch::kFloat32);
  if (normalize_) {
    pooled = torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().dim(1));
  }
  return pooled;
}

std::unique_ptr<Encoder> RobertaEncoder::random_init(std::uint64_t seed) const {
  std::unique_ptr<RobertaEncoder> copy(new RobertaEncoder());
  copy->tokenizer_ = tokenizer_;
  copy->model_ = RobertaModel(model_->config);
  copy->model_->reset_parameters(seed);
  copy->source_ = "random-init";
  copy->pooling_ = pooling_;
  copy->normalize_ = normalize_;
  copy->max_seq_length_ = max_seq_length_;
  copy->bf16_ = bf16_;
  copy->batch_tokens_ = batch_tokens_;
  return copy;
}

at::Tensor RobertaEncoder::token_states(const TokenBatch& batch) {
  ComputeThreads threads(Work::kOneDnn);  // as forward()
  // The packed rows are the texts end to end, which is the layout token_states promises.
  return model_->forward(PackedBatch::from_rows(batch.ids, model_->config.pad_token_id), bf16_);
}

at::Tensor RobertaEncoder::word_embeddings() { return model_->embeddings->word_embeddings->weight; }

SpecialTokens RobertaEncoder::special_tokens() const {
  SpecialTokens s;
  s.pad = tokenizer_->pad_id();
  s.bos = tokenizer_->bos_id();
  s.eos = tokenizer_->eos_id();
  s.unk = tokenizer_->unk_id();
  s.mask = tokenizer_->mask_id();
  s.vocab_size = model_->config.vocab_size;
  return s;
}

std::vector<at::Tensor> RobertaEncoder::parameters() { return model_->parameters(); }

void RobertaEncoder::train(bool on) { model_->train(on); }

void RobertaEncoder::save(const fs::path& dir) const { write_folder(dir, ModelHead{}); }

void RobertaEncoder::save_with_head(const fs::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& head,
                                    const std::string& prefix, const std::string& architecture) const {
  write_folder(dir, ModelHead{prefix, architecture, head});
}

void RobertaEncoder::write_folder(const fs::path& dir, const ModelHead& head) const {
  write_dir_atomic(dir, [&](const fs::path& tmp) {
    save_model_files(model_, tmp, pooling_, normalize_, max_seq_length_, head);
    tokenizer_->save(tmp);
    const nlohmann::json tokenizer_config = {
        {"tokenizer_class", "RobertaTokenizer"}, {"model_max_length", max_seq_length_},
        {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"sep_token", "</s>"}, {"cls_token", "<s>"},
        {"unk_token", "<unk>"}, {"pad_token", "<pad>"}, {"mask_token", "<mask>"},
        {"add_prefix_space", false}, {"errors", "replace"}, {"do_lower_case", false}};
    write_file_atomic(tmp / "tokenizer_config.json", tokenizer_config.dump(2) + "\n");
    const nlohmann::json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"sep_token", "</s>"},
                                    {"cls_token", "<s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"},
                                    {"mask_token", "<mask>"}};
    write_file_atomic(tmp / "special_tokens_map.json", special.dump(2) + "\n");
  });
}

}  // namespace sentbench::roberta
