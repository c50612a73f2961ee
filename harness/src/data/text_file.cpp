// LineReader over zlib's gz* API, which reads plain and gzip files alike; .gz names must really be gzip.
#include "sentbench/data/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/utf8.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

constexpr unsigned kChunk = 1u << 20;

bool has_gz_suffix(const fs::path& path) { return path.extension() == ".gz"; }

// zlib prefixes its messages with the path, which our messages already start with.
std::string zlib_message(gzFile file, const fs::path& path, int& code) {
  std::string message = gzerror(file, &code);
  const std::string prefix = path.string() + ": ";
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  return message;
}

}  // namespace

// Buffered chunks from zlib; lines are cut out of `buffer` so long lines cost one copy, not many reads.
struct LineReader::Impl {
  gzFile file = nullptr;
  std::vector<char> buffer = std::vector<char>(kChunk);
  std::size_t begin = 0;  // first unread byte in buffer
  std::size_t end = 0;    // one past the last valid byte
  bool eof = false;

  ~Impl() {
    if (file) gzclose(file);
  }

  // Refills the buffer; false at end of input. Throws IoError on a corrupt or truncated stream.
  bool fill(const fs::path& path) {
    if (eof) return false;
    begin = 0;
    end = 0;
    const int got = gzread(file, buffer.data(), kChunk);
    if (got < 0) {
      int code = 0;
      const std::string message = zlib_message(file, path, code);
      throw IoError(fmt::format("{}: cannot read: {}{}", path.string(), message,
                                code == Z_ERRNO ? std::string(" (") + std::strerror(errno) + ")"
                                                : " (a truncated or corrupt .gz file? re-download or re-compress it)"));
    }
    if (got == 0) {
      // gzread returns 0 both at a clean end and when the compressed stream stops mid-way.
      int code = 0;
      const std::string message = zlib_message(file, path, code);
      if (code != Z_OK && code != Z_STREAM_END)
        throw IoError(fmt::format("{}: cannot read: {} (a truncated or corrupt .gz file? re-download or "
                                  "re-compress it)",
                                  path.string(), message));
      eof = true;
      return false;
    }
    end = static_cast<std::size_t>(got);
    return true;
  }
};

LineReader::LineReader(const fs::path& path) : impl_(std::make_unique<Impl>()), path_(path) {
  if (fs::is_directory(path)) throw IoError(fmt::format("cannot read {}: it is a folder, not a file", path.string()));
  impl_->file = gzopen(path.c_str(), "rb");
  if (!impl_->file)
    throw IoError(fmt::format("cannot read {}: {}", path.string(),
                              fs::exists(path) ? std::strerror(errno) : "no such file"));
  gzbuffer(impl_->file, kChunk);
  // zlib passes non-gzip bytes through; a .gz name with plain content means a mislabelled or damaged
  // file, which would otherwise surface later as confusing data errors.
  if (has_gz_suffix(path) && impl_->fill(path) && gzdirect(impl_->file))
    throw IoError(fmt::format("cannot read {}: not a gzip file (no gzip header); rename it without .gz if it "
                              "is plain text, or re-compress it",
                              path.string()));
}

LineReader::~LineReader() {
  if (replaced_ > 0)
    log::warn("{}: replaced {} invalid UTF-8 sequence{} with U+FFFD (first on line {}); the file is not clean "
              "UTF-8",
              path_.string(), replaced_, replaced_ == 1 ? "" : "s", first_replaced_line_);
}

bool LineReader::next(std::string& line) {
  Impl& s = *impl_;
  line.clear();
  bool any = false;
  for (;;) {
    if (s.begin == s.end && !s.fill(path_)) break;
    any = true;
    const char* start = s.buffer.data() + s.begin;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', s.end - s.begin));
    if (newline) {
      line.append(start, static_cast<std::size_t>(newline - start));
      s.begin = static_cast<std::size_t>(newline - s.buffer.data()) + 1;
      break;
    }
    line.append(start, s.end - s.begin);
    s.begin = s.end;
  }
  if (!any) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++line_number_;
  // A UTF-8 byte-order mark would otherwise become part of the first header name or JSON token.
  if (line_number_ == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
  if (const std::size_t replaced = make_valid_utf8(line); replaced > 0) {
    if (replaced_ == 0) first_replaced_line_ = line_number_;
    replaced_ += static_cast<std::int64_t>(replaced);
  }
  return true;
}

std::string LineReader::where() const { return fmt::format("{}:{}", path_.string(), line_number_); }

std::string gzip(std::string_view text) {
  z_stream z{};
  // windowBits 31: a gzip header with mtime 0 and no file name, so the bytes depend on the text only.
  if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw IoError("cannot start gzip encoding");
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int code = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (code != Z_STREAM_END) throw IoError("gzip encoding failed");
  return out;
}

}  // namespace sentbench
