// Pair-classification and reranking sets.
#include "mteb_sets.hpp"

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/data/text_file.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

bool has_jsonl_name(const fs::path& path) {
  const std::string name = detail::ascii_lower(path.filename().string());
  for (const std::string ext : {".jsonl", ".jsonl.gz"}) {
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) return true;
  }
  return false;
}

std::string string_field(const nlohmann::json& object, const char* key, const LineReader& reader, const char* layout) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    throw DataError(fmt::format("{}: {} \"{}\" (each line is {})", reader.where(),
                                it == object.end() ? "no" : "a non-string", key, layout));
  }
  return it->get<std::string>();
}

int binary_label(std::string_view text, const LineReader& reader) {
  const auto value = detail::parse_integer(text);
  if (!value || (*value != 0 && *value != 1)) {
    throw DataError(fmt::format("{}: the label must be 0 or 1, not \"{}\"", reader.where(), detail::excerpt(text)));
  }
  return static_cast<int>(*value);
}

}  // namespace

PairClassificationDataset load_pair_classification(const fs::path& path) {
  constexpr const char* kLayout = "{\"text1\": string, \"text2\": string, \"label\": 0 or 1}";
  const bool jsonl = has_jsonl_name(path);
  PairClassificationDataset out;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    if (jsonl) {
      const nlohmann::json object = detail::parse_json_object(reader, line);
      out.text1.push_back(string_field(object, "text1", reader, kLayout));
      out.text2.push_back(string_field(object, "text2", reader, kLayout));
      const auto label = object.find("label");
      if (label == object.end() || !label->is_number_integer()) {
        throw DataError(fmt::format("{}: {} \"label\" (each line is {})", reader.where(),
                                    label == object.end() ? "no" : "a non-integer", kLayout));
      }
      out.labels.push_back(binary_label(std::to_string(label->get<long long>()), reader));
    } else {
      if (reader.line_number() == 1 && line == "text1\ttext2\tlabel") continue;  // a header row
      const auto fields = detail::split_tabs(line);
      if (fields.size() != 3) {
        throw DataError(fmt::format("{}: expected text1<TAB>text2<TAB>label, found {} field{} (a .jsonl name selects "
                                    "the JSON format)", reader.where(), fields.size(), fields.size() == 1 ? "" : "s"));
      }
      out.text1.emplace_back(fields[0]);
      out.text2.emplace_back(fields[1]);
      out.labels.push_back(binary_label(fields[2], reader));
    }
  }
  std::size_t positives = 0;
  for (const int l : out.labels) positives += static_cast<std::size_t>(l);
  if (positives == 0 || positives == out.labels.size()) {
    throw DataError(fmt::format("{}: {} pairs, {} labelled 1: pair classification needs both labels", path.string(),
                                out.labels.size(), positives));
  }
  out.hash = hash_file(path);
  return out;
}

RerankingDataset load_reranking(const fs::path& path) {
  constexpr const char* kLayout = "{\"query\": string, \"positive\": [string, ...], \"negative\": [string, ...]}";
  RerankingDataset out;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    const nlohmann::json object = detail::parse_json_object(reader, line);
    RerankingSample sample;
    sample.query = string_field(object, "query", reader, kLayout);
    for (const char* key : {"positive", "negative"}) {
      const auto list = object.find(key);
      if (list == object.end() || !list->is_array() || list->empty()) {
        throw DataError(fmt::format("{}: \"{}\" must be a non-empty list of strings (each line is {})", reader.where(),
                                    key, kLayout));
      }
      for (const auto& item : *list) {
        if (!item.is_string()) throw DataError(fmt::format("{}: \"{}\" holds a non-string", reader.where(), key));
        (std::string(key) == "positive" ? sample.positive : sample.negative).push_back(item.get<std::string>());
      }
    }
    out.samples.push_back(std::move(sample));
  }
  if (out.samples.empty()) throw DataError(fmt::format("{}: no queries in the file", path.string()));
  out.hash = hash_file(path);
  return out;
}

}  // namespace sentbench
