// Packed attention for inference. Every loop runs over contiguous memory without a reduction in its
// innermost dimension, so GCC vectorises it (built with -O3; one clone per ISA, picked at load time).
// Per (text, head): Kᵀ is copied once into a [d, L] scratch, each query row's scores are built as
// axpys over Kᵀ rows, softmaxed with a polynomial exp, and the context row accumulated as axpys over V.
// Compared with LibTorch's padded bmm/softmax path this avoids padding, the additive mask, the
// permute copies and ~L·heads tiny GEMM calls per layer (which dominate at sentence lengths).
#include "attention_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace sentbench::roberta {

namespace {

// e^x for x <= 0 (scores minus their row maximum): 2^(x·log2 e) split into an integer power built in
// the exponent bits and a degree-6 polynomial for the fraction. Relative error below 2e-7, branch-free,
// so the softmax loop vectorises (std::exp does not without -ffast-math).
inline float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);
  const float t = x * 1.44269504088896341f;
  const float fi = std::floor(t);
  const float f = t - fi;
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(fi) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void attend_text(
    const float* __restrict qkv, float* __restrict context, std::int64_t length, std::int64_t hidden,
    std::int64_t heads, float* __restrict kt, float* __restrict scores) {
  const std::int64_t d = hidden / heads, stride = 3 * hidden, L = length;
  for (std::int64_t h = 0; h < heads; ++h) {
    const float* q = qkv + h * d;
    const float* k = qkv + hidden + h * d;
    const float* v = qkv + 2 * hidden + h * d;
    for (std::int64_t j = 0; j < L; ++j) {
      for (std::int64_t c = 0; c < d; ++c) kt[c * L + j] = k[j * stride + c];
    }
    for (std::int64_t i = 0; i < L; ++i) {
      const float* qi = q + i * stride;
      for (std::int64_t j = 0; j < L; ++j) scores[j] = 0.0f;
      for (std::int64_t c = 0; c < d; ++c) {
        const float qc = qi[c];
        const float* kc = kt + c * L;
        for (std::int64_t j = 0; j < L; ++j) scores[j] += qc * kc[j];
      }
      float m = scores[0];
      for (std::int64_t j = 1; j < L; ++j) m = std::max(m, scores[j]);
      float sum = 0.0f;
      for (std::int64_t j = 0; j < L; ++j) {
        scores[j] = exp_nonpositive(scores[j] - m);
        sum += scores[j];
      }
      const float inv = 1.0f / sum;
      float* out = context + i * hidden + h * d;
      for (std::int64_t c = 0; c < d; ++c) out[c] = 0.0f;
      for (std::int64_t j = 0; j < L; ++j) {
        const float p = scores[j] * inv;
        const float* vj = v + j * stride;
        for (std::int64_t c = 0; c < d; ++c) out[c] += p * vj[c];
      }
    }
  }
}

}  // namespace

void packed_attention(const float* qkv, float* context, const std::int64_t* offsets, const std::int64_t* lengths,
                      std::int64_t first, std::int64_t last, std::int64_t hidden, std::int64_t heads) {
  thread_local std::vector<float> kt, scores;
  const std::int64_t d = hidden / heads;
  for (std::int64_t b = first; b < last; ++b) {
    const std::int64_t L = lengths[b];
    if (L <= 0) continue;
    if (kt.size() < static_cast<std::size_t>(d * L)) kt.resize(static_cast<std::size_t>(d * L));
    if (scores.size() < static_cast<std::size_t>(L)) scores.resize(static_cast<std::size_t>(L));
    attend_text(qkv + offsets[b] * 3 * hidden, context + offsets[b] * hidden, L, hidden, heads, kt.data(),
                scores.data());
  }
}

}  // namespace sentbench::roberta
