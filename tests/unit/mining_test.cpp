// Hard-negative mining (tasks/mining.hpp): each false-negative filter on hand-made rankings, BM25's and the
// model retriever's "above the positive" rules, rank range, per-pair count and seeding, exact statistics,
// the pairs / triplets files, and `sentbench data mine-negatives` through the executable.
#include "mining.hpp"

#include <map>
#include <set>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "sentbench/data/pair_stream.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

using Texts = std::vector<std::string>;
using Triplet = std::array<std::string, 3>;

MiningCorpus corpus_of(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Texts anchors, positives;
  for (const auto& [a, p] : pairs) {
    anchors.push_back(a);
    positives.push_back(p);
  }
  return make_mining_corpus(anchors, positives);
}

// Rankings given by hand: anchor index -> ranked candidates. The positive's score is its score in the
// anchor's list (0 when absent); above_positive is BM25's rule (>=).
class HandRetriever : public NegativeRetriever {
 public:
  std::map<std::size_t, std::vector<RankedCandidate>> lists;

  std::vector<std::vector<RankedCandidate>> rank(std::size_t begin, std::size_t end, std::size_t depth) override {
    std::vector<std::vector<RankedCandidate>> out;
    for (std::size_t a = begin; a < end; ++a) {
      auto list = lists.count(a) ? lists.at(a) : std::vector<RankedCandidate>{};
      if (list.size() > depth) list.resize(depth);
      out.push_back(std::move(list));
    }
    return out;
  }
  double score(std::size_t anchor, std::size_t candidate) const override {
    if (!lists.count(anchor)) return 0;
    for (const auto& c : lists.at(anchor))
      if (c.candidate == candidate) return c.score;
    return 0;
  }
  bool above_positive(double candidate, double positive) const override { return candidate >= positive; }
  std::string rule() const override { return "hand"; }
};

// A list of candidates 0..n-1 in the given order with descending scores from `top`.
std::vector<RankedCandidate> ranked(const std::vector<std::size_t>& order, double top = 10.0) {
  std::vector<RankedCandidate> list;
  for (std::size_t i = 0; i < order.size(); ++i) list.push_back({order[i], top - static_cast<double>(i)});
  return list;
}

MiningOptions all_ranks(std::size_t per_pair = 100) {
  MiningOptions options;
  options.rank_min = 1;
  options.rank_max = 100;
  options.per_pair = per_pair;
  options.sampling = NegativeSampling::kTop;
  return options;
}

// The negatives written for pair `anchor`/`positive`, in output order.
Texts negatives_of(const MiningResult& result, const std::string& anchor, const std::string& positive) {
  Texts out;
  for (const auto& t : result.triplets)
    if (t[0] == anchor && t[1] == positive) out.push_back(t[2]);
  return out;
}

// ---- the corpus ---------------------------------------------------------------------------------------

TEST(MiningCorpus, DistinctAnchorsAndPositivesInFirstSeenOrder) {
  const MiningCorpus c = corpus_of({{"a", "p"}, {"b", "q"}, {"a", "q"}, {"c", "p"}});
  EXPECT_EQ(c.anchors, (Texts{"a", "b", "c"}));
  EXPECT_EQ(c.candidates, (Texts{"p", "q"}));
  ASSERT_EQ(c.pairs.size(), 4u);
  EXPECT_EQ(c.pairs[2].anchor, 0u);
  EXPECT_EQ(c.pairs[2].positive, 1u);
  EXPECT_EQ(c.pairs[3].anchor, 2u);
  EXPECT_EQ(c.pairs[3].positive, 0u);
  EXPECT_THROW(make_mining_corpus({"a"}, {}), std::invalid_argument);
  EXPECT_EQ(normalize_for_dedup("  Hello,   WORLD!! "), "hello world");
}

// ---- one test per filter --------------------------------------------------------------------------------

// Mines a three-pair corpus whose first anchor ranks candidates 0, 1, 2 (its positive first, scoring above
// the others); the other anchors rank nothing.
MiningResult mine_first_anchor(const MiningCorpus& c) {
  HandRetriever r;
  r.lists[0] = ranked({0, 1, 2});
  return mine_negatives(c, r, all_ranks());
}

TEST(MiningFilters, PairsOwnPositiveIsSkipped) {
  const MiningCorpus c = corpus_of({{"cheap flights", "flights to rome"}, {"x", "hotel deals"}, {"y", "car hire"}});
  const MiningResult result = mine_first_anchor(c);
  EXPECT_EQ(negatives_of(result, "cheap flights", "flights to rome"), (Texts{"hotel deals", "car hire"}));
  EXPECT_EQ(result.stats.dropped_positive, 1u);
  EXPECT_EQ(result.stats.dropped_above_positive, 0u);
}

TEST(MiningFilters, NormalisedDuplicateOfPositiveIsSkipped) {
  const MiningCorpus c =
      corpus_of({{"cheap flights", "flights to rome"}, {"x", "Flights  to ROME!"}, {"y", "flights to romania"}});
  ASSERT_EQ(c.candidates.size(), 3u) << "distinct as strings";
  const MiningResult result = mine_first_anchor(c);
  EXPECT_EQ(negatives_of(result, "cheap flights", "flights to rome"), Texts{"flights to romania"});
  EXPECT_EQ(result.stats.dropped_positive_duplicate, 1u);
}

TEST(MiningFilters, DuplicateOfAnchorIsSkipped) {
  const MiningCorpus c = corpus_of({{"cheap flights", "flights to rome"}, {"x", "Cheap... flights"}, {"y", "ferries"}});
  const MiningResult result = mine_first_anchor(c);
  EXPECT_EQ(negatives_of(result, "cheap flights", "flights to rome"), Texts{"ferries"});
  EXPECT_EQ(result.stats.dropped_anchor_duplicate, 1u);
}

TEST(MiningFilters, PositiveOfTheSameAnchorElsewhereIsSkipped) {
  // "Cheap flights!" is the same anchor once normalised: its positive answers this anchor too.
  const MiningCorpus c = corpus_of({{"cheap flights", "flights to rome"}, {"Cheap flights!", "budget airlines"},
                                    {"y", "ferries"}});
  const MiningResult result = mine_first_anchor(c);
  EXPECT_EQ(negatives_of(result, "cheap flights", "flights to rome"), Texts{"ferries"});
  EXPECT_EQ(result.stats.dropped_other_positive, 1u);
}

TEST(MiningFilters, Bm25CandidateScoringAtOrAboveThePositiveIsSkipped) {
  const MiningCorpus c = corpus_of({{"red apple pie", "apple pie"},
                                    {"x1", "red apple pie with red apples"},  // more of the anchor's words
                                    {"x2", "pie apple"},                      // the same words: an equal score
                                    {"x3", "apple tart with cream and sugar"},
                                    {"x4", "banana bread"}});  // no shared word: never ranked
  const auto r = make_bm25_retriever(c);
  const double positive = r->score(0, 0);
  ASSERT_GT(r->score(0, 1), positive);
  ASSERT_EQ(r->score(0, 2), positive);
  ASSERT_LT(r->score(0, 3), positive);
  ASSERT_GT(r->score(0, 3), 0.0);
  EXPECT_EQ(r->score(0, 4), 0.0);
  const MiningResult result = mine_negatives(c, *r, all_ranks());
  EXPECT_EQ(negatives_of(result, "red apple pie", "apple pie"), Texts{"apple tart with cream and sugar"});
  const MiningStats& s = result.stats;
  EXPECT_EQ(s.in_range, 4u) << "the four candidates sharing a word with the anchor; x1..x4 match nothing";
  EXPECT_EQ(s.dropped_positive, 1u);
  EXPECT_EQ(s.dropped_above_positive, 2u);
  EXPECT_EQ(s.survived, 1u);
  EXPECT_EQ(s.pairs_without_negative, 4u);
}

// Unit vectors in the plane at cosine `c` with [1, 0].
std::vector<float> at_cosine(double c) { return {static_cast<float>(c), static_cast<float>(std::sqrt(1 - c * c))}; }

at::Tensor rows(const std::vector<std::vector<float>>& r) {
  at::Tensor t = torch::empty({static_cast<std::int64_t>(r.size()), 2}, torch::kFloat32);
  for (std::size_t i = 0; i < r.size(); ++i)
    for (std::size_t j = 0; j < 2; ++j) t[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = r[i][j];
  return t;
}

TEST(MiningFilters, ModelCandidateAboveMarginTimesPositiveIsSkippedJustBelowIsKept) {
  const MiningCorpus c =
      corpus_of({{"anchor", "positive"}, {"b", "just above"}, {"c", "just below"}, {"d", "far away"}});
  // Positive at cosine 0.8; margin 0.95 puts the bar at 0.76.
  const at::Tensor anchors = rows({{1, 0}, {0, 1}, {0, 1}, {0, 1}});
  const at::Tensor candidates = rows({at_cosine(0.8), at_cosine(0.762), at_cosine(0.758), at_cosine(0.1)});
  const auto r = make_embedding_retriever(c, anchors, candidates, 0.95);
  EXPECT_NEAR(r->score(0, 0), 0.8, 1e-6);
  const MiningResult result = mine_negatives(c, *r, all_ranks());
  // Anchor 0's list: the positive (0.8), just above (0.762 > 0.76: dropped), just below (0.758), far away.
  EXPECT_EQ(negatives_of(result, "anchor", "positive"), (Texts{"just below", "far away"}));

  // A lower margin moves the bar under "just below" too.
  const auto strict = make_embedding_retriever(c, anchors, candidates, 0.9);  // bar 0.72
  EXPECT_EQ(negatives_of(mine_negatives(c, *strict, all_ranks()), "anchor", "positive"), Texts{"far away"});
  EXPECT_THROW(make_embedding_retriever(c, anchors, candidates, 0.0), std::invalid_argument);
  EXPECT_THROW(make_embedding_retriever(c, anchors.narrow(0, 0, 2), candidates, 0.95), std::invalid_argument);
}

// ---- ranks, choice, seeds ---------------------------------------------------------------------------

// One pair whose anchor ranks ten other candidates (1..10) below its positive (0); the other pairs'
// anchors rank nothing.
struct TenCandidates {
  MiningCorpus corpus;
  HandRetriever retriever;
  TenCandidates() {
    std::vector<std::pair<std::string, std::string>> pairs{{"query", "answer"}};
    for (int i = 1; i <= 10; ++i) pairs.push_back({"q" + std::to_string(i), "candidate " + std::to_string(i)});
    corpus = corpus_of(pairs);
    retriever.lists[0] = ranked({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 20.0);
    retriever.lists[0][0].score = 100;  // the positive's score: above every candidate
  }
  Texts mine(const MiningOptions& options) { return negatives_of(mine_negatives(corpus, retriever, options), "query", "answer"); }
};

TEST(MiningRanks, OnlyCandidatesInsideTheRangeAreConsidered) {
  TenCandidates t;
  MiningOptions options = all_ranks();
  options.rank_min = 3;  // rank 1 is the positive, rank 2 "candidate 1"
  options.rank_max = 5;
  EXPECT_EQ(t.mine(options), (Texts{"candidate 2", "candidate 3", "candidate 4"}));
  const MiningStats s = mine_negatives(t.corpus, t.retriever, options).stats;
  EXPECT_EQ(s.in_range, 3u);
  EXPECT_EQ(s.dropped_positive, 0u) << "the positive ranks above the range";

  options.rank_min = 11;  // the last entry of the list
  options.rank_max = 50;
  EXPECT_EQ(t.mine(options), Texts{"candidate 10"});
  options.rank_min = 12;  // past the end of the list
  EXPECT_TRUE(t.mine(options).empty());
}

TEST(MiningChoice, PerPairCountAndSeedDeterminism) {
  TenCandidates t;
  MiningOptions options = all_ranks(3);
  options.sampling = NegativeSampling::kRandom;
  const Texts first = t.mine(options);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), 3u) << "no candidate twice";
  EXPECT_EQ(t.mine(options), first) << "same seed, same picks";
  options.anchor_block = 1;
  EXPECT_EQ(t.mine(options), first) << "the picks do not depend on the block size";
  // Written in rank order whatever the draw.
  const auto rank_of = [](const std::string& text) { return std::stoi(text.substr(text.find(' ') + 1)); };
  EXPECT_LT(rank_of(first[0]), rank_of(first[1]));
  EXPECT_LT(rank_of(first[1]), rank_of(first[2]));

  std::set<Texts> draws{first};
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    options.seed = seed;
    draws.insert(t.mine(options));
  }
  EXPECT_GT(draws.size(), 1u) << "other seeds pick other negatives (3 of 10: 120 possible draws)";

  options.sampling = NegativeSampling::kTop;
  EXPECT_EQ(t.mine(options), (Texts{"candidate 1", "candidate 2", "candidate 3"}));
  options.seed = 99;
  EXPECT_EQ(t.mine(options), (Texts{"candidate 1", "candidate 2", "candidate 3"})) << "top ignores the seed";

  options.per_pair = 50;  // more than survive: all of them
  EXPECT_EQ(t.mine(options).size(), 10u);
  options.sampling = NegativeSampling::kRandom;
  EXPECT_EQ(t.mine(options).size(), 10u);
}

TEST(MiningChoice, InvalidOptionsThrow) {
  TenCandidates t;
  MiningOptions options;
  options.rank_min = 0;
  EXPECT_THROW(mine_negatives(t.corpus, t.retriever, options), std::invalid_argument);
  options.rank_min = 5;
  options.rank_max = 4;
  EXPECT_THROW(mine_negatives(t.corpus, t.retriever, options), std::invalid_argument);
  options = MiningOptions{};
  options.per_pair = 0;
  EXPECT_THROW(mine_negatives(t.corpus, t.retriever, options), std::invalid_argument);
}

TEST(MiningStatistics, PairsWithoutSurvivorAreLeftOutAndCounted) {
  // The only ranked candidate of "a" is its own positive; "b" ranks nothing.
  const MiningCorpus c = corpus_of({{"a", "alpha"}, {"b", "beta"}, {"c", "gamma"}});
  HandRetriever r;
  r.lists[0] = ranked({0});
  r.lists[2] = ranked({2, 0});
  const MiningResult result = mine_negatives(c, r, all_ranks());
  ASSERT_EQ(result.triplets.size(), 1u);
  EXPECT_EQ(result.triplets[0], (Triplet{"c", "gamma", "alpha"}));
  EXPECT_EQ(result.stats.pairs_without_negative, 2u);
  EXPECT_EQ(result.stats.triplets, 1u);
}

TEST(MiningStatistics, ExactCountsOnAHandBuiltExample) {
  const MiningCorpus c = corpus_of({
      {"cheap flights", "Cheap flights to Rome"},   // C0
      {"cheap flights!", "Budget airline tickets"},  // C1: same anchor once normalised
      {"hotel rooms", "Hotel rooms in Paris"},       // C2
      {"car rental", "cheap flights to rome"},       // C3: normalises as C0
      {"train tickets", "Cheap Flights"},            // C4: normalises as the first two anchors
      {"museum", "Museum passes"},                   // C5
      {"beach", "Sunny beaches"},                    // C6
  });
  ASSERT_EQ(c.anchors.size(), 7u);
  ASSERT_EQ(c.candidates.size(), 7u);
  HandRetriever r;
  // Scores: C5 9, C0 8, C1 7.5, C3 7, C4 6, C2 5, C6 4 for both "cheap flights" anchors.
  const std::vector<RankedCandidate> list{{5, 9}, {0, 8}, {1, 7.5}, {3, 7}, {4, 6}, {2, 5}, {6, 4}};
  r.lists[0] = list;
  r.lists[1] = list;
  MiningOptions options = all_ranks(1);
  const MiningResult result = mine_negatives(c, r, options);
  // Each of the two pairs: C5 above its positive (9 >= 8, 9 >= 7.5), its own positive, the other one's
  // positive, C3 a duplicate of C0, C4 a duplicate of the anchor; C2 and C6 survive, C2 ranks first.
  const MiningStats& s = result.stats;
  EXPECT_EQ(s.pairs, 7u);
  EXPECT_EQ(s.anchors, 7u);
  EXPECT_EQ(s.candidates, 7u);
  EXPECT_EQ(s.in_range, 14u);
  EXPECT_EQ(s.dropped_positive, 2u);
  EXPECT_EQ(s.dropped_other_positive, 2u);
  EXPECT_EQ(s.dropped_positive_duplicate, 2u);
  EXPECT_EQ(s.dropped_anchor_duplicate, 2u);
  EXPECT_EQ(s.dropped_above_positive, 2u);
  EXPECT_EQ(s.survived, 4u);
  EXPECT_EQ(s.pairs_without_negative, 5u);
  EXPECT_EQ(s.triplets, 2u);
  EXPECT_EQ(result.triplets, (std::vector<Triplet>{{"cheap flights", "Cheap flights to Rome", "Hotel rooms in Paris"},
                                                   {"cheap flights!", "Budget airline tickets", "Hotel rooms in Paris"}}));
}

// ---- files ------------------------------------------------------------------------------------------

TEST(MiningFiles, ReadsEveryPairFormatAndWritesTripletsThePairStreamReads) {
  test::TempDir tmp;
  const fs::path in = tmp / "pairs.jsonl";
  write_file_atomic(in, "[\"a\", \"p\"]\n{\"texts\": [\"b\", \"q\"]}\n\n[\"c\", \"r\", \"old negative\"]\n"
                        "{\"query\": \"d\", \"pos\": [\"s\"]}\n");
  const MiningCorpus c = read_mining_pairs(in);
  EXPECT_EQ(c.anchors, (Texts{"a", "b", "c", "d"}));
  EXPECT_EQ(c.candidates, (Texts{"p", "q", "r", "s"}));

  write_file_atomic(tmp / "bad.jsonl", "[\"a\", \"p\"]\n[\"only one\"]\n");
  EXPECT_TRUE(test::has_substr(test::error_of([&] { read_mining_pairs(tmp / "bad.jsonl"); }), "bad.jsonl:2"));
  write_file_atomic(tmp / "empty.jsonl", "\n");
  EXPECT_TRUE(test::has_substr(test::error_of([&] { read_mining_pairs(tmp / "empty.jsonl"); }), "no pairs"));

  const std::vector<Triplet> triplets{{"a", "p", "n \"quoted\"\nline"}, {"b", "q", "é"}};
  const fs::path out = tmp / "mined.jsonl.gz";
  write_triplets(out, triplets);
  EXPECT_EQ(read_file(out).substr(0, 2), "\x1f\x8b") << "gzip";
  std::vector<Triplet> back;
  LineReader reader(out);
  std::string line;
  while (reader.next(line)) {
    const Example e = parse_example(line, reader.where());
    ASSERT_EQ(e.texts.size(), 3u);
    back.push_back({e.texts[0], e.texts[1], e.texts[2]});
  }
  EXPECT_EQ(back, triplets);
}

// ---- the command ------------------------------------------------------------------------------------

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(MineNegativesCli, WritesTripletsThePairStreamReadsAndRefusesBadRanks) {
  test::TempDir tmp;
  const fs::path pairs = tmp / "pairs.jsonl";
  const Texts dishes{"pasta", "curry", "soup", "salad"};
  std::set<std::pair<std::string, std::string>> input;
  std::set<std::string> positives;
  std::string text;
  for (int i = 0; i < 40; ++i) {
    const std::string dish = dishes[static_cast<std::size_t>(i) % dishes.size()];
    const std::string anchor = "how to cook " + dish + " number" + std::to_string(i);
    const std::string positive = dish + " recipe number" + std::to_string(i) + " with herbs";
    input.insert({anchor, positive});
    positives.insert(positive);
    text += nlohmann::json::array({anchor, positive}).dump() + "\n";
  }
  write_file_atomic(pairs, text);
  const fs::path out = tmp / "mined.jsonl.gz";
  const auto run = test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out " + quoted(out) +
                                 " --ranks 2-20 --per-pair 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(test::has_substr(run.output, "triplets written: "));
  EXPECT_TRUE(test::has_substr(run.output, "pairs with 0 negatives: "));

  // 40 pairs, each with 9 other pairs of its dish sharing words below the positive (which alone shares
  // its number): two negatives each.
  PairStream stream(out, 7);
  std::size_t triplets = 0;
  for (; triplets < 80; ++triplets) {
    const Example e = stream.next();
    ASSERT_EQ(e.texts.size(), 3u) << stream.where();
    EXPECT_TRUE(input.count({e.texts[0], e.texts[1]})) << stream.where();
    EXPECT_TRUE(positives.count(e.texts[2])) << "negatives come from the positives' side";
    EXPECT_NE(e.texts[2], e.texts[1]);
  }
  EXPECT_TRUE(test::has_substr(run.output, "triplets written: 80 ")) << run.output;

  for (const char* bad : {"10", "5-2", "0-10"}) {
    const auto refused =
        test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out " + quoted(tmp / "x.jsonl.gz") + " --ranks " + bad);
    EXPECT_EQ(refused.exit_code, 2) << bad;
    EXPECT_TRUE(test::has_substr(refused.output, "--ranks")) << bad;
    EXPECT_TRUE(test::has_substr(refused.output, "expected LO-HI")) << bad;
  }
  const auto zero = test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out x.jsonl.gz --per-pair 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_TRUE(test::has_substr(zero.output, "--per-pair"));
  const auto margin = test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out x.jsonl.gz --margin 0.9");
  EXPECT_EQ(margin.exit_code, 2);
  EXPECT_TRUE(test::has_substr(margin.output, "model:DIR only"));
  const auto no_model = test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out " +
                                      quoted(tmp / "x.jsonl.gz") + " --retriever model:" + quoted(tmp / "missing"));
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_TRUE(test::has_substr(no_model.output, "is not a folder"));
  EXPECT_FALSE(fs::exists(tmp / "x.jsonl.gz"));

  write_file_atomic(tmp / "bad.jsonl", "[\"a\", \"b\"]\n[1, 2]\n");
  const auto bad_line =
      test::run_cli("data mine-negatives --pairs " + quoted(tmp / "bad.jsonl") + " --out " + quoted(tmp / "x.jsonl.gz"));
  EXPECT_EQ(bad_line.exit_code, 1);
  EXPECT_TRUE(test::has_substr(bad_line.output, "bad.jsonl:2"));
}

TEST(MineNegativesCli, ModelRetrieverLoadsTheFolderAsEncodeDoes) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta");
  test::TempDir tmp;
  const fs::path pairs = tmp / "pairs.jsonl";
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += nlohmann::json::array({"question " + std::to_string(i), "answer text " + std::to_string(i * 7)}).dump() + "\n";
  write_file_atomic(pairs, text);
  const fs::path model = test::shared_data() / "tiny-roberta";
  // Margin 2: no cosine exceeds twice the positive's, so each pair keeps 3 of its 11 other candidates.
  const auto mine = [&](const std::string& out) {
    return test::run_cli("data mine-negatives --pairs " + quoted(pairs) + " --out " + quoted(tmp / out) +
                         " --retriever model:" + quoted(model) + " --ranks 1-12 --per-pair 3 --margin 2");
  };
  const auto first = mine("a.jsonl.gz");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(test::has_substr(first.output, "cosine > 2 x the positive's"));
  EXPECT_TRUE(test::has_substr(first.output, "triplets written: 36 "));
  const auto second = mine("b.jsonl.gz");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(read_file(tmp / "a.jsonl.gz"), read_file(tmp / "b.jsonl.gz")) << "same seed, same bytes";
  LineReader reader(tmp / "a.jsonl.gz");
  std::string line;
  while (reader.next(line)) {
    const Example e = parse_example(line, reader.where());
    ASSERT_EQ(e.texts.size(), 3u);
    EXPECT_NE(e.texts[2], e.texts[1]);
  }
  EXPECT_EQ(reader.line_number(), 36);
}

}  // namespace
}  // namespace sentbench
