// Encoder: the interface every encoder backend plugin implements — texts in, vectors out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "sentbench/export.hpp"
#include "sentbench/plugin.hpp"

namespace sentbench {

// What an encoder is, for reports and for callers that size their work.
struct EncoderInfo {
  std::string name;          // plugin name, e.g. "roberta"
  std::string model;         // model id or folder it was loaded from, or "random-init"
  std::int64_t dim = 0;      // embedding dimension
  std::int64_t max_tokens = 0;  // sequences are cut at this many tokens (specials included)
  std::string pooling;       // "mean", "cls", "max", ...
  bool normalize = false;    // L2-normalised output
  std::int64_t parameters = 0;
};

// Tokenized texts, unpadded: one id row per text. Cheap to build on a worker thread.
struct TokenBatch {
  std::vector<std::vector<std::int32_t>> ids;
  std::size_t size() const { return ids.size(); }
  std::size_t tokens() const;  // sum of lengths
  std::size_t max_length() const;
  // Row indices by length, longest first; rows of equal length keep their order (what batching sorts by).
  std::vector<std::size_t> longest_first() const;
};

// Knobs of inference-time encoding.
struct EncodeOptions {
  std::int64_t batch_tokens = 0;  // padded tokens per forward batch (length-sorted); 0 = the encoder's default_batch_tokens()
  std::int64_t threads = 0;           // intra-op threads; 0 keeps the process setting
  bool show_progress = false;
  std::string label = "encode";       // progress label
};

// The default batching of Encoder::encode, shared with `sentbench bench encode` so both cut the same
// batches: given token lengths sorted longest first, the [begin, end) ranges of consecutive rows that
// form each batch. A batch's first row fixes its padded length T; rows fill `batch_tokens` padded tokens
// but are also capped at rows·T² ≤ batch_tokens·128 (attention memory grows with T²; at T = 128 both
// limits agree). Every batch has at least one row; empty input gives no batches.
SENTBENCH_API std::vector<std::pair<std::size_t, std::size_t>> plan_batches(
    const std::vector<std::size_t>& sorted_lengths, std::int64_t batch_tokens);

// Turns texts into vectors. Implementations must make tokenize() thread-safe.
class SENTBENCH_API Encoder : public PluginObject {
 public:
  ~Encoder() override;
  // Describes the model (dim, pooling, parameter count, ...).
  virtual EncoderInfo info() const = 0;
  // Texts to token ids, truncated to max_tokens; thread-safe.
  virtual TokenBatch tokenize(const std::vector<std::string>& texts) const = 0;
  // Embeddings [n, dim] for a batch; respects the caller's grad mode so a recipe trains through it.
  virtual at::Tensor forward(const TokenBatch& batch) = 0;
  // Inference: no grad, length-sorted batches, original order restored; float32 CPU [n, dim].
  virtual at::Tensor encode(const std::vector<std::string>& texts, const EncodeOptions& options);
  // Trainable parameters, in a stable order (optimizer and checkpoint state follow it).
  virtual std::vector<at::Tensor> parameters() = 0;
  // Switches dropout and the like on (true) or off.
  virtual void train(bool on) = 0;
  // Writes a self-contained model folder that the same plugin (and, for roberta, sentence-transformers)
  // loads again.
  virtual void save(const std::filesystem::path& dir) const = 0;
  // A new encoder of the same shape and tokenizer with untrained (randomly initialised) weights: the
  // "random-init" baseline beside every score. nullptr when the backend has no such notion.
  virtual std::unique_ptr<Encoder> random_init(std::uint64_t seed) const { return nullptr; }
  // Added in SDK 2.0 (a new vtable slot, hence the major version): the padded-token budget encode() uses
  // when the caller leaves EncodeOptions::batch_tokens at 0, e.g. a batch_tokens setting of the plugin's own.
  // `sentbench bench encode` plans its default batches with it, so bench and encode cut the same ones.
  virtual std::int64_t default_batch_tokens() const { return 16384; }
};

}  // namespace sentbench
