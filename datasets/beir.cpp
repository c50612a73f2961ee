// BEIR folder reader: validates ids across the three files so a retrieval score never silently ignores
// a judgement.
#include "beir.hpp"

#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

using detail::excerpt;

// file.jsonl, or file.jsonl.gz when only the compressed copy is there (large BEIR corpora ship gzipped).
fs::path find_jsonl(const fs::path& dir, const std::string& stem) {
  const fs::path plain = dir / (stem + ".jsonl");
  if (fs::exists(plain)) return plain;
  const fs::path gz = dir / (stem + ".jsonl.gz");
  if (fs::exists(gz)) return gz;
  throw IoError(fmt::format("BEIR folder {} has no {}.jsonl (a BEIR folder holds corpus.jsonl, queries.jsonl and "
                            "qrels/<split>.tsv)",
                            dir.string(), stem));
}

fs::path find_qrels(const fs::path& dir, const std::string& split) {
  const fs::path path = dir / "qrels" / (split + ".tsv");
  if (fs::exists(path)) return path;
  std::set<std::string> splits;
  if (fs::is_directory(dir / "qrels"))
    for (const auto& entry : fs::directory_iterator(dir / "qrels"))
      if (entry.path().extension() == ".tsv") splits.insert(entry.path().stem().string());
  std::string available;
  for (const auto& s : splits) available += (available.empty() ? "" : ", ") + s;
  throw IoError(fmt::format("BEIR folder {} has no qrels/{}.tsv; {}", dir.string(), split,
                            available.empty() ? std::string("no qrels/*.tsv files at all")
                                              : "splits available: " + available));
}

// The id of a corpus or queries line, as a string.
std::string read_id(const LineReader& reader, const nlohmann::json& object) {
  const auto it = object.find("_id");
  if (it == object.end())
    throw DataError(fmt::format("{}: no \"_id\" field (every line needs \"_id\" and \"text\")", reader.where()));
  auto id = detail::string_or_integer(*it);
  if (!id)
    throw DataError(fmt::format("{}: \"_id\" must be a string or an integer, found a JSON {}", reader.where(),
                                it->type_name()));
  if (id->empty()) throw DataError(fmt::format("{}: \"_id\" is empty", reader.where()));
  return *id;
}

std::string read_string(const LineReader& reader, const nlohmann::json& object, const char* key, bool required) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required)
      throw DataError(fmt::format("{}: no \"{}\" field (every line needs \"_id\" and \"text\")", reader.where(), key));
    return {};
  }
  if (!it->is_string())
    throw DataError(fmt::format("{}: \"{}\" must be a string, found a JSON {}", reader.where(), key, it->type_name()));
  return it->get<std::string>();
}

std::string strip(std::string text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::size_t b = 0, e = text.size();
  while (b < e && space(text[b])) ++b;
  while (e > b && space(text[e - 1])) --e;
  return text.substr(b, e - b);
}

// Ids and texts of a corpus or queries file, with the line of each id for duplicate messages.
struct JsonlTexts {
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  std::unordered_map<std::string, std::int64_t> line_of;  // id -> line
};

JsonlTexts read_texts(const fs::path& path, bool with_title) {
  JsonlTexts out;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    const nlohmann::json object = detail::parse_json_object(reader, line);
    std::string id = read_id(reader, object);
    std::string text = read_string(reader, object, "text", true);
    if (with_title) {
      // As BEIR's and MTEB's evaluators join them: "title text", stripped; no title -> just the text.
      const std::string title = read_string(reader, object, "title", false);
      if (!title.empty()) text = title + " " + text;
    }
    const auto [it, inserted] = out.line_of.emplace(id, reader.line_number());
    if (!inserted)
      throw DataError(fmt::format("{}: duplicate _id \"{}\" (first on line {}); ids must be unique", reader.where(),
                                  excerpt(id), it->second));
    out.ids.push_back(std::move(id));
    out.texts.push_back(strip(std::move(text)));
  }
  return out;
}

// query id -> judgements, every id checked against the corpus and queries.
std::map<std::string, std::unordered_map<std::string, int>> read_qrels(const fs::path& path, const JsonlTexts& corpus,
                                                      const JsonlTexts& queries, const fs::path& corpus_path,
                                                      const fs::path& queries_path) {
  std::map<std::string, std::unordered_map<std::string, int>> qrels;
  // Line of each (query, doc) judgement, so a contradicting repeat can name both lines.
  std::unordered_map<std::string, std::int64_t> judged_on;
  LineReader reader(path);
  std::string line;
  bool first = true;
  while (reader.next(line)) {
    if (detail::is_blank(line)) continue;
    const auto fields = detail::split_tabs(line);
    const bool was_first = first;
    first = false;
    if (fields.size() != 3)
      throw DataError(fmt::format("{}: expected 3 tab-separated columns (query-id, corpus-id, score), found {}",
                                  reader.where(), fields.size()));
    const auto gain = detail::parse_integer(fields[2]);
    if (!gain) {
      // The header line is optional: a first line whose score is not a number, naming no known query,
      // is the header.
      if (was_first && !queries.line_of.count(std::string(fields[0]))) continue;
      throw DataError(fmt::format("{}: score \"{}\" is not an integer (gains are whole numbers such as 0, 1, 2)",
                                  reader.where(), excerpt(fields[2])));
    }
    const std::string query_id(fields[0]);
    const std::string doc_id(fields[1]);
    if (!queries.line_of.count(query_id))
      throw DataError(fmt::format("{}: query id \"{}\" is not in {}; the qrels and queries files do not belong "
                                  "together (use the matching versions, or delete the line)",
                                  reader.where(), excerpt(query_id), queries_path.filename().string()));
    if (!corpus.line_of.count(doc_id))
      throw DataError(fmt::format("{}: document id \"{}\" is not in {}; the qrels and corpus files do not belong "
                                  "together (use the matching versions, or delete the line)",
                                  reader.where(), excerpt(doc_id), corpus_path.filename().string()));
    auto& judgements = qrels[query_id];
    const auto [it, inserted] = judgements.emplace(doc_id, static_cast<int>(*gain));
    std::string key = query_id + '\t' + doc_id;
    if (inserted) {
      judged_on.emplace(std::move(key), reader.line_number());
    } else if (it->second != *gain) {
      throw DataError(fmt::format("{}: query \"{}\" judges document \"{}\" again with a different score ({} here, "
                                  "{} on line {}); keep one of the lines",
                                  reader.where(), excerpt(query_id), excerpt(doc_id), *gain, it->second,
                                  judged_on.at(key)));
    }
  }
  return qrels;
}

}  // namespace

BeirDataset load_beir(const fs::path& dir, const std::string& split) {
  if (!fs::is_directory(dir)) throw IoError(fmt::format("BEIR folder {} not found", dir.string()));
  const fs::path corpus_path = find_jsonl(dir, "corpus");
  const fs::path queries_path = find_jsonl(dir, "queries");
  const fs::path qrels_path = find_qrels(dir, split);

  JsonlTexts corpus = read_texts(corpus_path, true);
  if (corpus.ids.empty())
    throw DataError(fmt::format("{}: the corpus is empty (no documents); expected one JSON object "
                                "{{\"_id\", \"title\", \"text\"}} per line",
                                corpus_path.string()));
  JsonlTexts queries = read_texts(queries_path, false);
  auto qrels = read_qrels(qrels_path, corpus, queries, corpus_path, queries_path);
  if (qrels.empty())
    throw DataError(fmt::format("{}: no judgements, so no query can be scored; expected lines "
                                "\"query-id<TAB>corpus-id<TAB>score\"",
                                qrels_path.string()));

  BeirDataset out;
  out.doc_ids = std::move(corpus.ids);
  out.doc_texts = std::move(corpus.texts);
  // Queries without a judgement line in this split are not part of it (BEIR evaluates qrels' queries).
  for (std::size_t i = 0; i < queries.ids.size(); ++i) {
    if (!qrels.count(queries.ids[i])) continue;
    out.query_ids.push_back(std::move(queries.ids[i]));
    out.query_texts.push_back(std::move(queries.texts[i]));
  }
  out.qrels = std::move(qrels);
  out.hash = hash_bytes(hash_file(corpus_path) + hash_file(queries_path) + hash_file(qrels_path));
  return out;
}

}  // namespace sentbench
