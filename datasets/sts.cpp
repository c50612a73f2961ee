// STS readers: every format reduces to "which tab-separated columns hold the two sentences and the score,
// and which rows belong to the split".
#include "sts.hpp"

#include <set>

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

using detail::ascii_lower;
using detail::excerpt;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "auto" decided by file name, as documented in sts.hpp.
std::string resolve_format(const fs::path& path, const std::string& format) {
  static const std::set<std::string> known = {"stsb", "stsb-gz", "sick", "tsv"};
  if (known.count(format)) return format;
  if (format != "auto")
    throw ConfigError(fmt::format("unknown STS format \"{}\" for {}: choose auto, stsb, stsb-gz, sick or tsv", format,
                                  path.string()));
  const std::string name = ascii_lower(path.filename().string());
  if (ends_with(name, ".tsv.gz")) return "stsb-gz";
  if (name.rfind("sts-", 0) == 0 && (ends_with(name, ".csv") || ends_with(name, ".csv.gz"))) return "stsb";
  if (name.find("sick") != std::string::npos) return "sick";
  return "tsv";
}

// Where the fields of one pair are. Header formats fill the indices from column names.
struct Layout {
  std::size_t a = 0, b = 0, score = 0;
  std::optional<std::size_t> split;  // filter column, when rows are filtered
  std::string split_value;           // lower-cased wanted value
  std::size_t min_fields = 0;
};

// Column names looked up in a header row for one format.
struct HeaderNames {
  std::string a, b, score, split;  // split empty: no filtering
  bool split_optional = false;     // SICK files without SemEval_set are one split already
  std::string hint;                // how to fix a missing column
};

Layout layout_from_header(const LineReader& reader, const std::string& header, const HeaderNames& names) {
  const auto fields = detail::split_tabs(header);
  std::string listed;
  for (const auto& f : fields) listed += (listed.empty() ? "\"" : ", \"") + excerpt(f, 40) + "\"";
  const auto find = [&](const std::string& name, bool required) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i] == name) return i;
    if (!required) return std::nullopt;
    throw DataError(fmt::format("{}: the header has no column \"{}\" (columns: {}); {}", reader.where(), name, listed,
                                names.hint));
  };
  Layout layout;
  layout.a = *find(names.a, true);
  layout.b = *find(names.b, true);
  layout.score = *find(names.score, true);
  if (!names.split.empty()) layout.split = find(names.split, !names.split_optional);
  layout.min_fields = std::max({layout.a, layout.b, layout.score, layout.split.value_or(0)}) + 1;
  return layout;
}

// SemEval_set values are TRAIN / TRIAL / TEST; "dev" is accepted for TRIAL so one split name works across
// formats.
std::string sick_split(const std::string& split) {
  const std::string lower = ascii_lower(split);
  return lower == "dev" ? "trial" : lower;
}

}  // namespace

StsDataset load_sts(const fs::path& path, const StsReadOptions& options) {
  const std::string format = resolve_format(path, options.format);
  LineReader reader(path);
  std::string line;

  Layout layout;
  std::string settings = "format=" + format;
  if (format == "stsb") {
    layout.a = 5;
    layout.b = 6;
    layout.score = 4;
    layout.min_fields = 7;
  } else {
    HeaderNames names;
    if (format == "stsb-gz") {
      names = {"sentence1", "sentence2", "score", options.split.empty() ? "" : "split", false,
               "expected the sentence-transformers header \"split genre dataset year sid score sentence1 sentence2\""};
    } else if (format == "sick") {
      names = {"sentence_A", "sentence_B", "relatedness_score", options.split.empty() ? "" : "SemEval_set", true,
               "expected a SICK header with sentence_A, sentence_B, relatedness_score (and SemEval_set)"};
    } else {
      names = {options.sentence1_column, options.sentence2_column, options.score_column, options.split_column, false,
               "name the columns with sentence1_column, sentence2_column, score_column (and split_column)"};
      settings += fmt::format(";columns={},{},{},{}", names.a, names.b, names.score, names.split);
    }
    do {
      if (!reader.next(line))
        throw DataError(fmt::format("{}: the file is empty; {}", path.string(), names.hint));
    } while (detail::is_blank(line));
    layout = layout_from_header(reader, line, names);
    if (layout.split) {
      layout.split_value = format == "sick" ? sick_split(options.split) : ascii_lower(options.split);
      settings += ";split=" + layout.split_value;
    }
  }

  StsDataset out;
  std::set<std::string> splits_seen;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    const auto fields = detail::split_tabs(line);
    if (fields.size() < layout.min_fields)
      throw DataError(fmt::format("{}: expected at least {} tab-separated columns, found {}{}", reader.where(),
                                  layout.min_fields, fields.size(),
                                  format == "stsb" ? " (STS-B rows: genre, file, year, id, score, sentence1, sentence2)"
                                                   : ""));
    if (layout.split) {
      std::string value = ascii_lower(fields[*layout.split]);
      const bool keep = value == layout.split_value;
      if (splits_seen.size() < 20) splits_seen.insert(std::move(value));
      if (!keep) continue;
    }
    const auto score = detail::parse_double(fields[layout.score]);
    if (!score)
      throw DataError(fmt::format(
          "{}: score \"{}\" (column {}) is not a number{}", reader.where(), excerpt(fields[layout.score]),
          layout.score + 1,
          format == "stsb" && reader.line_number() == 1
              ? "; this looks like a header row: STS-B csv files have none (set format to stsb-gz or tsv)"
              : ""));
    out.pairs.push_back({std::string(fields[layout.a]), std::string(fields[layout.b]), *score});
  }
  if (out.pairs.empty()) {
    if (layout.split) {
      std::string seen;
      for (const auto& s : splits_seen) seen += (seen.empty() ? "" : ", ") + s;
      throw DataError(fmt::format("{}: no pairs of split \"{}\" (splits present: {})", path.string(), options.split,
                                  seen.empty() ? "none" : seen));
    }
    throw DataError(fmt::format("{}: no pairs in the file", path.string()));
  }
  out.hash = hash_bytes(hash_file(path) + ";" + settings);
  return out;
}

}  // namespace sentbench
