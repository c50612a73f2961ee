// A bag-of-words encoder for tests of the evaluation side: one trainable matrix, a text's vector is the
// mean of its words' rows. Records the modes it is switched to and whether grad was on in forward().
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sentbench/encoder.hpp"

namespace sentbench::test {

class BagEncoder : public Encoder {
 public:
  static constexpr std::int64_t kVocab = 97, kDim = 8;
  BagEncoder() : weights_(torch::randn({kVocab, kDim}, torch::TensorOptions().requires_grad(true))) {}
  EncoderInfo info() const override { return {"bag", "test", kDim, 64, "mean", false, kVocab * kDim}; }
  TokenBatch tokenize(const std::vector<std::string>& texts) const override {
    TokenBatch b;
    for (const std::string& t : texts) {
      std::vector<std::int32_t> ids;
      std::size_t start = 0;
      while (start <= t.size()) {
        const std::size_t end = std::min(t.find(' ', start), t.size());
        if (end > start) ids.push_back(static_cast<std::int32_t>(std::hash<std::string>{}(t.substr(start, end - start)) % kVocab));
        start = end + 1;
      }
      if (ids.empty()) ids.push_back(0);
      b.ids.push_back(std::move(ids));
    }
    return b;
  }
  at::Tensor forward(const TokenBatch& batch) override {
    grad_in_forward = grad_in_forward || torch::GradMode::is_enabled();
    std::vector<at::Tensor> rows;
    for (const auto& ids : batch.ids) {
      rows.push_back(weights_.index_select(0, torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()))).mean(0));
    }
    return torch::stack(rows);
  }
  std::vector<at::Tensor> parameters() override { return {weights_}; }
  void train(bool on) override {
    training = on;
    modes.push_back(on);
  }
  void save(const std::filesystem::path&) const override {}

  at::Tensor weights_;
  bool training = true;
  bool grad_in_forward = false;
  std::vector<bool> modes;
};

}  // namespace sentbench::test
