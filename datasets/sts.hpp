// STS pair sets: the STS-B csv files, the sentence-transformers stsbenchmark.tsv.gz, SICK, or any TSV
// with named columns.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sentbench {

struct StsPair {
  std::string a;
  std::string b;
  double score = 0;
};

struct StsDataset {
  std::vector<StsPair> pairs;
  std::string hash;  // content hash of the file plus the read settings
};

// How to read the file. format:
//   "stsb"  STS-B csv: tab-separated genre, file, year, id, score, sentence1, sentence2 (extra columns
//           ignored; no header);
//   "stsb-gz" sentence-transformers layout, gzip TSV with header
//           split genre dataset year sid score sentence1 sentence2 (rows of `split` only);
//   "sick"  SICK: header with sentence_A, sentence_B, relatedness_score (and SemEval_set: rows of
//           `split` when present — TRAIN/TRIAL/TEST, matched case-insensitively; "dev" means TRIAL);
//   "tsv"   header row; columns named by sentence1_column, sentence2_column, score_column; a `split`
//           column filters when split_column is set;
//   "auto"  by name, ignoring case: *.tsv.gz → stsb-gz, sts-*.csv(.gz) → stsb, *SICK* → sick, else tsv.
// .gz files are read through zlib in every format. Fields are split on tabs only: quotes are ordinary
// characters (STS-B sentences contain unbalanced ones). Split values match case-insensitively; an
// empty `split` keeps every row. Blank lines are skipped.
struct StsReadOptions {
  std::string format = "auto";
  std::string split = "test";
  std::string sentence1_column = "sentence1";
  std::string sentence2_column = "sentence2";
  std::string score_column = "score";
  std::string split_column;  // empty: no filtering (tsv)
};

// DataError names file and line for a score that is not a number (or not finite), a row with too few
// columns, a missing named column; and names the file when it has no pairs (listing the splits seen).
// ConfigError for an unknown format.
StsDataset load_sts(const std::filesystem::path& path, const StsReadOptions& options = {});

}  // namespace sentbench
