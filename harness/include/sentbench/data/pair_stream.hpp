// Training pairs: streams of examples from *.jsonl / *.jsonl.gz files in the reference format, and the
// weighted mix of many such files described by a data_config.
//
// One example is a JSON list of 2 or 3 strings [anchor, positive(, negative)], or {"texts": [...]}, or
// {"query": ..., "pos": ..., "neg": ...} (pos/neg may be a string or a list: the first element is used).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sentbench/data/shuffled_lines.hpp"

namespace sentbench {

// One training example: 2 texts (pair) or 3 (with a hard negative).
struct Example {
  std::vector<std::string> texts;
};

// Reads one file in constant memory: a seeded shuffle buffer of `buffer` examples; when the file runs
// out it is re-read with a new seeded order (a new epoch; its seed derives from (seed, epoch)). Each
// epoch hands out every example of the file exactly once. The file is opened on first use. Malformed
// lines are DataErrors naming file:line (raised when the line is drawn); a file without examples is a
// DataError. Restoring a state re-reads the file up to the same point: the cost is reading (and
// decompressing) buffer + consumed lines, without parsing them; nothing is stored.
class PairStream {
 public:
  PairStream(std::filesystem::path file, std::uint64_t seed, std::size_t buffer = 4096);
  ~PairStream();
  PairStream(PairStream&&) noexcept;
  PairStream& operator=(PairStream&&) noexcept;

  Example next();
  StreamState state() const;
  void restore(const StreamState& state);
  const std::filesystem::path& file() const { return file_; }
  // "file:line" of the example next() returned last, for errors found by callers (e.g. mixed arity).
  std::string where() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path file_;
};

// One entry of a data_config: {"name": relative file, "lines": count, "weight": sampling weight}.
struct MixEntry {
  std::string name;
  std::uint64_t lines = 0;  // informational; 0 when the config omits it (the reference's reddit entries)
  double weight = 0;
};

// Reads a data_config JSON list; DataError names the file and entry (index from 0) for bad fields: not a
// list, missing or repeated name, missing/negative weight, bad lines, all weights zero. Entries with
// weight 0 are kept but never drawn.
std::vector<MixEntry> read_data_config(const std::filesystem::path& path);

// A batch: examples all drawn from one dataset (so they share an arity), no text repeated within it.
struct PairBatch {
  std::vector<Example> examples;
  std::size_t dataset = 0;  // index into the mix
  std::string dataset_name;
};

// Everything needed to continue a mix exactly.
struct MixState {
  std::string rng;                    // dataset-choice generator
  std::vector<StreamState> streams;   // one per entry (default state for unopened streams)
};

// The weighted mix as the reference run drew it: each batch picks ONE dataset with probability
// proportional to its weight, then fills the batch from that dataset's stream. With unique_in_batch
// (the default) it skips an example any of whose texts (anchor, positive or negative, compared exactly)
// already appears in the batch: in-batch negatives would then hold a copy of some row's partner, a false
// negative (sentence-transformers' NoDuplicatesDataLoader). Skipped examples are not revisited. A batch
// that needs more than 20 x batch_size draws is a DataError (too few distinct examples); so is a file
// that mixes pairs and triplets (a batch needs one arity). Without unique_in_batch examples are taken
// as drawn. Files open lazily
// relative to data_dir, but the constructor checks that every entry with a positive weight exists, so a
// missing file fails at start rather than hours into training. Each stream's seed derives from
// (seed, entry name), so reordering the config keeps every file's order.
class PairMixer {
 public:
  PairMixer(std::vector<MixEntry> entries, std::filesystem::path data_dir, std::uint64_t seed,
            std::size_t shuffle_buffer = 4096, bool unique_in_batch = true);
  ~PairMixer();
  // The next batch of `batch_size` examples (the caller's rank takes its shard; see shard()).
  PairBatch next_batch(std::size_t batch_size);
  // Generator and stream positions, saved in checkpoints; restore() continues with the same batches.
  // Streams are replayed lazily, when their dataset is next drawn.
  MixState state() const;
  void restore(const MixState& state);
  const std::vector<MixEntry>& entries() const { return entries_; }

 private:
  std::vector<MixEntry> entries_;
  std::filesystem::path data_dir_;
  std::uint64_t seed_;
  std::size_t shuffle_buffer_;
  bool unique_in_batch_;
  std::mt19937_64 rng_;
  std::discrete_distribution<std::size_t> choose_;
  std::vector<std::unique_ptr<PairStream>> streams_;  // null until the entry is first drawn
  std::vector<StreamState> saved_;                    // applied when a null stream opens (restore)
};

// Parses one line of a pairs file; DataError with `where` ("file:line") when it is not an example.
Example parse_example(const std::string& line, const std::string& where);

}  // namespace sentbench
