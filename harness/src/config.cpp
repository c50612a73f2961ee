// Config: TOML++ behind a typed, located API (see sentbench/config.hpp).
#include "sentbench/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"

namespace fs = std::filesystem;

namespace sentbench {

// The parsed, merged, overridden recipe every view of it shares. TOML++ keeps a node's source region
// when the node is moved but drops it on copy, so merging and overriding move nodes: each keeps its file.
struct Config::Impl {
  toml::table root;
  toml::table empty;  // what table_or_empty() views when the key is absent
  fs::path origin;
  // Sources (file names, then "--set ..." strings) in merge order: bases before the files including
  // them, overrides last. Keys are listed in this order, then by line, to give "document order".
  std::vector<std::string> sources;

  std::size_t rank(const toml::source_region& source) const {
    if (!source.path) return sources.size() + 1;
    auto it = std::find(sources.begin(), sources.end(), *source.path);
    return it == sources.end() ? sources.size() : static_cast<std::size_t>(it - sources.begin());
  }
};

namespace {

constexpr std::string_view kOverridePrefix = "--set ";

const toml::node* as_node(const void* p) { return static_cast<const toml::node*>(p); }
const toml::table* as_table(const void* p) { return static_cast<const toml::table*>(p); }

bool is_override_source(const std::string& path) {
  return path.compare(0, kOverridePrefix.size(), kOverridePrefix) == 0;
}

ValueType value_type_of(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return ValueType::kString;
    case toml::node_type::integer: return ValueType::kInteger;
    case toml::node_type::floating_point: return ValueType::kFloat;
    case toml::node_type::boolean: return ValueType::kBoolean;
    case toml::node_type::array: return ValueType::kArray;
    case toml::node_type::table: return ValueType::kTable;
    default: return ValueType::kAny;  // dates and times: no recipe key declares one
  }
}

// Shortest text that reads back as the same double, always recognisable as a TOML float.
std::string format_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string quote_key(std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
  return bare ? std::string(key) : quote(key);
}

template <typename T>
std::string stream_text(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// "a string (\"2e-5\")", "an integer (3)", "a table": what a message says was found.
std::string describe_node(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: {
      const std::string& text = node.as_string()->get();
      constexpr std::size_t kMax = 40;
      return "a string (" + (text.size() > kMax ? quote(text.substr(0, kMax)) + "..." : quote(text)) + ")";
    }
    case toml::node_type::integer: return fmt::format("an integer ({})", node.as_integer()->get());
    case toml::node_type::floating_point: return "a float (" + format_float(node.as_floating_point()->get()) + ")";
    case toml::node_type::boolean: return node.as_boolean()->get() ? "a boolean (true)" : "a boolean (false)";
    case toml::node_type::array: return fmt::format("an array of {} item(s)", node.as_array()->size());
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date (" + stream_text(node.as_date()->get()) + ")";
    case toml::node_type::time: return "a time (" + stream_text(node.as_time()->get()) + ")";
    case toml::node_type::date_time: return "a date-time (" + stream_text(node.as_date_time()->get()) + ")";
    default: return "nothing";
  }
}

std::string expected_phrase(ValueType type) {
  switch (type) {
    case ValueType::kString: return "a string";
    case ValueType::kInteger: return "an integer";
    case ValueType::kFloat: return "a float";
    case ValueType::kBoolean: return "a boolean";
    case ValueType::kArray: return "an array";
    case ValueType::kTable: return "a table";
    case ValueType::kPath: return "a path (string)";
    case ValueType::kAny: return "any value";
  }
  return "a value";
}

SourceLocation location_of(const toml::node& node, const Config::Impl& impl) {
  SourceLocation loc;
  const toml::source_region& source = node.source();
  if (source.path && !source.path->empty()) {
    loc.file = *source.path;
    if (is_override_source(loc.file)) return loc;  // "--set a.b=value" is the whole location
  } else {
    loc.file = impl.origin.string();
    return loc;  // a node built in code has no position in that file
  }
  loc.line = static_cast<int>(source.begin.line);
  loc.column = static_cast<int>(source.begin.column);
  return loc;
}

std::string prefixed(const SourceLocation& where, const std::string& message) {
  const std::string loc = where.str();
  return loc.empty() ? message : loc + ": " + message;
}

// One component of a dotted key: a name with an optional array index ("eval[2]").
struct KeyPart {
  std::string name;
  std::optional<std::size_t> index;
  std::string text;  // as written, for messages
};

std::optional<std::vector<KeyPart>> split_key(std::string_view key) {
  std::vector<KeyPart> parts;
  if (key.empty()) return parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    const std::string_view text =
        key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    KeyPart part;
    part.text = std::string(text);
    const std::size_t open = text.find('[');
    if (open == std::string_view::npos) {
      part.name = std::string(text);
    } else {
      if (text.back() != ']' || open + 2 > text.size() - 1) return std::nullopt;
      part.name = std::string(text.substr(0, open));
      const std::string_view digits = text.substr(open + 1, text.size() - open - 2);
      if (!std::all_of(digits.begin(), digits.end(),
                       [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
        return std::nullopt;
      }
      part.index = static_cast<std::size_t>(std::stoull(std::string(digits)));
    }
    if (part.name.empty() || part.name.find_first_of("[]") != std::string::npos) return std::nullopt;
    parts.push_back(std::move(part));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join_key(const std::string& prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  if (key.empty()) return prefix;
  return prefix + "." + std::string(key);
}

// Where a walk along a dotted key stopped.
struct Lookup {
  const toml::node* node = nullptr;       // the value, when found
  const toml::node* container = nullptr;  // otherwise the deepest table (or array) reached
  std::string container_key;              // its key relative to the view ("" = the view)
  std::string missing;                    // the component that container lacks
  const toml::node* blocker = nullptr;    // an intermediate value that is not a table
  std::string blocker_key;
  bool malformed = false;
};

Lookup walk(const toml::table& start, std::string_view key) {
  Lookup out;
  const auto parts = split_key(key);
  if (!parts) {
    out.malformed = true;
    return out;
  }
  const toml::node* current = &start;
  std::string walked;
  for (const KeyPart& part : *parts) {
    const toml::table* table = current->as_table();
    if (!table) {
      out.blocker = current;
      out.blocker_key = walked;
      return out;
    }
    const toml::node* child = table->get(part.name);
    if (!child) {
      out.container = current;
      out.container_key = walked;
      out.missing = part.name;
      return out;
    }
    walked = join_key(walked, part.name);
    if (part.index) {
      const toml::array* array = child->as_array();
      if (!array) {
        out.blocker = child;
        out.blocker_key = walked;
        return out;
      }
      if (*part.index >= array->size()) {
        out.container = child;
        out.container_key = walked;
        out.missing = part.text;
        return out;
      }
      child = array->get(*part.index);
      walked += fmt::format("[{}]", *part.index);
    }
    current = child;
  }
  out.node = current;
  return out;
}

std::string table_label(const std::string& full_key) {
  if (full_key.empty()) return "the top level";
  if (full_key.find('[') != std::string::npos) return "table '" + full_key + "'";
  return "[" + full_key + "]";
}

std::vector<std::pair<std::string, const toml::node*>> ordered_entries(const toml::table& table,
                                                                       const Config::Impl& impl) {
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (auto&& [key, value] : table) entries.emplace_back(std::string(key.str()), &value);
  auto order = [&impl](const toml::node* node) {
    const toml::source_region& s = node->source();
    return std::make_tuple(impl.rank(s), s.begin.line, s.begin.column);
  };
  std::stable_sort(entries.begin(), entries.end(),
                   [&](const auto& a, const auto& b) { return order(a.second) < order(b.second); });
  return entries;
}

// ---- loading: files, includes, overrides -----------------------------------------------------------

toml::table parse_toml(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    SourceLocation where{name, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)};
    throw ConfigError(prefixed(where, fmt::format("invalid TOML: {}", e.description())));
  }
}

// Moves every key of `lower` that `upper` lacks into `upper`; tables present in both merge key by key,
// anything else (values, arrays, arrays of tables) stays as `upper` has it.
void merge_under(toml::table& upper, toml::table&& lower) {
  for (auto&& [key, value] : lower) {
    toml::node* mine = upper.get(key.str());
    if (!mine) {
      upper.insert(key, std::move(value));
    } else if (mine->is_table() && value.is_table()) {
      merge_under(*mine->as_table(), std::move(*value.as_table()));
    }
  }
}

// A file being loaded, on the stack of includes that led to it (a repeat there is a cycle).
struct IncludeFrame {
  fs::path canonical;
  std::string name;
};

toml::table load_text(std::string_view text, const std::string& name, Config::Impl& impl,
                      std::vector<IncludeFrame>& stack);

toml::table load_file(const fs::path& file, const SourceLocation& included_at, Config::Impl& impl,
                      std::vector<IncludeFrame>& stack) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const std::string what = included_at.file.empty() ? fmt::format("cannot read recipe '{}'", file.string())
                                                      : fmt::format("cannot read included file '{}'", file.string());
    std::error_code ec;
    const std::string why = fs::exists(file, ec) ? "permission denied?" : "no such file";
    throw ConfigError(prefixed(included_at, what + " (" + why + ")"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), file.string(), impl, stack);
}

toml::table load_text(std::string_view text, const std::string& name, Config::Impl& impl,
                      std::vector<IncludeFrame>& stack) {
  toml::table table = parse_toml(text, name);
  std::error_code ec;
  stack.push_back({fs::weakly_canonical(fs::absolute(name, ec), ec), name});

  if (const toml::node* include = table.get("include")) {
    std::vector<const toml::node*> entries;
    if (const toml::array* list = include->as_array()) {
      for (const toml::node& entry : *list) entries.push_back(&entry);
    } else {
      entries.push_back(include);
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i]->is_string()) {
        const std::string key = include->is_array() ? fmt::format("include[{}]", i) : "include";
        throw ConfigError(
            prefixed(location_of(*entries[i], impl),
                     fmt::format("key '{}': expected a string (a file to include){}, found {}", key,
                                 include->is_array() ? "" : " or an array of strings", describe_node(*entries[i]))));
      }
    }
    const fs::path dir = fs::path(name).parent_path();
    // Later entries win over earlier ones, and the including file over all of them, so merge the
    // last entry first under what is already there.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      const SourceLocation at = location_of(**it, impl);
      const fs::path target = (dir / fs::path((*it)->as_string()->get())).lexically_normal();
      const fs::path canonical = fs::weakly_canonical(fs::absolute(target, ec), ec);
      auto cycle =
          std::find_if(stack.begin(), stack.end(), [&](const IncludeFrame& f) { return f.canonical == canonical; });
      if (cycle != stack.end()) {
        std::string chain;
        for (auto f = cycle; f != stack.end(); ++f) chain += f->name + " -> ";
        throw ConfigError(prefixed(at, "include cycle: " + chain + target.string()));
      }
      merge_under(table, load_file(target, at, impl, stack));
    }
    table.erase("include");
  }

  stack.pop_back();
  impl.sources.push_back(name);  // after its includes: a base's keys list before the including file's
  return table;
}

// The value of one override, as key "v" of the returned table: TOML when the text parses as a single
// value, else the text as a bare string. Both are parsed so the node carries the override as its source.
toml::table parse_override_value(const std::string& value, const std::string& origin) {
  try {
    toml::table parsed = toml::parse("v = " + value, std::string(origin));
    if (parsed.size() == 1 && parsed.contains("v")) return parsed;
  } catch (const toml::parse_error&) {
    // not TOML: a bare word such as run.name=foo
  }
  return toml::parse("v = " + quote(value), std::string(origin));
}

toml::table located_table(const std::string& origin) {
  toml::table parsed = toml::parse("v = {}", std::string(origin));
  toml::table out = std::move(*parsed.get("v")->as_table());
  out.is_inline(false);
  return out;
}

void apply_override(Config::Impl& impl, const std::string& text) {
  const std::string origin = std::string(kOverridePrefix) + text;
  const std::size_t eq = text.find('=');
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
  };
  const std::string key = eq == std::string::npos ? std::string() : trim(std::string_view(text).substr(0, eq));
  if (eq == std::string::npos || key.empty()) {
    throw ConfigError(fmt::format("malformed override '{}': expected key=value, e.g. --set train.lr=3e-5", origin));
  }
  const std::string raw = trim(std::string_view(text).substr(eq + 1));
  const auto parts = split_key(key);
  if (!parts || parts->empty()) {
    throw ConfigError(
        fmt::format("malformed override '{}': '{}' is not a dotted key such as train.lr or eval[0].path", origin, key));
  }
  impl.sources.push_back(origin);

  toml::table* table = &impl.root;
  std::string walked;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const KeyPart& part = (*parts)[i];
    const bool last = i + 1 == parts->size();
    toml::node* child = table->get(part.name);
    const std::string here = join_key(walked, part.name);
    if (!child && !last) {
      if (part.index) {
        throw ConfigError(fmt::format("{}: cannot set '{}': there is no array '{}'", origin, key, here));
      }
      table->insert(part.name, located_table(origin));
      child = table->get(part.name);
    }
    if (part.index) {
      toml::array* array = child ? child->as_array() : nullptr;
      if (!array) {
        throw ConfigError(fmt::format("{}: cannot set '{}': '{}' is {}, not an array", origin, key, here,
                                      child ? describe_node(*child) : "missing"));
      }
      const std::size_t index = *part.index;
      const bool append = last && index == array->size();
      if (index >= array->size() && !append) {
        throw ConfigError(fmt::format("{}: cannot set '{}': '{}' has {} item(s)", origin, key, here, array->size()));
      }
      if (last) {
        toml::table holder = parse_override_value(raw, origin);
        toml::node& value = *holder.get("v");
        if (append) {
          array->push_back(std::move(value));
        } else {
          array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(index), std::move(value));
        }
        return;
      }
      child = array->get(index);
    }
    walked = here + (part.index ? fmt::format("[{}]", *part.index) : "");
    if (last) {
      toml::table holder = parse_override_value(raw, origin);
      table->insert_or_assign(part.name, std::move(*holder.get("v")));
      return;
    }
    if (!child->is_table()) {
      throw ConfigError(
          fmt::format("{}: cannot set '{}': '{}' is {}, not a table", origin, key, walked, describe_node(*child)));
    }
    table = child->as_table();
  }
}

// ---- output ------------------------------------------------------------------------------------------

std::string inline_value(const toml::node& node, const Config::Impl& impl) {
  switch (node.type()) {
    case toml::node_type::string: return quote(node.as_string()->get());
    case toml::node_type::integer: return std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point: return format_float(node.as_floating_point()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::date: return stream_text(node.as_date()->get());
    case toml::node_type::time: return stream_text(node.as_time()->get());
    case toml::node_type::date_time: return stream_text(node.as_date_time()->get());
    case toml::node_type::array: {
      std::string out = "[";
      bool first = true;
      for (const toml::node& item : *node.as_array()) {
        out += (first ? "" : ", ") + inline_value(item, impl);
        first = false;
      }
      return out + "]";
    }
    case toml::node_type::table: {
      const auto entries = ordered_entries(*node.as_table(), impl);
      if (entries.empty()) return "{}";
      std::string out = "{ ";
      bool first = true;
      for (const auto& [key, value] : entries) {
        out += (first ? "" : ", ") + quote_key(key) + " = " + inline_value(*value, impl);
        first = false;
      }
      return out + " }";
    }
    default: return "\"\"";
  }
}

bool is_array_of_tables(const toml::node& node) {
  const toml::array* array = node.as_array();
  return array && !array->empty() && array->is_array_of_tables();
}

// Emits a table as [sections] in document order; headers are relative to the view being written.
void emit_table(const toml::table& table, const std::string& header, bool array_item, bool root,
                const Config::Impl& impl, std::string& out) {
  const auto entries = ordered_entries(table, impl);
  std::vector<std::pair<std::string, const toml::node*>> values, tables, table_arrays;
  for (const auto& entry : entries) {
    if (entry.second->is_table()) {
      tables.push_back(entry);
    } else if (is_array_of_tables(*entry.second)) {
      table_arrays.push_back(entry);
    } else {
      values.push_back(entry);
    }
  }
  // A table holding only sub-tables needs no header of its own: theirs define it.
  if (!root && (array_item || !values.empty() || entries.empty())) {
    if (!out.empty()) out += "\n";
    out += array_item ? "[[" + header + "]]\n" : "[" + header + "]\n";
  }
  for (const auto& [key, value] : values) out += quote_key(key) + " = " + inline_value(*value, impl) + "\n";
  for (const auto& [key, value] : tables) {
    emit_table(*value->as_table(), root ? quote_key(key) : header + "." + quote_key(key), false, false, impl, out);
  }
  for (const auto& [key, value] : table_arrays) {
    const std::string path = root ? quote_key(key) : header + "." + quote_key(key);
    for (const toml::node& item : *value->as_array()) emit_table(*item.as_table(), path, true, false, impl, out);
  }
}

nlohmann::ordered_json to_json_value(const toml::node& node, const Config::Impl& impl) {
  switch (node.type()) {
    case toml::node_type::string: return node.as_string()->get();
    case toml::node_type::integer: return node.as_integer()->get();
    case toml::node_type::floating_point: return node.as_floating_point()->get();
    case toml::node_type::boolean: return node.as_boolean()->get();
    case toml::node_type::array: {
      auto out = nlohmann::ordered_json::array();
      for (const toml::node& item : *node.as_array()) out.push_back(to_json_value(item, impl));
      return out;
    }
    case toml::node_type::table: {
      auto out = nlohmann::ordered_json::object();
      for (const auto& [key, value] : ordered_entries(*node.as_table(), impl)) out[key] = to_json_value(*value, impl);
      return out;
    }
    default: return inline_value(node, impl);  // dates and times as their TOML text
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("lr" vs "rl" is one edit).
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  auto lower = [](char ch) { return std::tolower(static_cast<unsigned char>(ch)); };
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

// ---- free functions ------------------------------------------------------------------------------------

const char* to_string(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kInteger: return "integer";
    case ValueType::kFloat: return "float";
    case ValueType::kBoolean: return "boolean";
    case ValueType::kArray: return "array";
    case ValueType::kTable: return "table";
    case ValueType::kPath: return "path";
    case ValueType::kAny: return "any";
  }
  return "unknown";
}

std::string type_phrase(ValueType type) { return expected_phrase(type); }

bool accepts(ValueType expected, ValueType actual) {
  switch (expected) {
    case ValueType::kAny: return true;
    case ValueType::kPath: return actual == ValueType::kString;
    case ValueType::kFloat: return actual == ValueType::kFloat || actual == ValueType::kInteger;
    default: return expected == actual;
  }
}

std::string SourceLocation::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file.empty() ? "<input>" : file, line, column);
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    // Replacing every character is not a typo, whatever the limit says ("lr" is not close to "wd").
    if (distance < best_distance && distance < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// ---- Config ----------------------------------------------------------------------------------------------

Config::Config() : doc_(std::make_shared<Impl>()), table_(&doc_->root) {}

Config::Config(std::shared_ptr<Impl> doc, const void* table, std::string path)
    : doc_(std::move(doc)), table_(table), path_(std::move(path)) {}

Config Config::load(const fs::path& file, const std::vector<std::string>& overrides) {
  auto doc = std::make_shared<Impl>();
  doc->origin = file;
  std::vector<IncludeFrame> stack;
  doc->root = load_file(file, SourceLocation{}, *doc, stack);
  for (const std::string& override_text : overrides) apply_override(*doc, override_text);
  const void* root = &doc->root;
  return Config(std::move(doc), root, "");
}

Config Config::parse(std::string_view toml_text, std::string origin, const std::vector<std::string>& overrides) {
  auto doc = std::make_shared<Impl>();
  doc->origin = origin;
  std::vector<IncludeFrame> stack;
  doc->root = load_text(toml_text, origin, *doc, stack);
  for (const std::string& override_text : overrides) apply_override(*doc, override_text);
  const void* root = &doc->root;
  return Config(std::move(doc), root, "");
}

const fs::path& Config::origin() const { return doc_->origin; }

std::string Config::full_key(std::string_view key) const { return join_key(path_, key); }

const void* Config::node(std::string_view key) const {
  if (key.empty()) return table_;
  return walk(*as_table(table_), key).node;
}

bool Config::contains(std::string_view key) const { return !key.empty() && node(key) != nullptr; }

SourceLocation Config::where(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  return location_of(found ? *found : *as_table(table_), *doc_);
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  for (auto& entry : ordered_entries(*as_table(table_), *doc_)) out.push_back(std::move(entry.first));
  return out;
}

std::optional<ValueType> Config::type_of(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  if (!found) return std::nullopt;
  return value_type_of(*found);
}

std::string Config::describe(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  return found ? describe_node(*found) : std::string();
}

void Config::fail(std::string_view key, std::string_view message) const {
  throw ConfigError(prefixed(where(key), fmt::format("key '{}': {}", full_key(key), message)));
}

const void* Config::require(std::string_view key, ValueType expected) const {
  const Lookup found = walk(*as_table(table_), key);
  if (found.malformed) {
    throw ConfigError(
        prefixed(where(), fmt::format("malformed key '{}' (expected a dotted key such as train.lr)", full_key(key))));
  }
  if (found.node) {
    if (accepts(expected, value_type_of(*found.node))) return found.node;
    throw ConfigError(
        prefixed(location_of(*found.node, *doc_), fmt::format("key '{}': expected {}, found {}", full_key(key),
                                                              expected_phrase(expected), describe_node(*found.node))));
  }
  if (found.blocker) {
    throw ConfigError(prefixed(location_of(*found.blocker, *doc_),
                               fmt::format("key '{}': '{}' is {}, not a table", full_key(key),
                                           full_key(found.blocker_key), describe_node(*found.blocker))));
  }
  const std::string container = full_key(found.container_key);
  std::string message = fmt::format("key '{}' is missing from {}", full_key(key), table_label(container));
  if (const toml::table* table = found.container->as_table()) {
    std::vector<std::string> names;
    for (auto&& entry : *table) names.emplace_back(entry.first.str());
    const std::string suggestion = closest_match(found.missing, names);
    if (!suggestion.empty()) message += fmt::format("; did you mean '{}'?", join_key(container, suggestion));
  } else {
    message = fmt::format("key '{}': '{}' has only {} item(s)", full_key(key), container,
                          found.container->as_array()->size());
  }
  throw ConfigError(prefixed(location_of(*found.container, *doc_), message));
}

std::string Config::get_string(std::string_view key) const {
  return as_node(require(key, ValueType::kString))->as_string()->get();
}

std::int64_t Config::get_int(std::string_view key) const {
  return as_node(require(key, ValueType::kInteger))->as_integer()->get();
}

double Config::get_double(std::string_view key) const {
  const toml::node* found = as_node(require(key, ValueType::kFloat));
  if (const auto* integer = found->as_integer()) return static_cast<double>(integer->get());
  return found->as_floating_point()->get();
}

bool Config::get_bool(std::string_view key) const {
  return as_node(require(key, ValueType::kBoolean))->as_boolean()->get();
}

// Expands ${NAME} and ${NAME:-fallback} from the environment, so recipes can say where shared data
// lives (e.g. "${SENTBENCH_DATA:-../data}/stsb/sts-test.csv"). An unset variable without a fallback
// is an error naming it.
std::string Config::expand_env(std::string_view key, const std::string& text) const {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    const std::size_t close = text.find('}', open);
    if (close == std::string::npos) fail(key, "unterminated ${...} in \"" + text + "\"");
    out.append(text, i, open - i);
    const std::string inner = text.substr(open + 2, close - open - 2);
    const std::size_t dash = inner.find(":-");
    const std::string name = inner.substr(0, dash);
    const char* value = std::getenv(name.c_str());
    if (value && *value) {
      out += value;
    } else if (dash != std::string::npos) {
      out += inner.substr(dash + 2);
    } else {
      fail(key, "environment variable " + name + " is not set (write ${" + name + ":-fallback} to give a default)");
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

fs::path Config::get_path(std::string_view key) const {
  const toml::node* found = as_node(require(key, ValueType::kPath));
  const std::string text = expand_env(key, found->as_string()->get());
  if (text == "~" || text.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home && *home) return fs::path(home) / text.substr(std::min<std::size_t>(2, text.size()));
    return fs::path(text);
  }
  const fs::path value(text);
  if (value.is_absolute()) return value;
  // Relative to the file that set it (an include's paths stay relative to the include); values from
  // --set or from text without a file are relative to the working directory.
  const auto& source = found->source().path;
  if (!source || is_override_source(*source)) return value;
  return (fs::path(*source).parent_path() / value).lexically_normal();
}

std::vector<std::string> Config::get_strings(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  if (found && !found->is_array()) fail(key, "expected an array of strings, found " + describe_node(*found));
  const toml::array* array = as_node(require(key, ValueType::kArray))->as_array();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    if (!item.is_string()) fail(fmt::format("{}[{}]", key, i), "expected a string, found " + describe_node(item));
    out.push_back(item.as_string()->get());
  }
  return out;
}

std::vector<double> Config::get_doubles(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  if (found && !found->is_array()) fail(key, "expected an array of floats, found " + describe_node(*found));
  const toml::array* array = as_node(require(key, ValueType::kArray))->as_array();
  std::vector<double> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    if (const auto* integer = item.as_integer()) {
      out.push_back(static_cast<double>(integer->get()));
    } else if (const auto* floating = item.as_floating_point()) {
      out.push_back(floating->get());
    } else {
      fail(fmt::format("{}[{}]", key, i), "expected a float, found " + describe_node(item));
    }
  }
  return out;
}

std::vector<std::int64_t> Config::get_ints(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  if (found && !found->is_array()) fail(key, "expected an array of integers, found " + describe_node(*found));
  const toml::array* array = as_node(require(key, ValueType::kArray))->as_array();
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    if (!item.is_integer()) fail(fmt::format("{}[{}]", key, i), "expected an integer, found " + describe_node(item));
    out.push_back(item.as_integer()->get());
  }
  return out;
}

std::string Config::get_string(std::string_view key, std::string_view fallback) const {
  return contains(key) ? get_string(key) : std::string(fallback);
}

std::int64_t Config::get_int(std::string_view key, std::int64_t fallback) const {
  return contains(key) ? get_int(key) : fallback;
}

double Config::get_double(std::string_view key, double fallback) const {
  return contains(key) ? get_double(key) : fallback;
}

bool Config::get_bool(std::string_view key, bool fallback) const { return contains(key) ? get_bool(key) : fallback; }

fs::path Config::get_path(std::string_view key, const fs::path& fallback) const {
  return contains(key) ? get_path(key) : fallback;
}

Config Config::table(std::string_view key) const {
  return Config(doc_, require(key, ValueType::kTable), full_key(key));
}

Config Config::table_or_empty(std::string_view key) const {
  if (!contains(key)) return Config(doc_, &doc_->empty, full_key(key));
  return table(key);
}

std::vector<Config> Config::tables(std::string_view key) const {
  const toml::node* found = as_node(node(key));
  if (!found) return {};
  const toml::array* array = found->as_array();
  if (!array) fail(key, "expected an array of tables ([[" + full_key(key) + "]]), found " + describe_node(*found));
  std::vector<Config> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string item_key = fmt::format("{}[{}]", key, i);
    out.push_back(table(item_key));
  }
  return out;
}

std::string Config::to_toml() const {
  std::string out;
  emit_table(*as_table(table_), "", false, true, *doc_, out);
  return out;
}

std::string Config::to_json() const { return to_json_value(*as_table(table_), *doc_).dump(2); }

}  // namespace sentbench
