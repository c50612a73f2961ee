// BEIR retrieval folders: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unordered_map>

namespace sentbench {

struct BeirDataset {
  std::vector<std::string> doc_ids;
  std::vector<std::string> doc_texts;     // title + " " + text, stripped (just text when no/empty title)
  std::vector<std::string> query_ids;     // only queries that appear in the qrels of the split, file order
  std::vector<std::string> query_texts;
  std::map<std::string, std::unordered_map<std::string, int>> qrels;  // query id -> doc id -> gain (metrics::Judgements)
  std::string hash;                       // hash of the three files' content hashes
};

// Reads a BEIR folder. DataError names file and line for: a malformed JSON line, a line without _id or
// text, duplicate ids, qrels naming unknown query or document ids, a gain that is not an integer, a
// (query, doc) pair judged twice with different gains, a qrels line without exactly 3 tab-separated
// columns; and names the file for an empty corpus or no judgements. The qrels header line
// ("query-id corpus-id score") is optional. _id may be a JSON string or integer (integers become their
// decimal text). corpus.jsonl.gz / queries.jsonl.gz are read when the plain file is absent. IoError for a
// missing folder or file (listing the splits that exist).
BeirDataset load_beir(const std::filesystem::path& dir, const std::string& split = "test");

}  // namespace sentbench
