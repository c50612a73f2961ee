// Line reading shared by every dataset reader: plain or gzip files (zlib), with line numbers for errors;
// and the gzip encoder of the files the data commands write.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sentbench {

// Reads a text file line by line, transparently decompressing .gz. Lines lose their trailing "\n" and
// "\r" (and line 1 a UTF-8 byte-order mark). IoError when the file cannot be opened, the gzip stream is
// corrupt or truncated, or a .gz name holds no gzip data.
//
// Every line comes back as valid UTF-8: each invalid sequence becomes U+FFFD (sentbench/utf8.hpp), the
// policy of every text reader (pairs, BEIR, STS, clustering, text lists) and of the tokenizer, so a
// stray byte costs one character, not the run. A reader that repaired anything logs one warning when it
// is destroyed, with the count and the first line.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool next(std::string& line);
  std::int64_t line_number() const { return line_number_; }  // of the line last returned (1-based)
  const std::filesystem::path& path() const { return path_; }
  // "file:line" of the line last returned, for error messages.
  std::string where() const;
  // Invalid UTF-8 sequences replaced so far, and the line of the first (0 when none).
  std::int64_t replaced_sequences() const { return replaced_; }
  std::int64_t first_replaced_line() const { return first_replaced_line_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  std::int64_t line_number_ = 0;
  std::int64_t replaced_ = 0;
  std::int64_t first_replaced_line_ = 0;
};

// `text` as one gzip member (level 9) whose header has mtime 0 and no file name, so the bytes depend on
// the text only (the same data gives the same file). IoError when zlib fails.
std::string gzip(std::string_view text);

}  // namespace sentbench
