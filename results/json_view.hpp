// Reading JSON written by other parts of sentbench (or by hand) with errors that name the file and
// the field: "runs/x/results.json: tasks[2].model.main_score: expected a number, found a string".
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"

namespace sentbench {

// `text` parsed as JSON; ConfigError "SOURCE: not valid JSON: ..." when it is not.
inline nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
}

// A located view of a JSON value: typed getters with defaults for missing fields.
class JsonView {
 public:
  JsonView(const nlohmann::json& value, std::string source, std::string path = "")
      : value_(value), source_(std::move(source)), path_(std::move(path)) {}

  const nlohmann::json& value() const { return value_; }
  const std::string& source() const { return source_; }
  bool has(const std::string& key) const { return value_.is_object() && value_.contains(key) && !value_[key].is_null(); }

  JsonView at(const std::string& key) const {
    static const nlohmann::json kNull;
    const nlohmann::json& v = value_.is_object() && value_.contains(key) ? value_[key] : kNull;
    return JsonView(v, source_, path_.empty() ? key : path_ + "." + key);
  }
  JsonView at(std::size_t index) const { return JsonView(value_[index], source_, fmt::format("{}[{}]", path_, index)); }

  // A string field; `fallback` when absent or null.
  std::string str(const std::string& key, const std::string& fallback = "") const {
    const JsonView v = at(key);
    if (v.value_.is_null()) return fallback;
    if (!v.value_.is_string()) v.fail("expected a string");
    return v.value_.get<std::string>();
  }
  // A number; null reads as NaN (JSON has no NaN, and nlohmann writes NaN as null).
  double num(const std::string& key, double fallback = 0) const {
    if (!value_.is_object() || !value_.contains(key)) return fallback;
    return at(key).as_num();
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback = 0) const {
    const JsonView v = at(key);
    if (v.value_.is_null()) return fallback;
    if (!v.value_.is_number()) v.fail("expected a number");
    return v.value_.is_number_float() ? static_cast<std::int64_t>(std::llround(v.value_.get<double>()))
                                      : v.value_.get<std::int64_t>();
  }
  bool boolean(const std::string& key, bool fallback = false) const {
    const JsonView v = at(key);
    if (v.value_.is_null()) return fallback;
    if (!v.value_.is_boolean()) v.fail("expected true or false");
    return v.value_.get<bool>();
  }
  double as_num() const {
    if (value_.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!value_.is_number()) fail("expected a number");
    return value_.get<double>();
  }
  std::string as_str() const {
    if (!value_.is_string()) fail("expected a string");
    return value_.get<std::string>();
  }
  // Checks the kind of this value (for objects and arrays a caller is about to walk).
  const JsonView& expect_object() const {
    if (!value_.is_object()) fail("expected an object");
    return *this;
  }
  const JsonView& expect_array() const {
    if (!value_.is_array()) fail("expected a list");
    return *this;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("{}: {}: {}, found {}", source_, path_.empty() ? "top level" : path_, what,
                                  value_.is_null() ? "nothing" : value_.type_name()));
  }

 private:
  const nlohmann::json& value_;
  std::string source_;
  std::string path_;
};

}  // namespace sentbench
