// Readers of the data of the MTEB-style task types: pair classification (two texts and a 0/1 label)
// and reranking (a query with positive and negative candidates). Classification reads the clustering
// format (clustering_data.hpp) for its train and test files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sentbench {

struct PairClassificationDataset {
  std::vector<std::string> text1, text2;
  std::vector<int> labels;  // 0 or 1
  std::string hash;
};
// JSONL ({"text1": string, "text2": string, "label": 0 or 1}; .jsonl / .jsonl.gz names) or TSV
// (text1<TAB>text2<TAB>label, a first line "text1<TAB>text2<TAB>label" is a header). DataError names
// file and line for a malformed line or a label other than 0/1; a set without both labels is refused.
PairClassificationDataset load_pair_classification(const std::filesystem::path& path);

struct RerankingSample {
  std::string query;
  std::vector<std::string> positive, negative;
};
struct RerankingDataset {
  std::vector<RerankingSample> samples;
  std::string hash;
};
// JSONL, one {"query": string, "positive": [string...], "negative": [string...]} a line (MTEB's
// reranking layout). DataError names file and line for a malformed line; a sample needs at least one
// positive and one negative (MTEB drops the others; sentbench refuses them so the data is fixed once).
RerankingDataset load_reranking(const std::filesystem::path& path);

}  // namespace sentbench
