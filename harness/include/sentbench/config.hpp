// Config: a typed, located view of a recipe's TOML table.
//
// Every lookup error names the file:line:column, the dotted key, the expected type and, for unknown
// keys, the closest valid key. TOML++ stays behind the implementation so plugins do not compile it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sentbench/export.hpp"

namespace sentbench {

// The value types a recipe key can declare. kPath is a string resolved against the folder of the file
// that set it.
enum class ValueType : int { kString, kInteger, kFloat, kBoolean, kArray, kTable, kPath, kAny };

SENTBENCH_API const char* to_string(ValueType type);
// The type with its article, as messages print it: "a float", "an integer", "a path (string)".
SENTBENCH_API std::string type_phrase(ValueType type);
// Whether a value of type `actual` satisfies a key declared `expected`: integers pass for floats,
// strings for paths, anything for kAny. Dates and times report kAny from type_of().
SENTBENCH_API bool accepts(ValueType expected, ValueType actual);

// Where a value came from: a file, or a command-line override ("--set").
struct SourceLocation {
  std::string file;  // empty when unknown
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:column", or "file" alone when the position is unknown
};

// A view of one table of a resolved recipe (the whole recipe, or a section of it). Cheap to copy:
// all views share the parsed document.
class SENTBENCH_API Config {
 public:
  // Parses `file`, merges its `include = "base.toml"` chain (the including file wins), then applies
  // `overrides` of the form "a.b=value" where value is TOML syntax (strings may be bare words).
  // Includes (a string or an array of strings, relative to the including file; later entries win)
  // merge tables key by key; any other value, arrays of tables ([[eval]]) included, is replaced whole.
  // Every value keeps the file (or "--set ...") it came from, for messages and get_path().
  static Config load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
  // Parses TOML text; `origin` names it in messages and anchors its includes and relative paths.
  static Config parse(std::string_view toml_text, std::string origin = "<string>",
                      const std::vector<std::string>& overrides = {});
  Config();  // an empty table

  // The dotted path of this view inside the whole recipe ("" for the root, "encoder", "eval[1]").
  const std::string& path() const { return path_; }
  // The recipe file this view was loaded from (for resolving relative paths).
  const std::filesystem::path& origin() const;

  // Keys are dotted paths relative to this view that walk sub-tables and arrays: "lr", "init.hidden",
  // "eval[1].path".
  bool contains(std::string_view key) const;
  // Location of a key (or of this table when key is empty).
  SourceLocation where(std::string_view key = {}) const;
  // Direct keys of this table, in document order.
  std::vector<std::string> keys() const;
  // Type of the value at key, or nullopt when absent.
  std::optional<ValueType> type_of(std::string_view key) const;
  // The value at key as messages show it: 'a string ("2e-5")', 'an integer (3)', 'a table'; "" when absent.
  std::string describe(std::string_view key) const;

  // Required getters: throw ConfigError when absent or mistyped. Integers are accepted for floats.
  std::string get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  // A string resolved against the folder of the file that set it; absolute paths and ~ pass through;
  // ${NAME} and ${NAME:-fallback} are taken from the environment first.
  std::filesystem::path get_path(std::string_view key) const;
  std::vector<std::string> get_strings(std::string_view key) const;
  std::vector<double> get_doubles(std::string_view key) const;
  std::vector<std::int64_t> get_ints(std::string_view key) const;

  // Optional getters: the default when absent, ConfigError when present but mistyped.
  std::string get_string(std::string_view key, std::string_view fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback) const;
  double get_double(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::filesystem::path get_path(std::string_view key, const std::filesystem::path& fallback) const;

  // Sub-table at key (ConfigError when absent or not a table); optional form returns an empty view.
  Config table(std::string_view key) const;
  Config table_or_empty(std::string_view key) const;
  // Array of tables ([[eval]]); empty when absent.
  std::vector<Config> tables(std::string_view key) const;

  // The table as TOML text (the resolved recipe that is saved with every run).
  std::string to_toml() const;
  // The table as JSON text (for reports).
  std::string to_json() const;

  // A ConfigError whose message starts with the location of key: "file:line:col: key 'x': <message>".
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;
  // ${NAME} / ${NAME:-fallback} environment expansion used by get_path.
  std::string expand_env(std::string_view key, const std::string& text) const;

  struct Impl;

 private:
  Config(std::shared_ptr<Impl> doc, const void* table, std::string path);
  const void* node(std::string_view key) const;
  const void* require(std::string_view key, ValueType expected) const;
  std::string full_key(std::string_view key) const;

  std::shared_ptr<Impl> doc_;
  const void* table_ = nullptr;  // toml::table* inside doc_
  std::string path_;
};

// Closest candidate to `word` by edit distance, or "" when nothing is close enough to suggest.
SENTBENCH_API std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace sentbench
