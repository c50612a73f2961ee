// read_text_list: plain lines or JSONL strings.
#include "sentbench/data/text_list.hpp"

#include "sentbench/data/parse_util.hpp"

namespace sentbench {

std::vector<std::string> read_text_list(const std::filesystem::path& path, TextListFormat format) {
  std::vector<std::string> texts;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (format == TextListFormat::kLines) {
      texts.push_back(line);
      continue;
    }
    if (detail::is_blank(line)) continue;
    texts.push_back(parse_text_json(line, reader.where()));
  }
  return texts;
}

std::string parse_text_json(const std::string& line, const std::string& where) {
  nlohmann::json value = detail::parse_json_line(where, line, "string");
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("text") && value["text"].is_string()) return value["text"].get<std::string>();
  throw DataError(fmt::format("{}: expected a JSON string (or an object with a \"text\" string), found {}: {}", where,
                              value.is_object() ? "an object without a \"text\" string"
                                                : std::string("a JSON ") + value.type_name(),
                              detail::excerpt(line)));
}

}  // namespace sentbench
