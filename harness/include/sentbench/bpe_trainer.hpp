// Trains a byte-level BPE vocabulary (the GPT-2 / RoBERTa kind) from plain-text files, for
// `sentbench tokenizer train`. The result loads in BpeTokenizer and is saved as HF's vocab.json +
// merges.txt.
//
// The algorithm follows HF tokenizers' BpeTrainer (ByteLevelBPETokenizer.train): each line (newline
// included) is pre-tokenized with the GPT-2 pattern, distinct words are counted, then the most frequent
// adjacent symbol pair is merged until the vocabulary is full or the best pair is rarer than
// min_frequency. Ties go to the smaller (left id, right id) and ids are assigned as HF does (special
// tokens, then the 256 byte symbols in code-point order, then merges), so the merges should be HF's; one
// known difference: when two merges spell the same string HF can list a later pair twice, here every
// occurrence is merged at once. Pair counts are kept incrementally (pair -> count and pair -> words
// containing it, a max-heap with lazy invalidation), so a merge costs time proportional to the words it
// touches, not to the corpus.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sentbench/bpe_tokenizer.hpp"

namespace sentbench::roberta {

// Where training is, for progress bars.
struct BpeTrainProgress {
  enum class Stage { kCounting, kMerging };
  Stage stage = Stage::kCounting;
  std::uint64_t done = 0;   // counting: input bytes read (compressed bytes for .gz); merging: merges made
  std::uint64_t total = 0;  // counting: input size on disk; merging: merges wanted at most
};

using BpeProgressFn = std::function<void(const BpeTrainProgress&)>;

// Knobs of train_bpe.
struct BpeTrainerOptions {
  std::size_t vocab_size = 50265;  // specials + 256 byte symbols + merges, at most
  std::uint64_t min_frequency = 2;  // a pair seen fewer times than this is never merged
  // Given the first ids, in this order; RoBERTa's names so BpeTokenizer finds them.
  std::vector<std::string> special_tokens = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  std::filesystem::path output_dir;  // when set, vocab.json + merges.txt are written there
  BpeProgressFn progress;            // optional; called from the calling thread
};

// What training produced, with figures for the log.
struct BpeTrainerResult {
  BpeTokenizer tokenizer;
  std::uint64_t input_bytes = 0;   // uncompressed text read
  std::uint64_t lines = 0;
  std::uint64_t words = 0;         // pre-tokens counted
  std::uint64_t unique_words = 0;
  std::size_t merges = 0;
  double count_seconds = 0;
  double merge_seconds = 0;

  // Writes vocab.json + merges.txt in HF's format (see BpeTokenizer::save).
  void save(const std::filesystem::path& dir) const { tokenizer.save(dir); }
};

// Trains on text files; ".gz" files (and any gzip stream) are decompressed while reading. Throws IoError
// naming the file that cannot be read, ConfigError when vocab_size cannot even hold specials + bytes.
BpeTrainerResult train_bpe(const std::vector<std::filesystem::path>& files, const BpeTrainerOptions& options);

// The form `sentbench tokenizer train --vocab-size N FILES...` calls.
BpeTrainerResult train_bpe(const std::vector<std::filesystem::path>& files, std::size_t vocab_size,
                           std::uint64_t min_frequency = 2, BpeProgressFn progress = {});

// Trains on in-memory texts, each treated like one line of a file (for tests and tools).
BpeTrainerResult train_bpe_from_texts(const std::vector<std::string>& texts, const BpeTrainerOptions& options);

}  // namespace sentbench::roberta
