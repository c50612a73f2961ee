// Padded pipe tables and number formats.
#include "text_table.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sentbench {
namespace {

// Display width of UTF-8 text: code points (every byte that does not continue a sequence).
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Pipes inside a cell would split it into two columns.
std::string escape_cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string pad(const std::string& s, std::size_t w, TextTable::Align align) {
  const std::size_t n = width(s);
  const std::string fill(w > n ? w - n : 0, ' ');
  return align == TextTable::Align::kRight ? fill + s : s + fill;
}

}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::vector<Align> align)
    : header_(std::move(header)), align_(std::move(align)) {
  align_.resize(header_.size(), Align::kLeft);
  for (auto& h : header_) h = escape_cell(h);
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (auto& c : cells) c = escape_cell(c);
  rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
  std::vector<std::size_t> w(header_.size(), 3);  // "---" is the shortest separator Markdown accepts
  for (std::size_t c = 0; c < header_.size(); ++c) {
    w[c] = std::max(w[c], width(header_[c]));
    for (const auto& row : rows_) w[c] = std::max(w[c], width(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    out += '|';
    for (std::size_t c = 0; c < cells.size(); ++c) out += ' ' + pad(cells[c], w[c], align_[c]) + " |";
    out += '\n';
  };
  line(header_);
  out += '|';
  for (std::size_t c = 0; c < header_.size(); ++c) {
    out += align_[c] == Align::kRight ? ' ' + std::string(w[c] - 1, '-') + ": |" : ' ' + std::string(w[c], '-') + " |";
  }
  out += '\n';
  for (const auto& row : rows_) line(row);
  return out;
}

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "-";
  std::string s = fmt::format("{:.{}f}", value, decimals);
  if (s.find_first_not_of("-0.") == std::string::npos) s = fmt::format("{:.{}f}", 0.0, decimals);  // no "-0.0000"
  return s;
}

std::string fixed(const std::optional<double>& value, int decimals) { return value ? fixed(*value, decimals) : "-"; }

std::string signed_fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "-";
  const std::string magnitude = fixed(std::fabs(value), decimals);
  if (magnitude.find_first_not_of("0.") == std::string::npos) return magnitude;
  return (value > 0 ? "+" : "\u2212") + magnitude;
}

std::string signed_percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "-";
  return signed_fixed(fraction * 100.0, decimals) + "%";
}

std::string ranks_note(int world_size) {
  return world_size > 1 ? fmt::format(" on {} ranks", world_size) : std::string();
}

std::string human_rate(double value) {
  if (!std::isfinite(value)) return "-";
  const double a = std::fabs(value);
  if (a >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
  if (a >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
  if (a >= 1e4) return fmt::format("{:.1f}k", value / 1e3);
  if (a >= 100) return fmt::format("{:.0f}", value);
  if (a >= 10) return fmt::format("{:.1f}", value);
  return fmt::format("{:.2f}", value);
}

std::string human_bytes(const std::optional<std::int64_t>& bytes) {
  if (!bytes) return "-";
  const double b = static_cast<double>(*bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} B", *bytes);
}

std::string human_seconds(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  if (seconds < 60) return fmt::format("{:.{}f} s", seconds, seconds < 10 ? 2 : 1);
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

}  // namespace sentbench
