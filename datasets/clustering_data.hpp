// Clustering sets: JSONL {"text", "label"} or TSV "label<TAB>text".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sentbench {

struct ClusteringDataset {
  std::vector<std::string> texts;
  std::vector<std::int64_t> labels;       // index into label_names
  std::vector<std::string> label_names;   // in order of first appearance
  std::string hash;
};

// By extension: .jsonl / .jsonl.gz as JSON objects (label a string or an integer, which becomes its
// decimal text), anything else as TSV split at the first tab (the text may contain tabs; a first line
// "label<TAB>text" is a header). DataError names file and line for malformed lines and missing fields;
// an empty set or one with fewer than two labels is refused (naming the file).
ClusteringDataset load_clustering(const std::filesystem::path& path);

}  // namespace sentbench
