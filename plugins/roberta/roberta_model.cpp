// RoBERTa forward pass on packed (unpadded) tokens. Two paths share the parameters and the layout:
// - training / grad: LibTorch ops only (autograd, autocast), Q/K/V as one GEMM, attention padded per
//   batch and written from matmul + softmax (LibTorch 1.13 has no scaled_dot_product_attention);
// - inference: weights fused and cached once (bf16 copies when asked), epilogues in place, attention
//   by the packed kernel (attention_kernel.cpp) without padding or per-head GEMM calls.
#include "roberta_model.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "attention_kernel.hpp"
#include "sentbench/autocast.hpp"
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

namespace {

// y = x·Wᵀ + b in oneDNN, for both paths. fp32 through mkldnn_linear (differentiable in LibTorch 1.13;
// BM_LinearStrategy at 2048×384→1536 on 2 LibTorch threads: 259–293 GFLOP/s against 164–172 for
// OpenBLAS at 2 threads; the layout copies in and out cost a few percent of that). bf16 (inference
// weights, or autocast in training) through addmm, which LibTorch sends to oneDNN's bf16 GEMM.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  if (x.scalar_type() == torch::kFloat32 && !at::autocast::is_cpu_enabled() && at::hasMKLDNN()) {
    if (w.scalar_type() == torch::kFloat32) return at::mkldnn_linear(x.to_mkldnn(), w, b).to_dense();
    // Inference with bf16 weights: fp32 activations cast on the way into oneDNN's layout and back out,
    // so the residual stream, LayerNorm, GELU and attention stay fp32 without separate cast passes.
    return at::mkldnn_linear(x.to_mkldnn(w.scalar_type()), w, b).to_dense(torch::kFloat32);
  }
  // Without oneDNN (not the case in Debian's LibTorch): bf16 inference weights take a bf16 copy of x.
  if (x.scalar_type() != w.scalar_type() && !at::autocast::is_cpu_enabled()) {
    return torch::addmm(b, x.to(w.scalar_type()), w.t()).to(x.scalar_type());
  }
  return torch::addmm(b, x, w.t());
}

}  // namespace

LayerImpl::LayerImpl(const RobertaConfig& c) : heads(c.num_attention_heads), eps(c.layer_norm_eps) {
  attention = register_module("attention", Attention(c));
  intermediate = register_module("intermediate", Intermediate(c));
  output = register_module("output", ResidualOutput(c.intermediate_size, c.hidden_size, c));
  attention_dropout = register_module("attention_dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
}

LayerWeights LayerImpl::weights() {
  SelfAttention sa = attention->self;
  return {torch::cat({sa->query->weight, sa->key->weight, sa->value->weight}),
          torch::cat({sa->query->bias, sa->key->bias, sa->value->bias}),
          attention->output->dense->weight, attention->output->dense->bias,
          attention->output->LayerNorm->weight, attention->output->LayerNorm->bias,
          intermediate->dense->weight, intermediate->dense->bias,
          output->dense->weight, output->dense->bias,
          output->LayerNorm->weight, output->LayerNorm->bias};
}

torch::Tensor LayerImpl::forward(const torch::Tensor& x, const PackedBatch& p) {
  const LayerWeights w = weights();
  const std::int64_t H = x.size(1), d = H / heads, B = p.batch, T = p.longest;
  const torch::Tensor qkv = linear(x, w.qkv_w, w.qkv_b);  // [N, 3H]
  // Attention needs the texts apart: scatter the packed rows into the padded grid (and back).
  const torch::Tensor grid =
      p.dense ? qkv : torch::zeros({B * T, 3 * H}, qkv.options()).index_copy(0, p.pad_index, qkv);
  const torch::Tensor g = grid.view({B, T, 3, heads, d});
  const torch::Tensor q = g.select(2, 0).permute({0, 2, 1, 3});
  const torch::Tensor k = g.select(2, 1).permute({0, 2, 3, 1});
  const torch::Tensor v = g.select(2, 2).permute({0, 2, 1, 3});
  torch::Tensor scores = torch::matmul(q, k).mul(1.0 / std::sqrt(static_cast<double>(d)));
  scores = scores + p.key_mask.to(scores.scalar_type());
  const torch::Tensor probs = attention_dropout(torch::softmax(scores, -1));
  torch::Tensor context = torch::matmul(probs, v).permute({0, 2, 1, 3}).reshape({B * T, H});
  if (!p.dense) context = context.index_select(0, p.pad_index);
  const torch::Tensor projected = attention->output->dropout(linear(context, w.o_w, w.o_b));
  const torch::Tensor attended = torch::layer_norm(projected + x, {H}, w.ln1_w, w.ln1_b, eps);
  const torch::Tensor expanded = torch::gelu(linear(attended, w.i_w, w.i_b));  // exact (erf) GELU
  const torch::Tensor out = output->dropout(linear(expanded, w.out_w, w.out_b));
  return torch::layer_norm(out + attended, {H}, w.ln2_w, w.ln2_b, eps);
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

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& positions) {
  // One token type: its embedding row is added to every token.
  return dropout(LayerNorm(word_embeddings(ids) + position_embeddings(positions) + token_type_embeddings->weight[0]));
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
  const PackedBatch grid = PackedBatch::from_padded(ids, attention_mask, config.pad_token_id);
  return forward(grid).view({ids.size(0), ids.size(1), config.hidden_size});
}

torch::Tensor RobertaModelImpl::forward(const PackedBatch& batch, bool bf16) {
  if (!is_training() && !at::GradMode::is_enabled() && !batch.dense && !at::autocast::is_cpu_enabled()) {
    return inference_forward(batch, bf16);
  }
  CpuAutocast autocast(bf16);
  torch::Tensor x = embeddings->forward(batch.ids, batch.positions);
  for (const auto& module : *encoder->layer) x = module->as<LayerImpl>()->forward(x, batch);
  return x;
}

const std::vector<LayerWeights>& RobertaModelImpl::inference_weights(bool bf16) {
  std::vector<std::pair<const void*, std::uint32_t>> stamp;
  for (const auto& p : parameters()) {
    stamp.emplace_back(p.data_ptr(), p.is_inference() ? 0u : p._version());
  }
  if (!cached_.empty() && stamp == cached_stamp_ && bf16 == cached_bf16_) return cached_;
  torch::NoGradGuard no_grad;
  cached_.clear();
  const auto low = bf16 ? torch::kBFloat16 : torch::kFloat32;
  for (const auto& module : *encoder->layer) {
    auto* layer = module->as<LayerImpl>();
    LayerWeights w = layer->weights();
    // Queries pre-scaled by 1/sqrt(head_dim): the attention kernel then needs no scaling pass.
    const double scale = 1.0 / std::sqrt(static_cast<double>(config.hidden_size / config.num_attention_heads));
    const std::int64_t H = config.hidden_size;
    w.qkv_w = w.qkv_w.detach().clone();
    w.qkv_b = w.qkv_b.detach().clone();
    w.qkv_w.narrow(0, 0, H).mul_(scale);
    w.qkv_b.narrow(0, 0, H).mul_(scale);
    // GEMM operands in the compute dtype, stored once instead of cast on every call; LayerNorm stays fp32.
    for (torch::Tensor* t : {&w.qkv_w, &w.qkv_b, &w.o_w, &w.o_b, &w.i_w, &w.i_b, &w.out_w, &w.out_b}) {
      *t = t->detach().to(low).contiguous();
    }
    for (torch::Tensor* t : {&w.ln1_w, &w.ln1_b, &w.ln2_w, &w.ln2_b}) *t = t->detach();
    cached_.push_back(std::move(w));
  }
  cached_stamp_ = std::move(stamp);
  cached_bf16_ = bf16;
  return cached_;
}

torch::Tensor RobertaModelImpl::inference_forward(const PackedBatch& p, bool bf16) {
  const std::vector<LayerWeights>& layers = inference_weights(bf16);
  const std::int64_t N = p.tokens(), H = config.hidden_size, heads = config.num_attention_heads;
  const double eps = config.layer_norm_eps;
  // The residual stream and LayerNorm stay fp32; GEMM inputs are cast to the compute dtype.
  torch::Tensor x = embeddings->forward(p.ids, p.positions);
  // oneDNN generates a GEMM kernel per distinct row count, and packed batches all differ: rows are
  // rounded up to a multiple of kRowBucket (zero rows no text owns) so batches of similar size share
  // their kernels (at most 127 extra rows, ~3% of a default batch).
  constexpr std::int64_t kRowBucket = 128;
  const std::int64_t rows = (N + kRowBucket - 1) / kRowBucket * kRowBucket;
  if (rows != N) x = torch::cat({x, torch::zeros({rows - N, H}, x.options())});
  torch::Tensor context = torch::zeros({rows, H}, torch::kFloat32);
  const std::int64_t* offsets = p.offsets.data();
  const std::int64_t* lengths = p.lengths.data();
  for (const LayerWeights& w : layers) {
    torch::Tensor qkv = linear(x, w.qkv_w, w.qkv_b);
    const float* qkv_data = qkv.data_ptr<float>();
    float* context_data = context.data_ptr<float>();
    at::parallel_for(0, p.batch, 1, [&](std::int64_t first, std::int64_t last) {
      packed_attention(qkv_data, context_data, offsets, lengths, first, last, H, heads);
    });
    x.add_(linear(context, w.o_w, w.o_b));
    torch::Tensor attended = torch::layer_norm(x, {H}, w.ln1_w, w.ln1_b, eps);
    if (at::hasMKLDNN()) {
      // The feed-forward block stays in oneDNN's layout (and dtype) from one GEMM to the next, GELU
      // (exact erf) included: the widest activation, [N, ffn], never goes through a layout copy.
      torch::Tensor expanded = at::mkldnn_linear(attended.to_mkldnn(w.i_w.scalar_type()), w.i_w, w.i_b);
      expanded = at::gelu(expanded);
      attended.add_(at::mkldnn_linear(expanded, w.out_w, w.out_b).to_dense(torch::kFloat32));
    } else {
      torch::Tensor expanded = linear(attended, w.i_w, w.i_b);
      at::gelu_(expanded);
      attended.add_(linear(expanded, w.out_w, w.out_b));
    }
    x = torch::layer_norm(attended, {H}, w.ln2_w, w.ln2_b, eps);
  }
  return rows == N ? x : x.narrow(0, 0, N);
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

torch::Tensor pool(const torch::Tensor& hidden, const PackedBatch& p, const std::string& mode) {
  if (p.dense) throw Error("roberta: pool(packed) needs a packed batch, not a padded grid");
  const std::int64_t B = p.batch, H = hidden.size(1);
  if (mode == "mean") {
    torch::Tensor counts = torch::tensor(p.lengths, torch::kLong).clamp_min(1).to(hidden.scalar_type()).unsqueeze(1);
    return torch::zeros({B, H}, hidden.options()).index_add(0, p.segments, hidden) / counts;
  }
  if (mode == "cls") {
    for (const std::int64_t n : p.lengths) {
      if (n == 0) throw Error("roberta: cls pooling of an empty text (the tokenizer always adds <s>)");
    }
    return hidden.index_select(0, torch::tensor(p.offsets, torch::kLong));
  }
  if (mode == "max") {
    return torch::full({B * p.longest, H}, -1e9, hidden.options())
        .index_copy(0, p.pad_index, hidden)
        .view({B, p.longest, H})
        .amax(1);
  }
  throw ConfigError("roberta: unknown pooling '" + mode + "' (expected mean, cls or max)");
}

PackedBatch PackedBatch::from_rows(const std::vector<std::vector<std::int32_t>>& rows, std::int64_t pad_id) {
  PackedBatch p;
  p.batch = static_cast<std::int64_t>(rows.size());
  std::int64_t n = 0;
  for (const auto& row : rows) {
    p.offsets.push_back(n);
    p.lengths.push_back(static_cast<std::int64_t>(row.size()));
    n += static_cast<std::int64_t>(row.size());
    p.longest = std::max(p.longest, static_cast<std::int64_t>(row.size()));
  }
  p.longest = std::max<std::int64_t>(p.longest, 1);
  p.ids = torch::empty({n}, torch::kLong);
  p.positions = torch::empty({n}, torch::kLong);
  p.pad_index = torch::empty({n}, torch::kLong);
  p.segments = torch::empty({n}, torch::kLong);
  p.key_mask = torch::zeros({p.batch, 1, 1, p.longest}, torch::kFloat32);
  auto* ids = p.ids.data_ptr<std::int64_t>();
  auto* positions = p.positions.data_ptr<std::int64_t>();
  auto* pad_index = p.pad_index.data_ptr<std::int64_t>();
  auto* segments = p.segments.data_ptr<std::int64_t>();
  auto* mask = p.key_mask.data_ptr<float>();
  for (std::int64_t b = 0; b < p.batch; ++b) {
    const auto& row = rows[static_cast<std::size_t>(b)];
    std::int64_t seen = 0;  // HF: positions count non-pad tokens from pad+1; a pad id keeps position pad
    for (std::size_t t = 0; t < row.size(); ++t) {
      const std::int64_t i = p.offsets[static_cast<std::size_t>(b)] + static_cast<std::int64_t>(t);
      ids[i] = row[t];
      positions[i] = row[t] == pad_id ? pad_id : pad_id + ++seen;
      pad_index[i] = b * p.longest + static_cast<std::int64_t>(t);
      segments[i] = b;
    }
    for (std::int64_t t = static_cast<std::int64_t>(row.size()); t < p.longest; ++t) {
      mask[b * p.longest + t] = std::numeric_limits<float>::lowest();
    }
  }
  return p;
}

PackedBatch PackedBatch::from_padded(const torch::Tensor& ids, const torch::Tensor& attention_mask, std::int64_t pad_id) {
  PackedBatch p;
  p.dense = true;
  p.batch = ids.size(0);
  p.longest = ids.size(1);
  p.ids = ids.reshape({-1}).to(torch::kLong);
  const torch::Tensor not_pad = ids.ne(pad_id).to(torch::kLong);
  p.positions = (torch::cumsum(not_pad, 1) * not_pad + pad_id).reshape({-1});
  p.pad_index = torch::arange(p.batch * p.longest, torch::kLong);
  p.segments = torch::arange(p.batch, torch::kLong).repeat_interleave(p.longest);
  // 0 where attended, the dtype's lowest value at padding (as HF's extended mask).
  p.key_mask = (1.0 - attention_mask.to(torch::kFloat32)).mul(std::numeric_limits<float>::lowest())
                   .view({p.batch, 1, 1, p.longest});
  for (std::int64_t b = 0; b < p.batch; ++b) {
    p.offsets.push_back(b * p.longest);
    p.lengths.push_back(p.longest);
  }
  return p;
}

}  // namespace sentbench::roberta
