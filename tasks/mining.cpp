// Hard-negative mining: the filters, the two retrievers, and the pairs / triplets files.
#include "mining.hpp"

#include <algorithm>
#include <charconv>
#include <random>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "lexical.hpp"
#include "sentbench/data/pair_stream.hpp"
#include "search.hpp"
#include "sentbench/data/seeded_random.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/progress.hpp"
#include "sentbench/threads.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

// Index of each distinct text in first-seen order, and the distinct texts moved out of `texts`.
std::vector<std::size_t> intern(std::vector<std::string>& texts, std::vector<std::string>& distinct) {
  std::vector<std::size_t> index(texts.size());
  std::vector<std::size_t> first;  // position in `texts` of each distinct text
  {
    // Views into `texts`, which does not change while the map lives.
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto [it, added] = seen.emplace(texts[i], first.size());
      if (added) first.push_back(i);
      index[i] = it->second;
    }
  }
  distinct.reserve(first.size());
  for (const std::size_t i : first) distinct.push_back(std::move(texts[i]));
  texts.clear();
  texts.shrink_to_fit();
  return index;
}

// Candidates of a BM25 ranking are named by their index, as decimal ids.
std::size_t parse_index(const std::string& id) {
  std::size_t value = 0;
  std::from_chars(id.data(), id.data() + id.size(), value);
  return value;
}

class Bm25Retriever final : public NegativeRetriever {
 public:
  explicit Bm25Retriever(const MiningCorpus& corpus) : corpus_(corpus), bm25_(ids(corpus.candidates.size()), corpus.candidates) {}

  std::vector<std::vector<RankedCandidate>> rank(std::size_t begin, std::size_t end, std::size_t depth) override {
    std::vector<std::vector<RankedCandidate>> lists(end - begin);
    // No GEMMs here: LibTorch's pool gets the cores (outside such scopes it runs one thread).
    const ComputeThreads threads(Work::kOneDnn);
    // Bm25::search is thread-safe; each anchor's list has its own slot.
    at::parallel_for(static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end), 16,
                     [&](std::int64_t first, std::int64_t last) {
                       for (std::int64_t a = first; a < last; ++a) {
                         auto& list = lists[static_cast<std::size_t>(a) - begin];
                         const auto top = bm25_.search(corpus_.anchors[static_cast<std::size_t>(a)],
                                                       static_cast<std::int64_t>(depth));
                         list.reserve(top.size());
                         for (const auto& s : top) list.push_back({parse_index(s.doc_id), s.score});
                       }
                     });
    return lists;
  }

  double score(std::size_t anchor, std::size_t candidate) const override {
    return bm25_.score(corpus_.anchors.at(anchor), candidate);
  }

  // The lexical ranking has no margin: anything BM25 likes as much as the positive may well be one.
  bool above_positive(double candidate, double positive) const override { return candidate >= positive; }
  std::string rule() const override { return "BM25 >= the positive's"; }

 private:
  static std::vector<std::string> ids(std::size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
  }

  const MiningCorpus& corpus_;
  Bm25 bm25_;
};

// Same floor as exact_search's cosine, so a zero vector scores 0 there and here.
constexpr double kNormEps = 1e-12;

class EmbeddingRetriever final : public NegativeRetriever {
 public:
  EmbeddingRetriever(const at::Tensor& anchors, const at::Tensor& candidates, double margin)
      : anchors_(anchors.contiguous()), candidates_(candidates.contiguous()), margin_(margin) {}

  std::vector<std::vector<RankedCandidate>> rank(std::size_t begin, std::size_t end, std::size_t depth) override {
    SearchOptions options;
    options.k = static_cast<std::int64_t>(depth);
    const auto n = static_cast<std::int64_t>(end - begin);
    const SearchResult top = exact_search(anchors_.narrow(0, static_cast<std::int64_t>(begin), n), candidates_, options);
    const at::Tensor scores = top.scores.to(at::kDouble).contiguous();
    const at::Tensor indices = top.indices.contiguous();
    const auto k = top.scores.size(1);
    const double* s = scores.data_ptr<double>();
    const std::int64_t* i = indices.data_ptr<std::int64_t>();
    std::vector<std::vector<RankedCandidate>> lists(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < n; ++r) {
      auto& list = lists[static_cast<std::size_t>(r)];
      list.reserve(static_cast<std::size_t>(k));
      for (std::int64_t j = 0; j < k; ++j) list.push_back({static_cast<std::size_t>(i[r * k + j]), s[r * k + j]});
    }
    return lists;
  }

  double score(std::size_t anchor, std::size_t candidate) const override {
    torch::NoGradGuard no_grad;
    const at::Tensor a = anchors_[static_cast<std::int64_t>(anchor)];
    const at::Tensor c = candidates_[static_cast<std::int64_t>(candidate)];
    return (a.dot(c) / (a.norm().clamp_min(kNormEps) * c.norm().clamp_min(kNormEps))).item<double>();
  }

  bool above_positive(double candidate, double positive) const override { return candidate > margin_ * positive; }
  std::string rule() const override { return fmt::format("cosine > {:g} x the positive's", margin_); }

 private:
  at::Tensor anchors_;
  at::Tensor candidates_;
  double margin_;
};

// The normalised-text id of every anchor and candidate (one numbering for both, so equal ids are
// duplicates whichever side they come from).
struct NormalizedIds {
  std::vector<std::uint32_t> anchor;
  std::vector<std::uint32_t> candidate;
};

NormalizedIds normalized_ids(const MiningCorpus& corpus) {
  std::unordered_map<std::string, std::uint32_t> ids;
  const auto id_of = [&ids](const std::string& text) {
    return ids.emplace(normalize_for_dedup(text), static_cast<std::uint32_t>(ids.size())).first->second;
  };
  NormalizedIds out;
  out.anchor.reserve(corpus.anchors.size());
  out.candidate.reserve(corpus.candidates.size());
  for (const auto& t : corpus.anchors) out.anchor.push_back(id_of(t));
  for (const auto& t : corpus.candidates) out.candidate.push_back(id_of(t));
  return out;
}

// The known positives of one normalised anchor text: every pair's positive whose anchor normalises to it.
struct KnownPositives {
  std::vector<std::size_t> candidates;   // sorted, distinct
  std::vector<std::uint32_t> normalized;  // their normalised ids, sorted, distinct
};

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

template <typename T>
bool contains(const std::vector<T>& sorted, T value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

void validate(const MiningOptions& options) {
  if (options.rank_min < 1 || options.rank_max < options.rank_min)
    throw std::invalid_argument(fmt::format("mine_negatives: need 1 <= rank_min <= rank_max, got {}-{}",
                                            options.rank_min, options.rank_max));
  if (options.per_pair < 1) throw std::invalid_argument("mine_negatives: per_pair must be >= 1");
  if (options.anchor_block < 1) throw std::invalid_argument("mine_negatives: anchor_block must be >= 1");
}

// Which of n survivors (positions in rank order) a pair keeps: up to per_pair of them, in rank order.
std::vector<std::size_t> choose(std::size_t n, const MiningOptions& options, std::size_t pair) {
  std::vector<std::size_t> positions(n);
  for (std::size_t i = 0; i < n; ++i) positions[i] = i;
  const std::size_t k = std::min(options.per_pair, n);
  if (options.sampling == NegativeSampling::kRandom && k < n) {
    // A partial Fisher-Yates shuffle with the portable bounded draw: the same picks on any standard library.
    std::mt19937_64 rng(derive_seed(options.seed, pair));
    for (std::size_t i = 0; i < k; ++i) std::swap(positions[i], positions[i + static_cast<std::size_t>(bounded(rng, n - i))]);
    positions.resize(k);
    std::sort(positions.begin(), positions.end());
  }
  positions.resize(k);
  return positions;
}

}  // namespace

std::string normalize_for_dedup(std::string_view text) {
  std::string out;
  for (const auto& word : analyze(text)) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

MiningCorpus make_mining_corpus(std::vector<std::string> anchors, std::vector<std::string> positives) {
  if (anchors.size() != positives.size())
    throw std::invalid_argument(fmt::format("make_mining_corpus: {} anchors but {} positives", anchors.size(),
                                            positives.size()));
  MiningCorpus corpus;
  const auto anchor_index = intern(anchors, corpus.anchors);
  const auto positive_index = intern(positives, corpus.candidates);
  corpus.pairs.reserve(anchor_index.size());
  for (std::size_t i = 0; i < anchor_index.size(); ++i) corpus.pairs.push_back({anchor_index[i], positive_index[i]});
  return corpus;
}

MiningCorpus read_mining_pairs(const fs::path& file) {
  LineReader reader(file);
  std::vector<std::string> anchors, positives;
  std::string line;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // a trailing blank line is no pair
    Example example = parse_example(line, reader.where());
    anchors.push_back(std::move(example.texts[0]));
    positives.push_back(std::move(example.texts[1]));
  }
  if (anchors.empty())
    throw DataError(fmt::format("{}: no pairs (the file is empty or holds only blank lines)", file.string()));
  return make_mining_corpus(std::move(anchors), std::move(positives));
}

std::unique_ptr<NegativeRetriever> make_bm25_retriever(const MiningCorpus& corpus) {
  return std::make_unique<Bm25Retriever>(corpus);
}

std::unique_ptr<NegativeRetriever> make_embedding_retriever(const MiningCorpus& corpus, const at::Tensor& anchors,
                                                            const at::Tensor& candidates, double margin) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("make_embedding_retriever: " + what); };
  if (!(margin > 0)) fail(fmt::format("margin must be > 0, got {}", margin));
  if (!anchors.defined() || !candidates.defined() || anchors.dim() != 2 || candidates.dim() != 2)
    fail("anchors and candidates must be 2-D [rows, dim] tensors");
  if (anchors.size(0) != static_cast<std::int64_t>(corpus.anchors.size()) ||
      candidates.size(0) != static_cast<std::int64_t>(corpus.candidates.size()))
    fail(fmt::format("{} anchor and {} candidate rows for a corpus of {} anchors and {} candidates", anchors.size(0),
                     candidates.size(0), corpus.anchors.size(), corpus.candidates.size()));
  return std::make_unique<EmbeddingRetriever>(anchors, candidates, margin);
}

MiningResult mine_negatives(const MiningCorpus& corpus, NegativeRetriever& retriever, const MiningOptions& options,
                            Progress* progress) {
  validate(options);
  MiningResult result;
  MiningStats& stats = result.stats;
  stats.pairs = corpus.pairs.size();
  stats.anchors = corpus.anchors.size();
  stats.candidates = corpus.candidates.size();

  const NormalizedIds norm = normalized_ids(corpus);
  std::unordered_map<std::uint32_t, KnownPositives> known;
  for (const auto& pair : corpus.pairs) {
    KnownPositives& k = known[norm.anchor[pair.anchor]];
    k.candidates.push_back(pair.positive);
    k.normalized.push_back(norm.candidate[pair.positive]);
  }
  for (auto& [id, k] : known) {
    sort_unique(k.candidates);
    sort_unique(k.normalized);
  }

  // The pairs of each anchor, so one ranking serves them all (a CSR list: pairs of anchor a are
  // by_anchor[offsets[a] .. offsets[a + 1])).
  std::vector<std::size_t> offsets(corpus.anchors.size() + 1, 0);
  for (const auto& pair : corpus.pairs) ++offsets[pair.anchor + 1];
  for (std::size_t a = 0; a < corpus.anchors.size(); ++a) offsets[a + 1] += offsets[a];
  std::vector<std::size_t> by_anchor(corpus.pairs.size());
  {
    std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
    for (std::size_t p = 0; p < corpus.pairs.size(); ++p) by_anchor[next[corpus.pairs[p].anchor]++] = p;
  }

  std::vector<std::vector<std::size_t>> negatives(corpus.pairs.size());
  for (std::size_t begin = 0; begin < corpus.anchors.size(); begin += options.anchor_block) {
    const std::size_t end = std::min(corpus.anchors.size(), begin + options.anchor_block);
    const auto lists = retriever.rank(begin, end, options.rank_max);
    for (std::size_t a = begin; a < end; ++a) {
      const auto& list = lists[a - begin];
      const KnownPositives& k = known.at(norm.anchor[a]);
      for (std::size_t slot = offsets[a]; slot < offsets[a + 1]; ++slot) {
        const std::size_t p = by_anchor[slot];
        const std::size_t positive = corpus.pairs[p].positive;
        const double positive_score = retriever.score(a, positive);
        std::vector<std::size_t> survivors;  // candidates that pass every filter, in rank order
        for (std::size_t r = options.rank_min - 1; r < std::min(list.size(), options.rank_max); ++r) {
          const RankedCandidate& c = list[r];
          if (c.candidate >= corpus.candidates.size())
            throw std::logic_error(fmt::format("mine_negatives: the retriever ranked candidate {} of {}", c.candidate,
                                               corpus.candidates.size()));
          ++stats.in_range;
          const std::uint32_t id = norm.candidate[c.candidate];
          if (c.candidate == positive) {
            ++stats.dropped_positive;
          } else if (contains(k.candidates, c.candidate)) {
            ++stats.dropped_other_positive;
          } else if (contains(k.normalized, id)) {
            ++stats.dropped_positive_duplicate;
          } else if (id == norm.anchor[a]) {
            ++stats.dropped_anchor_duplicate;
          } else if (retriever.above_positive(c.score, positive_score)) {
            ++stats.dropped_above_positive;
          } else {
            survivors.push_back(c.candidate);
          }
        }
        stats.survived += survivors.size();
        if (survivors.empty()) ++stats.pairs_without_negative;
        for (const std::size_t i : choose(survivors.size(), options, p)) negatives[p].push_back(survivors[i]);
      }
      if (progress) progress->add(static_cast<std::int64_t>(offsets[a + 1] - offsets[a]));
    }
  }

  for (std::size_t p = 0; p < corpus.pairs.size(); ++p) {
    const auto& pair = corpus.pairs[p];
    for (const std::size_t n : negatives[p])
      result.triplets.push_back({corpus.anchors[pair.anchor], corpus.candidates[pair.positive], corpus.candidates[n]});
  }
  stats.triplets = result.triplets.size();
  return result;
}

void write_triplets(const fs::path& file, const std::vector<std::array<std::string, 3>>& triplets) {
  std::string text;
  for (const auto& t : triplets) {
    // Texts from the readers are valid UTF-8 already; a caller's own strings get U+FFFD, as the readers do.
    text += nlohmann::json::array({t[0], t[1], t[2]}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
  }
  write_file_atomic(file, file.extension() == ".gz" ? gzip(text) : text);
}

}  // namespace sentbench
