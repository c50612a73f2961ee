// Hard-negative mining: for each (anchor, positive) training pair, texts of the positives' side of the
// corpus that a retriever ranks near the anchor, less those likely to be positives themselves, written as
// (anchor, positive, negative) triplets for the contrastive recipe. Retrievers are BM25 over an inverted
// index and cosine over embedding matrices (blockwise exact search); the filters do not know which one
// ranked, so they are tested on hand-made rankings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace at {
class Tensor;
}  // namespace at

namespace sentbench {

class Progress;

// The pairs as the miner sees them: distinct anchors, distinct positives (the candidate negatives), and
// each pair as indices into both.
struct MiningCorpus {
  struct Pair {
    std::size_t anchor = 0;    // into anchors
    std::size_t positive = 0;  // into candidates
  };
  std::vector<std::string> anchors;     // distinct anchor texts, in first-seen order
  std::vector<std::string> candidates;  // distinct positive texts, in first-seen order
  std::vector<Pair> pairs;              // in input order
};

// Builds the corpus from parallel lists of anchors and positives (moved from; std::invalid_argument when
// their lengths differ). Texts are deduplicated exactly; near duplicates are the filters' business.
MiningCorpus make_mining_corpus(std::vector<std::string> anchors, std::vector<std::string> positives);

// Reads a pairs file (.jsonl or .jsonl.gz, every format the training streams read); a line with a hard
// negative already gives its first two texts. Blank lines are skipped. DataError naming file:line for a
// malformed line, and for a file without pairs.
MiningCorpus read_mining_pairs(const std::filesystem::path& file);

// The analyser's words joined by one space: texts that differ only in case, punctuation or whitespace
// normalise alike, and count as duplicates.
std::string normalize_for_dedup(std::string_view text);

// One entry of a ranked list: a candidate (index into MiningCorpus::candidates) and its score.
struct RankedCandidate {
  std::size_t candidate = 0;
  double score = 0;
};

// Ranks the candidates for the corpus's anchors; one implementation per kind of retriever.
class NegativeRetriever {
 public:
  virtual ~NegativeRetriever() = default;
  // The top `depth` candidates of each anchor in [begin, end), best first; fewer when fewer can be ranked.
  virtual std::vector<std::vector<RankedCandidate>> rank(std::size_t begin, std::size_t end, std::size_t depth) = 0;
  // One candidate's score for one anchor, on the scale of rank() (the pair's positive is scored so).
  virtual double score(std::size_t anchor, std::size_t candidate) const = 0;
  // Whether a candidate scoring `candidate` is too close to the pair's positive, scoring `positive`, to be
  // trusted as a negative.
  virtual bool above_positive(double candidate, double positive) const = 0;
  // The rule above_positive() applies, for the summary ("bm25 >= positive's").
  virtual std::string rule() const = 0;
};

// BM25 (k1 0.9, b 0.4, as the evaluation's baseline) over the candidates with each anchor as the query,
// one anchor at a time over the inverted index (anchors of a block in parallel); only candidates sharing a
// word with the anchor are ranked. A candidate scoring at least the positive's own BM25 score is above it.
// The corpus must outlive the retriever.
std::unique_ptr<NegativeRetriever> make_bm25_retriever(const MiningCorpus& corpus);

// Cosine similarity between embedding rows: anchors [A, d] and candidates [C, d], float32, one row per
// corpus anchor / candidate in corpus order (std::invalid_argument otherwise), ranked by the blockwise exact
// search. A candidate is above the positive when its cosine > margin × the positive's cosine (NV-Retriever's
// relative margin; margin > 0, else std::invalid_argument).
std::unique_ptr<NegativeRetriever> make_embedding_retriever(const MiningCorpus& corpus, const at::Tensor& anchors,
                                                            const at::Tensor& candidates, double margin);

// How negatives are picked among a pair's surviving candidates.
enum class NegativeSampling {
  kRandom,  // per_pair of them uniformly at random (seeded per pair), written in rank order
  kTop,     // the per_pair best-ranked
};

struct MiningOptions {
  // 1-based, inclusive ranks in the retriever's list for the anchor (the pair's positive and duplicates
  // included); only candidates ranked inside are considered.
  std::size_t rank_min = 10;
  std::size_t rank_max = 100;
  std::size_t per_pair = 1;  // negatives per pair, at most (fewer when fewer survive)
  NegativeSampling sampling = NegativeSampling::kRandom;
  // Pair i draws from a generator seeded by (seed, i): the choice does not depend on the block size.
  std::uint64_t seed = 13;
  // Anchors ranked per retriever call: memory holds anchor_block × rank_max ranked entries at a time.
  std::size_t anchor_block = 1024;
};

// What the filters did. A candidate is counted under the first filter, in this order, that drops it.
struct MiningStats {
  std::size_t pairs = 0;
  std::size_t anchors = 0;           // distinct
  std::size_t candidates = 0;        // distinct positives
  std::size_t in_range = 0;          // candidates inside the rank range, summed over the pairs
  std::size_t dropped_positive = 0;  // the pair's own positive
  // A positive of another pair whose anchor normalises to the same text: a true match of this anchor too.
  std::size_t dropped_other_positive = 0;
  std::size_t dropped_positive_duplicate = 0;  // normalises to the same text as one of those positives
  std::size_t dropped_anchor_duplicate = 0;    // normalises to the same text as the anchor
  std::size_t dropped_above_positive = 0;      // the retriever's above_positive()
  std::size_t survived = 0;                    // candidates left to choose from, summed over the pairs
  std::size_t pairs_without_negative = 0;      // no candidate survived: the pair is left out
  std::size_t triplets = 0;
};

struct MiningResult {
  std::vector<std::array<std::string, 3>> triplets;  // (anchor, positive, negative), pairs in input order
  MiningStats stats;
};

// Mines every pair of the corpus, anchor block by anchor block. std::invalid_argument unless
// 1 <= rank_min <= rank_max, per_pair >= 1 and anchor_block >= 1. `progress`, when given, counts pairs.
MiningResult mine_negatives(const MiningCorpus& corpus, NegativeRetriever& retriever, const MiningOptions& options,
                            Progress* progress = nullptr);

// Writes triplets as JSON lines ["anchor","positive","negative"] (what the pair streams read), gzip when the
// name ends in .gz, to a temporary name then renamed.
void write_triplets(const std::filesystem::path& file, const std::vector<std::array<std::string, 3>>& triplets);

}  // namespace sentbench
