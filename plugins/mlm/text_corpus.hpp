// The masked-LM corpus: one text a line (.txt, .txt.gz, any other name) or JSONL (.jsonl, .json, either
// .gz: a JSON string or an object with a "text" string a line). Streamed in constant memory; the first
// `held_out` non-blank lines are the evaluation slice and are never trained on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sentbench/data/shuffled_lines.hpp"

namespace sentbench::mlm {

enum class CorpusFormat { kLines, kJsonl };

// By name: .jsonl / .json (optionally .gz) are JSONL, anything else one text a line.
CorpusFormat corpus_format(const std::filesystem::path& file);

// The held-out slice: the texts of the first `count` non-blank lines (fewer when the file is shorter).
// DataError naming file:line for a malformed JSONL line; IoError when the file cannot be read.
std::vector<std::string> read_held_out(const std::filesystem::path& file, std::size_t count);

// The training texts in a seeded shuffle-buffer order, epoch after epoch, skipping the held-out lines.
class TextStream {
 public:
  TextStream(std::filesystem::path file, std::uint64_t seed, std::size_t buffer, std::uint64_t held_out);
  std::string next();
  StreamState state() const { return lines_.state(); }
  void restore(const StreamState& state) { lines_.restore(state); }

 private:
  ShuffledLines lines_;
  CorpusFormat format_;
};

}  // namespace sentbench::mlm
