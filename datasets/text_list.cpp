// read_text_list: plain lines or JSONL strings.
#include "text_list.hpp"

#include "parse_util.hpp"

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
    const nlohmann::json value = detail::parse_json_line(reader, line, "string");
    if (value.is_string()) {
      texts.push_back(value.get<std::string>());
    } else if (value.is_object() && value.contains("text") && value["text"].is_string()) {
      texts.push_back(value["text"].get<std::string>());
    } else {
      throw DataError(fmt::format("{}: expected a JSON string (or an object with a \"text\" string), found {}: {}",
                                  reader.where(), value.is_object() ? "an object without a \"text\" string"
                                                                    : std::string("a JSON ") + value.type_name(),
                                  detail::excerpt(line)));
    }
  }
  return texts;
}

}  // namespace sentbench
