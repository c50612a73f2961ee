// RoBERTa forward pass. Attention is written from matmul + softmax: LibTorch 1.13 has no public
// scaled_dot_product_attention.
#include "roberta_model.hpp"

#include <cmath>
#include <limits>

#include "sentbench/errors.hpp"

namespace sentbench::roberta {

namespace F = torch::nn::functional;

SelfAttentionImpl::SelfAttentionImpl(const RobertaConfig& c) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

ResidualOutputImpl::ResidualOutputImpl(std::int64_t in, std::int64_t out, const RobertaConfig& c) {
  dense = register_module("dense", torch::nn::Linear(in, out));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor ResidualOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return LayerNorm(dropout(dense(x)) + residual);
}

AttentionImpl::AttentionImpl(const RobertaConfig& c) {
  self = register_module("self", SelfAttention(c));
  output = register_module("output", ResidualOutput(c.hidden_size, c.hidden_size, c));
}

IntermediateImpl::IntermediateImpl(const RobertaConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

LayerImpl::LayerImpl(const RobertaConfig& c) : heads(c.num_attention_heads) {
  attention = register_module("attention", Attention(c));
  intermediate = register_module("intermediate", Intermediate(c));
  output = register_module("output", ResidualOutput(c.intermediate_size, c.hidden_size, c));
  attention_dropout = register_module("attention_dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
}

torch::Tensor LayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  const auto B = x.size(0), T = x.size(1), H = x.size(2), d = H / heads;
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, d}).transpose(1, 2); };
  SelfAttention sa = attention->self;
  const torch::Tensor q = split(sa->query(x)), k = split(sa->key(x)), v = split(sa->value(x));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
  scores = scores + additive_mask.to(scores.scalar_type());
  const torch::Tensor probs = attention_dropout(torch::softmax(scores, -1));
  const torch::Tensor context = torch::matmul(probs, v).transpose(1, 2).reshape({B, T, H});
  const torch::Tensor attended = attention->output(context, x);
  const torch::Tensor expanded = F::gelu(intermediate->dense(attended));  // exact (erf) GELU, as HF "gelu"
  return output(expanded, attended);
}

EmbeddingsImpl::EmbeddingsImpl(const RobertaConfig& c) : pad(c.pad_token_id) {
  word_embeddings = register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(pad)));
  position_embeddings = register_module(
      "position_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.max_position_embeddings, c.hidden_size).padding_idx(pad)));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& ids) {
  // Positions count non-pad tokens from pad+1, as HF's create_position_ids_from_input_ids.
  const torch::Tensor not_pad = ids.ne(pad).to(torch::kLong);
  const torch::Tensor positions = torch::cumsum(not_pad, 1) * not_pad + pad;
  const torch::Tensor types = torch::zeros_like(ids);
  return dropout(LayerNorm(word_embeddings(ids) + position_embeddings(positions) + token_type_embeddings(types)));
}

EncoderStackImpl::EncoderStackImpl(const RobertaConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(Layer(c));
}

RobertaModelImpl::RobertaModelImpl(const RobertaConfig& c) : config(c) {
  if (c.hidden_size % c.num_attention_heads != 0) {
    throw ConfigError("roberta: hidden size " + std::to_string(c.hidden_size) + " is not a multiple of the " +
                      std::to_string(c.num_attention_heads) + " attention heads");
  }
  if (c.hidden_act != "gelu") {
    throw ConfigError("roberta: hidden_act '" + c.hidden_act + "' is not supported (only the exact erf \"gelu\")");
  }
  embeddings = register_module("embeddings", Embeddings(c));
  encoder = register_module("encoder", EncoderStack(c));
}

torch::Tensor RobertaModelImpl::forward(const torch::Tensor& ids, const torch::Tensor& attention_mask) {
  torch::Tensor x = embeddings(ids);
  // Additive mask: 0 where attended, the dtype's lowest value at padding (as HF's extended mask).
  const torch::Tensor additive =
      (1.0 - attention_mask.to(x.scalar_type())).mul(std::numeric_limits<float>::lowest()).view(
          {ids.size(0), 1, 1, ids.size(1)});
  for (const auto& module : *encoder->layer) x = module->as<LayerImpl>()->forward(x, additive);
  return x;
}

void RobertaModelImpl::reset_parameters(std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.find("LayerNorm.weight") != std::string::npos) {
      p.fill_(1.0);
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      p.normal_(0.0, config.initializer_range);
    }
  }
  embeddings->word_embeddings->weight[config.pad_token_id].zero_();
  embeddings->position_embeddings->weight[config.pad_token_id].zero_();
}

torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask, const std::string& mode) {
  const torch::Tensor mask = attention_mask.unsqueeze(-1).to(hidden.scalar_type());
  if (mode == "mean") {
    return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
  }
  if (mode == "cls") return hidden.select(1, 0);
  if (mode == "max") {
    // Padding gets a large negative so it never wins (as sentence-transformers does).
    return hidden.masked_fill(mask.eq(0), -1e9).amax(1);
  }
  throw ConfigError("roberta: unknown pooling '" + mode + "' (expected mean, cls or max)");
}

}  // namespace sentbench::roberta
