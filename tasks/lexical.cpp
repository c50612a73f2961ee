// Word analyser, BM25 and TF-IDF: the lexical baselines every model is compared against.
#include "lexical.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>
#include <utf8proc.h>

namespace sentbench {
namespace {

constexpr utf8proc_int32_t kReplacement = 0xFFFD;

// One code point as UTF-8 bytes.
void append_utf8(std::string& out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buffer[4];
  const auto n = utf8proc_encode_char(cp, buffer);
  out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
}

// Invalid sequences become U+FFFD one byte at a time (as decoders do), so any byte string can be analysed.
std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      append_utf8(out, kReplacement);
      ++p;
      --left;
      continue;
    }
    out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    p += n;
    left -= n;
  }
  return out;
}

// Letters (L*) and numbers (N*) make words.
bool is_word_start(utf8proc_category_t c) {
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

// Combining marks continue a word: after NFKC most Latin accents are composed away, but Indic vowel signs
// and many other marks have no precomposed form, and splitting on them would shred those words.
bool is_word_continuation(utf8proc_category_t c) {
  return is_word_start(c) || (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME);
}

// Pure-ASCII text, the bulk of most corpora, needs no normalisation: NFKC and case folding map ASCII to
// lower-case ASCII, and the only ASCII letters and numbers are [A-Za-z0-9]. Same words; halves the
// Cranfield indexing time.
std::vector<std::string> analyze_ascii(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += c;
    } else if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

}  // namespace

std::vector<std::string> analyze(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return analyze_ascii(text);
  std::vector<std::string> words;
  const std::string clean = sanitize_utf8(text);
  // NFKC + case folding (so "ﬁ", "FI" and "fi" match, "Straße" matches "STRASSE"), dropping
  // default-ignorable characters such as soft hyphens and zero-width joiners that hide inside words.
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(clean.data()), static_cast<utf8proc_ssize_t>(clean.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                                     UTF8PROC_IGNORE));
  if (length < 0) {
    // Cannot happen on sanitised input short of memory exhaustion.
    throw std::runtime_error(std::string("analyze: utf8proc failed: ") + utf8proc_errmsg(length));
  }
  const std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> owned(mapped, std::free);
  const auto* p = mapped;
  utf8proc_ssize_t left = length;
  std::string word;
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) break;  // utf8proc's own output is valid UTF-8
    const utf8proc_category_t category = utf8proc_category(cp);
    if (word.empty() ? is_word_start(category) : is_word_continuation(category)) {
      word.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
    p += n;
    left -= n;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// ---- BM25 ------------------------------------------------------------------------------------------

Bm25::Bm25(const std::vector<std::string>& doc_ids, const std::vector<std::string>& doc_texts, double k1, double b)
    : doc_ids_(doc_ids), k1_(k1), b_(b) {
  if (doc_ids.size() != doc_texts.size())
    throw std::invalid_argument("Bm25: doc_ids and doc_texts differ in length");
  if (doc_ids.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("Bm25: more than 2^32 documents");
  // Outside these ranges a term could lower a score, and the search's bookkeeping assumes it cannot.
  if (!(k1 >= 0) || !(b >= 0 && b <= 1)) throw std::invalid_argument("Bm25: need k1 >= 0 and 0 <= b <= 1");
  doc_len_.reserve(doc_texts.size());
  std::unordered_map<std::string, std::uint32_t> tf;
  double total = 0;
  for (std::size_t d = 0; d < doc_texts.size(); ++d) {
    tf.clear();
    const auto words = analyze(doc_texts[d]);
    for (const auto& w : words) ++tf[w];
    doc_len_.push_back(static_cast<std::uint32_t>(words.size()));
    total += static_cast<double>(words.size());
    for (auto& [term, count] : tf) index_[term].push_back({static_cast<std::uint32_t>(d), count});
  }
  avg_len_ = doc_texts.empty() ? 0 : total / static_cast<double>(doc_texts.size());
}

namespace {

// A repeated query word counts once per occurrence, as Anserini's bag-of-words query weights it; the map's
// order is the order every score is summed in, so search() and score() agree to the bit.
std::map<std::string, int> query_terms(std::string_view query) {
  std::map<std::string, int> terms;
  for (auto& w : analyze(query)) ++terms[w];
  return terms;
}

}  // namespace

double Bm25::idf(std::size_t df) const {
  const double n = static_cast<double>(doc_ids_.size());
  return std::log(1.0 + (n - static_cast<double>(df) + 0.5) / (static_cast<double>(df) + 0.5));
}

double Bm25::term_score(int query_tf, double idf, const Posting& posting, double avg_len) const {
  const double tf = posting.tf;
  const double norm = k1_ * (1.0 - b_ + b_ * static_cast<double>(doc_len_[posting.doc]) / avg_len);
  return query_tf * idf * tf * (k1_ + 1.0) / (tf + norm);
}

double Bm25::score(std::string_view query, std::size_t doc) const {
  if (doc >= doc_ids_.size())
    throw std::out_of_range("Bm25::score: document " + std::to_string(doc) + " of " + std::to_string(doc_ids_.size()));
  const double avg = average_length();
  double total = 0.0;
  for (const auto& [term, qtf] : query_terms(query)) {
    const auto it = index_.find(term);
    if (it == index_.end()) continue;
    // Postings are in document order (the constructor appends them so).
    const auto& postings = it->second;
    const auto p = std::lower_bound(postings.begin(), postings.end(), doc,
                                    [](const Posting& x, std::size_t d) { return x.doc < d; });
    if (p != postings.end() && p->doc == doc) total += term_score(qtf, idf(postings.size()), *p, avg);
  }
  return total;
}

std::vector<metrics::Scored> Bm25::search(std::string_view query, std::int64_t k) const {
  if (k <= 0 || doc_ids_.empty()) return {};
  const std::map<std::string, int> query_tf = query_terms(query);

  // Scratch reused across calls on a thread: one dense accumulator plus the list of touched documents,
  // so a query costs its postings, not the corpus size.
  thread_local std::vector<double> scores;
  thread_local std::vector<std::uint32_t> touched;
  if (scores.size() < doc_ids_.size()) scores.assign(doc_ids_.size(), 0.0);
  touched.clear();
  // Leaves the accumulator zeroed however this call ends, or a later query would inherit scores.
  struct Reset {
    ~Reset() {
      for (const std::uint32_t d : touched) scores[d] = 0.0;
    }
  } reset;

  const double avg = average_length();
  for (const auto& [term, qtf] : query_tf) {
    const auto it = index_.find(term);
    if (it == index_.end()) continue;
    const auto& postings = it->second;
    const double term_idf = idf(postings.size());
    for (const Posting& p : postings) {
      if (scores[p.doc] == 0.0) touched.push_back(p.doc);
      scores[p.doc] += term_score(qtf, term_idf, p, avg);
    }
  }

  // Selection uses trec_eval's order (score desc, ties by doc id desc) so the cut at k agrees with the
  // final trec_sort instead of depending on index order.
  const auto before = [&](std::uint32_t x, std::uint32_t y) {
    if (scores[x] != scores[y]) return scores[x] > scores[y];
    return doc_ids_[x] > doc_ids_[y];
  };
  const std::size_t keep = std::min<std::size_t>(static_cast<std::size_t>(k), touched.size());
  std::partial_sort(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(keep), touched.end(), before);
  std::vector<metrics::Scored> top;
  top.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) top.push_back({doc_ids_[touched[i]], scores[touched[i]]});
  metrics::trec_sort(top);
  return top;
}

// ---- TF-IDF ----------------------------------------------------------------------------------------

TfIdf::TfIdf(const std::vector<std::string>& fit_texts, std::int64_t max_features) {
  std::unordered_map<std::string, std::int64_t> df;
  for (const auto& text : fit_texts) {
    auto words = analyze(text);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (auto& w : words) ++df[std::move(w)];
  }
  std::vector<std::pair<std::string, std::int64_t>> terms(df.begin(), df.end());
  if (max_features > 0 && static_cast<std::int64_t>(terms.size()) > max_features) {
    // Most frequent first; ties by word so the kept set does not depend on hash order.
    std::partial_sort(terms.begin(), terms.begin() + max_features, terms.end(),
                      [](const auto& x, const auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
    terms.resize(static_cast<std::size_t>(max_features));
  }
  // Features numbered in word order (as scikit-learn does), so the numbering is reproducible.
  std::sort(terms.begin(), terms.end());
  const double n = static_cast<double>(fit_texts.size());
  idf_.reserve(terms.size());
  for (auto& [term, count] : terms) {
    vocab_.emplace(term, static_cast<std::int32_t>(idf_.size()));
    idf_.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + static_cast<double>(count))) + 1.0));
  }
}

std::vector<std::pair<std::int32_t, float>> TfIdf::transform(std::string_view text) const {
  std::map<std::int32_t, std::int64_t> tf;
  for (const auto& w : analyze(text)) {
    const auto it = vocab_.find(w);
    if (it != vocab_.end()) ++tf[it->second];
  }
  std::vector<std::pair<std::int32_t, float>> out;
  out.reserve(tf.size());
  double norm = 0;
  std::vector<double> weights;
  weights.reserve(tf.size());
  for (const auto& [feature, count] : tf) {
    const double w = (1.0 + std::log(static_cast<double>(count))) * idf_[static_cast<std::size_t>(feature)];
    weights.push_back(w);
    norm += w * w;
  }
  norm = std::sqrt(norm);
  std::size_t i = 0;
  for (const auto& [feature, count] : tf) out.emplace_back(feature, static_cast<float>(weights[i++] / norm));
  return out;
}

double TfIdf::cosine(std::string_view a, std::string_view b) const {
  const auto x = transform(a);
  const auto y = transform(b);
  // Both are unit vectors (or empty: no known word, cosine 0), so the dot product is the cosine.
  double dot = 0;
  std::size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i].first < y[j].first) {
      ++i;
    } else if (y[j].first < x[i].first) {
      ++j;
    } else {
      dot += static_cast<double>(x[i].second) * static_cast<double>(y[j].second);
      ++i;
      ++j;
    }
  }
  return dot;
}

at::Tensor TfIdf::transform_dense(const std::vector<std::string>& texts) const {
  at::Tensor out = at::zeros({static_cast<std::int64_t>(texts.size()), features()}, at::kFloat);
  auto rows = out.accessor<float, 2>();
  for (std::size_t r = 0; r < texts.size(); ++r)
    for (const auto& [feature, weight] : transform(texts[r])) rows[static_cast<std::int64_t>(r)][feature] = weight;
  return out;
}

}  // namespace sentbench
