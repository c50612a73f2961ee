// The lines of one file in a seeded, resumable order: the core every training stream shares (pairs for
// the contrastive recipe, texts for masked-LM pre-training).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace sentbench {

class LineReader;

// Where a stream is, enough to continue it exactly after a restart. (epoch, consumed) is what restore
// replays; rng only checks that the replay landed where the saved stream was (same seed, same buffer
// size, same file), so a resumed run cannot silently train on a different order.
struct StreamState {
  std::uint64_t epoch = 0;          // how many times the file was restarted
  std::uint64_t consumed = 0;       // examples handed out in this epoch
  std::string rng;                  // serialized std::mt19937_64 of the shuffle buffer; "" = not checked
};

// A non-blank line and its 1-based number in the file.
struct NumberedLine {
  std::string text;
  std::int64_t line_number = 0;
};

// Reads one file in constant memory: a seeded shuffle buffer of `buffer` lines; each draw takes a random
// slot and refills it with the file's next line. When the file runs out it is re-read with a new seeded
// order (a new epoch; its seed derives from (seed, epoch)); each epoch hands out every non-blank line once,
// except the first `skip` non-blank lines, which are never handed out (a held-out slice). The file is
// opened on first use. Restoring a state re-reads the file up to the same point (buffer + consumed lines).
class ShuffledLines {
 public:
  // `empty_hint` ends the DataError raised when the file has no line to hand out (what to do about it).
  ShuffledLines(std::filesystem::path file, std::uint64_t seed, std::size_t buffer, std::uint64_t skip = 0,
                std::string empty_hint = "");
  ~ShuffledLines();
  ShuffledLines(ShuffledLines&&) noexcept;
  ShuffledLines& operator=(ShuffledLines&&) noexcept;

  NumberedLine next();
  StreamState state() const;
  void restore(const StreamState& state);
  const std::filesystem::path& file() const { return file_; }

 private:
  bool read_line(NumberedLine& out);
  void start_epoch(std::uint64_t epoch);
  NumberedLine take();

  std::filesystem::path file_;
  std::uint64_t seed_ = 0;
  std::size_t capacity_ = 0;
  std::uint64_t skip_ = 0;
  std::string empty_hint_;
  std::unique_ptr<LineReader> reader_;  // null before the first use and once the file is exhausted
  std::vector<NumberedLine> buffer_;
  std::mt19937_64 rng_;
  std::uint64_t epoch_ = 0;
  std::uint64_t consumed_ = 0;
  bool started_ = false;
};

}  // namespace sentbench
