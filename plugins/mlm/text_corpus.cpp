// Reading the masked-LM corpus (text_corpus.hpp) with the dataset readers' line and JSONL rules.
#include "text_corpus.hpp"

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/data/text_file.hpp"
#include "sentbench/data/text_list.hpp"

namespace fs = std::filesystem;

namespace sentbench::mlm {

CorpusFormat corpus_format(const fs::path& file) {
  fs::path name = file.filename();
  if (name.extension() == ".gz") name = name.stem();
  const std::string ext = name.extension().string();
  return ext == ".jsonl" || ext == ".json" ? CorpusFormat::kJsonl : CorpusFormat::kLines;
}

std::vector<std::string> read_held_out(const fs::path& file, std::size_t count) {
  const CorpusFormat format = corpus_format(file);
  std::vector<std::string> texts;
  if (count == 0) return texts;
  LineReader reader(file);
  std::string line;
  while (texts.size() < count && reader.next(line)) {
    if (detail::is_blank(line)) continue;  // the stream skips them too: both count the same lines
    texts.push_back(format == CorpusFormat::kJsonl ? parse_text_json(line, reader.where()) : line);
  }
  return texts;
}

TextStream::TextStream(fs::path file, std::uint64_t seed, std::size_t buffer, std::uint64_t held_out)
    : lines_(file, seed, buffer, held_out, "lower `held_out` or use a larger corpus"), format_(corpus_format(file)) {}

std::string TextStream::next() {
  NumberedLine line = lines_.next();
  if (format_ == CorpusFormat::kLines) return std::move(line.text);
  return parse_text_json(line.text, fmt::format("{}:{}", lines_.file().string(), line.line_number));
}

}  // namespace sentbench::mlm
