// The RoBERTa encoder network on LibTorch, with Hugging Face RobertaModel semantics and parameter names.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace sentbench::roberta {

// The fields of a Hugging Face config.json that shape the network.
struct RobertaConfig {
  std::int64_t vocab_size = 50265;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::int64_t max_position_embeddings = 514;
  std::int64_t type_vocab_size = 1;
  std::int64_t pad_token_id = 1;
  std::int64_t bos_token_id = 0;
  std::int64_t eos_token_id = 2;
  double layer_norm_eps = 1e-5;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  double initializer_range = 0.02;
  std::string hidden_act = "gelu";
};

// Self-attention projections, registered as query/key/value like HF's RobertaSelfAttention.
struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(const RobertaConfig& c);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
};
TORCH_MODULE(SelfAttention);

// A projection followed by dropout, residual add and LayerNorm (HF's *Output blocks).
struct ResidualOutputImpl : torch::nn::Module {
  ResidualOutputImpl(std::int64_t in, std::int64_t out, const RobertaConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(ResidualOutput);

// The attention block: "self" projections and the "output" residual block.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(const RobertaConfig& c);
  SelfAttention self{nullptr};
  ResidualOutput output{nullptr};
};
TORCH_MODULE(Attention);

// The feed-forward expansion ("intermediate.dense").
struct IntermediateImpl : torch::nn::Module {
  IntermediateImpl(const RobertaConfig& c);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(Intermediate);

// One transformer layer: attention, then the feed-forward block.
struct LayerImpl : torch::nn::Module {
  LayerImpl(const RobertaConfig& c);
  // x [B, T, H]; additive_mask [B, 1, 1, T] with 0 for tokens and a large negative for padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  Attention attention{nullptr};
  Intermediate intermediate{nullptr};
  ResidualOutput output{nullptr};
  std::int64_t heads;
  torch::nn::Dropout attention_dropout{nullptr};
};
TORCH_MODULE(Layer);

// Word + position + token-type embeddings, LayerNorm and dropout.
struct EmbeddingsImpl : torch::nn::Module {
  EmbeddingsImpl(const RobertaConfig& c);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  std::int64_t pad;
};
TORCH_MODULE(Embeddings);

// The encoder stack ("encoder.layer.N").
struct EncoderStackImpl : torch::nn::Module {
  EncoderStackImpl(const RobertaConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(EncoderStack);

// RobertaModel without the pooler: named_parameters() are exactly HF's RobertaModel keys.
struct RobertaModelImpl : torch::nn::Module {
  explicit RobertaModelImpl(const RobertaConfig& c);
  // ids [B, T] padded with pad_token_id; attention_mask [B, T] (1 token, 0 padding) → [B, T, H].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask);
  // N(0, initializer_range) weights, zero biases, unit LayerNorms, zero padding embedding (as HF).
  void reset_parameters(std::uint64_t seed);
  RobertaConfig config;
  Embeddings embeddings{nullptr};
  EncoderStack encoder{nullptr};
};
TORCH_MODULE(RobertaModel);

// Sentence embedding from token states: "mean" (masked), "cls" (first token) or "max" (masked).
torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask, const std::string& mode);

}  // namespace sentbench::roberta
