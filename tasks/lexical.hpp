// Lexical baselines reported beside every model: BM25 for retrieval, a TF-IDF vector model for STS and
// clustering. Both use the same word analyser (Unicode case folding, letters/digits runs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <torch/types.h>

#include "metrics.hpp"

namespace sentbench {

// Splits text into words: NFKC + Unicode case folding (default-ignorable characters dropped), then
// maximal runs of letters (L*) and numbers (N*), with combining marks (M*) continuing a word. Via
// utf8proc; invalid UTF-8 bytes become U+FFFD (never fatal) and so separate words.
std::vector<std::string> analyze(std::string_view text);

// Okapi BM25 over an in-memory corpus (inverted index). Defaults k1 = 0.9, b = 0.4 (Anserini's, as
// BEIR's BM25 numbers use); idf = ln(1 + (N - df + 0.5) / (df + 0.5)).
class Bm25 {
 public:
  // std::invalid_argument unless k1 >= 0 and 0 <= b <= 1, or when the two lists differ in length.
  Bm25(const std::vector<std::string>& doc_ids, const std::vector<std::string>& doc_texts, double k1 = 0.9, double b = 0.4);
  // Top-k documents of a query, trec_sort-ed; only documents sharing a word with the query (fewer than k
  // when few match). A word repeated in the query counts once per occurrence (Anserini's weighting).
  // Thread-safe for concurrent searches.
  std::vector<metrics::Scored> search(std::string_view query, std::int64_t k) const;
  // The score of one document (index into the constructor's lists) for a query: the value search() gives
  // it, bit for bit; 0 when they share no word. std::out_of_range for an index past the corpus.
  double score(std::string_view query, std::size_t doc) const;
  std::size_t size() const { return doc_ids_.size(); }
  double k1() const { return k1_; }
  double b() const { return b_; }

 private:
  struct Posting {
    std::uint32_t doc;
    std::uint32_t tf;
  };
  // One query word's contribution to a document's score (search and score add them in the same order).
  double term_score(int query_tf, double idf, const Posting& posting, double avg_len) const;
  double idf(std::size_t df) const;
  double average_length() const { return avg_len_ > 0 ? avg_len_ : 1.0; }  // empty documents only: norms of 1
  std::vector<std::string> doc_ids_;
  std::vector<std::uint32_t> doc_len_;
  double avg_len_ = 0;
  std::unordered_map<std::string, std::vector<Posting>> index_;
  double k1_, b_;
};

// TF-IDF vectors (sublinear tf = 1 + ln tf, smooth idf = ln((1 + N) / (1 + df)) + 1, L2-normalised),
// fitted on the texts of the task being scored.
class TfIdf {
 public:
  // max_features keeps the most frequent words (by document frequency, ties by word); 0 keeps all.
  explicit TfIdf(const std::vector<std::string>& fit_texts, std::int64_t max_features = 0);
  // Sparse vector of a text: sorted (feature, weight) pairs, L2-normalised; empty when no word of the
  // text is a feature. Features are numbered in word (byte) order.
  std::vector<std::pair<std::int32_t, float>> transform(std::string_view text) const;
  // Cosine of two texts' vectors; 0 when either has no known word.
  double cosine(std::string_view a, std::string_view b) const;
  // Dense [n, features] float32 rows (for k-means); use with a bounded max_features.
  at::Tensor transform_dense(const std::vector<std::string>& texts) const;
  std::int64_t features() const { return static_cast<std::int64_t>(idf_.size()); }

 private:
  std::unordered_map<std::string, std::int32_t> vocab_;
  std::vector<float> idf_;
};

}  // namespace sentbench
