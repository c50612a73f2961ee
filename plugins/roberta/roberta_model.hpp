// The RoBERTa encoder network on LibTorch, with Hugging Face RobertaModel semantics and parameter names.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// Texts laid end to end without padding: what the forward pass runs on. Linear layers, LayerNorm and
// GELU see [N, H] with N the real token count; only attention needs the texts apart.
struct PackedBatch {
  torch::Tensor ids;        // [N] int64
  torch::Tensor positions;  // [N] int64, HF's: non-pad tokens count from pad+1, pads sit at pad
  torch::Tensor pad_index;  // [N] int64: each token's slot b·T + t in the padded [B, T] grid
  torch::Tensor segments;   // [N] int64: each token's text
  torch::Tensor key_mask;   // [B, 1, 1, T] float: 0 for tokens, lowest() for padding (padded attention)
  std::vector<std::int64_t> lengths, offsets;  // per text
  std::int64_t batch = 0, longest = 0;
  bool dense = false;  // rows are the padded grid itself (N = B·T, pads included, as HF computes them)

  // Packs unpadded id rows (empty rows count as length 0 and pool to zero).
  static PackedBatch from_rows(const std::vector<std::vector<std::int32_t>>& rows, std::int64_t pad_id);
  // The padded grid as it is (pads included): HF semantics for callers holding [B, T] ids and a mask.
  static PackedBatch from_padded(const torch::Tensor& ids, const torch::Tensor& attention_mask, std::int64_t pad_id);
  std::int64_t tokens() const { return ids.size(0); }
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

// A layer's weights as the forward pass uses them: Q, K and V fused into one [3H, H] projection.
struct LayerWeights {
  torch::Tensor qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, out_w, out_b, ln2_w, ln2_b;
};

// One transformer layer: attention, then the feed-forward block.
struct LayerImpl : torch::nn::Module {
  LayerImpl(const RobertaConfig& c);
  // x [N, H] (packed rows of `batch`) → [N, H]. Autograd-capable: LibTorch ops only, padded attention.
  torch::Tensor forward(const torch::Tensor& x, const PackedBatch& batch);
  // The parameters in LayerWeights form (Q, K, V concatenated, so gradients flow to the modules).
  LayerWeights weights();
  Attention attention{nullptr};
  Intermediate intermediate{nullptr};
  ResidualOutput output{nullptr};
  std::int64_t heads;
  double eps;
  torch::nn::Dropout attention_dropout{nullptr};
};
TORCH_MODULE(Layer);

// Word + position + token-type embeddings, LayerNorm and dropout.
struct EmbeddingsImpl : torch::nn::Module {
  EmbeddingsImpl(const RobertaConfig& c);
  // Packed ids and positions [N] → [N, H].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& positions);
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
  // Packed tokens → [N, H] (float32, or bfloat16 when `bf16` and inference). In training mode or with
  // grad enabled: LibTorch ops (autograd, autocast). Otherwise the inference path: fused weights cached
  // once (bf16 copies when asked), in-place epilogues and the packed attention kernel.
  torch::Tensor forward(const PackedBatch& batch, bool bf16 = false);
  // N(0, initializer_range) weights, zero biases, unit LayerNorms, zero padding embedding (as HF).
  void reset_parameters(std::uint64_t seed);
  RobertaConfig config;
  Embeddings embeddings{nullptr};
  EncoderStack encoder{nullptr};

 private:
  torch::Tensor inference_forward(const PackedBatch& batch, bool bf16);
  // Inference weights, rebuilt when any parameter changed (tensor version counters) or the dtype did.
  const std::vector<LayerWeights>& inference_weights(bool bf16);
  std::vector<LayerWeights> cached_;
  std::vector<std::pair<const void*, std::uint32_t>> cached_stamp_;
  bool cached_bf16_ = false;
};
TORCH_MODULE(RobertaModel);

// Sentence embedding from token states: "mean" (masked), "cls" (first token) or "max" (masked).
torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask, const std::string& mode);
// The same from packed states [N, H] → [B, H] (autograd-capable).
torch::Tensor pool(const torch::Tensor& hidden, const PackedBatch& batch, const std::string& mode);

}  // namespace sentbench::roberta
