// Small parsing helpers shared by the dataset readers (internal: not part of any public interface).
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"
#include "sentbench/data/text_file.hpp"

namespace sentbench::detail {

// Fields of a tab-separated line. Quotes are ordinary characters: STS-B sentences contain unbalanced
// quotes, and csv-style quote handling would merge rows.
inline std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// Whole-field numbers only ("3.5x" is not 3.5), locale-independent, finite.
inline std::optional<double> parse_double(std::string_view text) {
  while (!text.empty() && (text.front() == ' ')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

inline std::optional<long long> parse_integer(std::string_view text) {
  while (!text.empty() && (text.front() == ' ')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

inline bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return c == ' ' || c == '\t'; });
}

// Shortens a field for an error message so one bad multi-kilobyte line does not flood the terminal.
inline std::string excerpt(std::string_view text, std::size_t limit = 60) {
  if (text.size() <= limit) return std::string(text);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return std::string(text.substr(0, cut)) + "...";
}

// One JSONL line as any JSON value; DataError at `where` ("file:line") otherwise. `expected` completes the
// message "each line must be one complete JSON <expected>".
inline nlohmann::json parse_json_line(const std::string& where, const std::string& line,
                                      std::string_view expected = "object") {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    std::string why = e.what();
    if (const auto close = why.find("] "); why.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      why.erase(0, close + 2);
    // The parser sees one line, so its "line 1" would contradict the file line in front of it.
    if (const auto at = why.find("at line 1, column "); at != std::string::npos) why.erase(at + 3, 8);
    throw DataError(fmt::format("{}: malformed JSON: {} (each line must be one complete JSON {})", where, why,
                                expected));
  }
}

inline nlohmann::json parse_json_line(const LineReader& reader, const std::string& line,
                                      std::string_view expected = "object") {
  return parse_json_line(reader.where(), line, expected);
}

// One JSONL line as an object; DataError at reader.where() otherwise.
inline nlohmann::json parse_json_object(const LineReader& reader, const std::string& line) {
  const nlohmann::json value = parse_json_line(reader, line);
  if (!value.is_object())
    throw DataError(fmt::format("{}: expected a JSON object, found a JSON {}", reader.where(), value.type_name()));
  return value;
}

// An id or label that may be written as a JSON string or integer; integers become their decimal text,
// so {"_id": 7} and the qrels' "7" name the same thing.
inline std::optional<std::string> string_or_integer(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<unsigned long long>());
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return std::nullopt;
}

}  // namespace sentbench::detail
