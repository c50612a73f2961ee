// Embedding cache: an unchanged model is not re-encoded. Entries are safetensors files named by a key
// that covers the model content, the exact texts and the encode settings.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <torch/types.h>

namespace sentbench {

// Folder-backed cache of [n, dim] float32 tensors; writes are atomic, corrupt entries are ignored.
class EmbeddingCache {
 public:
  // dir empty: $SENTBENCH_CACHE, else $XDG_CACHE_HOME/sentbench/embeddings, else ~/.cache/sentbench/embeddings.
  explicit EmbeddingCache(std::filesystem::path dir = {});
  std::optional<at::Tensor> get(const std::string& key) const;
  void put(const std::string& key, const at::Tensor& embeddings) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// Content hash of an encoder's parameters and description (what changes when the model does).
class Encoder;
std::string model_key(Encoder& encoder);

}  // namespace sentbench
