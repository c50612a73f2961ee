// ShuffledLines: the reservoir-style shuffle over a LineReader.
#include "sentbench/data/shuffled_lines.hpp"

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/data/seeded_random.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {

ShuffledLines::ShuffledLines(fs::path file, std::uint64_t seed, std::size_t buffer, std::uint64_t skip,
                             std::string empty_hint)
    : file_(std::move(file)), seed_(seed), capacity_(buffer), skip_(skip), empty_hint_(std::move(empty_hint)) {
  if (buffer == 0)
    throw ConfigError(fmt::format("shuffle buffer for {} must hold at least 1 example (1 = file order)",
                                  file_.string()));
}

ShuffledLines::~ShuffledLines() = default;
ShuffledLines::ShuffledLines(ShuffledLines&&) noexcept = default;
ShuffledLines& ShuffledLines::operator=(ShuffledLines&&) noexcept = default;

// Next non-blank line (a trailing empty line is common and is not an example).
bool ShuffledLines::read_line(NumberedLine& out) {
  if (!reader_) return false;
  while (reader_->next(out.text))
    if (!detail::is_blank(out.text)) {
      out.line_number = reader_->line_number();
      return true;
    }
  reader_.reset();  // frees the reader's buffers while the shuffle buffer drains
  return false;
}

void ShuffledLines::start_epoch(std::uint64_t e) {
  reader_.reset();
  buffer_.clear();
  reader_ = std::make_unique<LineReader>(file_);
  rng_.seed(derive_seed(seed_, e));
  epoch_ = e;
  consumed_ = 0;
  started_ = true;
  NumberedLine line;
  for (std::uint64_t skipped = 0; skipped < skip_ && read_line(line); ++skipped) {
  }
  while (buffer_.size() < capacity_ && read_line(line)) buffer_.push_back(std::move(line));
  if (buffer_.empty())
    throw DataError(fmt::format("{}: no examples (the file is empty or holds only blank lines{}){}{}", file_.string(),
                                skip_ > 0 ? fmt::format(", after the {} held-out ones", skip_) : "",
                                empty_hint_.empty() ? "" : "; ", empty_hint_));
}

// One draw from a non-empty buffer.
NumberedLine ShuffledLines::take() {
  const std::size_t i = static_cast<std::size_t>(bounded(rng_, buffer_.size()));
  NumberedLine out = std::move(buffer_[i]);
  NumberedLine next;
  if (read_line(next)) {
    buffer_[i] = std::move(next);
  } else {
    if (i + 1 != buffer_.size()) buffer_[i] = std::move(buffer_.back());
    buffer_.pop_back();
  }
  ++consumed_;
  return out;
}

NumberedLine ShuffledLines::next() {
  if (!started_)
    start_epoch(0);
  else if (buffer_.empty())
    start_epoch(epoch_ + 1);
  return take();
}

StreamState ShuffledLines::state() const {
  if (!started_) return {};
  return StreamState{epoch_, consumed_, serialize(rng_)};
}

// Replays the saved epoch's draws without parsing; see the header for the cost.
void ShuffledLines::restore(const StreamState& state) {
  if (state.epoch == 0 && state.consumed == 0 && state.rng.empty()) {
    reader_.reset();
    buffer_.clear();
    started_ = false;
    epoch_ = consumed_ = 0;
    return;
  }
  start_epoch(state.epoch);
  for (std::uint64_t k = 0; k < state.consumed; ++k) {
    if (buffer_.empty())
      throw DataError(fmt::format("{}: cannot restore the data position: the checkpoint used {} examples of epoch "
                                  "{} but the file holds only {}; the file changed since the checkpoint (restore "
                                  "the original file or restart the data stream)",
                                  file_.string(), state.consumed, state.epoch, k));
    take();
  }
  if (!state.rng.empty() && serialize(rng_) != state.rng)
    throw DataError(fmt::format("{}: cannot restore the data position: replaying it gives a different shuffle "
                                "state than the checkpoint's; the seed, the shuffle buffer size or the file "
                                "changed since (resume with the original settings and data)",
                                file_.string()));
}

}  // namespace sentbench
