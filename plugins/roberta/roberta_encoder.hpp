// RobertaEncoder: the `roberta` encoder backend — BPE tokenizer + RoBERTa network + pooling.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "sentbench/bpe_tokenizer.hpp"
#include "roberta_model.hpp"
#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/plugin.hpp"
#include "sentbench/token_encoder.hpp"

namespace sentbench::roberta {

// The keys of the [encoder] section this plugin reads (declared for `sentbench validate`).
extern const KeySpec kEncoderKeys[];
extern const std::size_t kEncoderKeyCount;

// Tokens per inference batch by default. Batches are packed (no padding), so the budget only trades
// GEMM size against cache reuse: see README "Performance notes" for the measurement behind it.
constexpr std::int64_t kDefaultBatchTokens = 8192;

struct ModelHead;

// Loads a Hugging Face / sentence-transformers folder (`model = DIR`) or builds a randomly initialised
// model from `[encoder.init]` and a tokenizer folder, and encodes texts with it. Also a TokenEncoder:
// token states and the tied word embeddings for masked-LM pre-training, and masked-LM folders out.
class RobertaEncoder : public Encoder, public TokenEncoder {
 public:
  explicit RobertaEncoder(const Config& config);

  EncoderInfo info() const override;
  TokenBatch tokenize(const std::vector<std::string>& texts) const override;
  at::Tensor forward(const TokenBatch& batch) override;
  std::int64_t default_batch_tokens() const override { return batch_tokens_; }
  std::vector<at::Tensor> parameters() override;
  void train(bool on) override;
  void save(const std::filesystem::path& dir) const override;
  std::unique_ptr<Encoder> random_init(std::uint64_t seed) const override;

  // TokenEncoder
  at::Tensor token_states(const TokenBatch& batch) override;
  at::Tensor word_embeddings() override;
  SpecialTokens special_tokens() const override;
  void save_with_head(const std::filesystem::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& head,
                      const std::string& prefix, const std::string& architecture) const override;

  RobertaModel& model() { return model_; }
  const BpeTokenizer& tokenizer() const { return *tokenizer_; }
  // Pads a batch into ids [B, T] and attention mask [B, T] (T = longest row).
  std::pair<torch::Tensor, torch::Tensor> pad(const TokenBatch& batch) const;

 private:
  RobertaEncoder() = default;
  // save() and save_with_head(): the model files with `head`, then the tokenizer files, atomically.
  void write_folder(const std::filesystem::path& dir, const ModelHead& head) const;
  std::shared_ptr<const BpeTokenizer> tokenizer_;
  RobertaModel model_{nullptr};
  std::string source_;  // folder loaded from, or "random-init"
  std::string pooling_ = "mean";
  bool normalize_ = false;
  std::int64_t max_seq_length_ = 128;
  bool bf16_ = false;
  std::int64_t batch_tokens_ = kDefaultBatchTokens;
};

}  // namespace sentbench::roberta
