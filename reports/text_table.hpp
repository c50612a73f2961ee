// Pipe tables padded to column width: valid Markdown that also lines up in a terminal, and the number
// formats every text output of the reports shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sentbench {

// A Markdown table whose columns are padded (by code points, so "Δ" and "−" count once).
class TextTable {
 public:
  enum class Align { kLeft, kRight };
  explicit TextTable(std::vector<std::string> header, std::vector<Align> align = {});
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// Number formats: fixed decimals, "-" for missing or NaN values.
std::string fixed(double value, int decimals = 4);
std::string fixed(const std::optional<double>& value, int decimals = 4);
// With an explicit sign ("+0.0123", "−0.0040" with a real minus sign, "0.0000" for zero).
std::string signed_fixed(double value, int decimals = 4);
// Percent change with sign: "+12.3%".
std::string signed_percent(double fraction, int decimals = 1);
// Rates and counts a person reads at a glance: 1234567 -> "1.23M", 5321 -> "5321", 12.5 -> "12.5".
std::string human_rate(double value);
// " on 4 ranks" for a distributed run, "" for one process.
std::string ranks_note(int world_size);
// Bytes as "512.0 MiB"; "-" when absent.
std::string human_bytes(const std::optional<std::int64_t>& bytes);
// Seconds as "0.42 s", "12.3 s", "4 min 05 s", "2 h 03 min".
std::string human_seconds(double seconds);

}  // namespace sentbench
