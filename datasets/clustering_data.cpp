// Clustering set reader: labels become dense indices in order of first appearance, so k = label count.
#include "clustering_data.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

bool is_jsonl(const fs::path& path) {
  const std::string name = detail::ascii_lower(path.filename().string());
  const auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".jsonl") || ends(".jsonl.gz");
}

}  // namespace

ClusteringDataset load_clustering(const fs::path& path) {
  const bool jsonl = is_jsonl(path);
  ClusteringDataset out;
  std::unordered_map<std::string, std::int64_t> label_index;
  const auto add = [&](std::string label, std::string text) {
    const auto [it, inserted] = label_index.emplace(label, static_cast<std::int64_t>(out.label_names.size()));
    if (inserted) out.label_names.push_back(std::move(label));
    out.labels.push_back(it->second);
    out.texts.push_back(std::move(text));
  };

  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    if (jsonl) {
      const nlohmann::json object = detail::parse_json_object(reader, line);
      const auto text = object.find("text");
      if (text == object.end() || !text->is_string())
        throw DataError(fmt::format("{}: {} (each line is {{\"text\": string, \"label\": string or integer}})",
                                    reader.where(),
                                    text == object.end() ? "no \"text\" field" : "\"text\" is not a string"));
      const auto label = object.find("label");
      if (label == object.end())
        throw DataError(fmt::format("{}: no \"label\" field (each line is {{\"text\": string, \"label\": string or "
                                    "integer}})",
                                    reader.where()));
      auto name = detail::string_or_integer(*label);
      if (!name)
        throw DataError(fmt::format("{}: \"label\" must be a string or an integer, found a JSON {}", reader.where(),
                                    label->type_name()));
      add(std::move(*name), text->get<std::string>());
    } else {
      const auto tab = line.find('\t');
      if (tab == std::string::npos)
        throw DataError(fmt::format("{}: no tab: expected \"label<TAB>text\" (a .jsonl name selects the JSON "
                                    "format)",
                                    reader.where()));
      // An optional header row, as spreadsheet exports write it.
      if (reader.line_number() == 1 && line == "label\ttext") continue;
      // Texts may themselves contain tabs: only the first one separates the label.
      add(line.substr(0, tab), line.substr(tab + 1));
    }
  }
  if (out.texts.empty()) throw DataError(fmt::format("{}: no texts in the file", path.string()));
  if (out.label_names.size() < 2)
    throw DataError(fmt::format("{}: all {} texts have the label \"{}\"; clustering needs at least two labels",
                                path.string(), out.texts.size(), detail::excerpt(out.label_names[0])));
  out.hash = hash_file(path);
  return out;
}

}  // namespace sentbench
