// Line reading shared by every dataset reader: plain or gzip files (zlib), with line numbers for errors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace sentbench {

// Reads a text file line by line, transparently decompressing .gz. Lines lose their trailing "\n" and
// "\r" (and line 1 a UTF-8 byte-order mark). IoError when the file cannot be opened, the gzip stream is
// corrupt or truncated, or a .gz name holds no gzip data.
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  std::int64_t line_number_ = 0;
};

}  // namespace sentbench
