// Lexical baselines: the word analyser, BM25 against hand-computed scores and trec_eval tie order,
// TF-IDF cosines by hand, and BM25 speed/quality on Cranfield when the shared data is present.
#include "lexical.hpp"

#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include "beir.hpp"
#include "metrics.hpp"
#include "test_util.hpp"

namespace sentbench {
namespace {

using Words = std::vector<std::string>;

std::vector<std::string> ids_of(const std::vector<metrics::Scored>& ranking) {
  std::vector<std::string> ids;
  for (const auto& s : ranking) ids.push_back(s.doc_id);
  return ids;
}

// ---- analyze ---------------------------------------------------------------------------------------

TEST(Analyze, LettersAndDigitsRunsCaseFolded) {
  EXPECT_EQ(analyze("Hello, WORLD! 42x  b-52 don't"), (Words{"hello", "world", "42x", "b", "52", "don", "t"}));
  EXPECT_EQ(analyze(""), Words{});
  EXPECT_EQ(analyze(" .,;!? -- "), Words{});
}

TEST(Analyze, UnicodeFoldingAndNormalisation) {
  EXPECT_EQ(analyze("Straße STRASSE"), (Words{"strasse", "strasse"}));
  EXPECT_EQ(analyze("ΣΊΣΥΦΟΣ σίσυφος"), (Words{"σίσυφοσ", "σίσυφοσ"})) << "final sigma folds to σ";
  EXPECT_EQ(analyze("\xEF\xAC\x81ne \xEF\xBC\xA6\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C"), (Words{"fine", "full"}))
      << "NFKC: the fi ligature and full-width letters";
  EXPECT_EQ(analyze("Cafe\xCC\x81 caf\xC3\xA9"), (Words{"caf\xC3\xA9", "caf\xC3\xA9"})) << "composed to NFC";
  EXPECT_EQ(analyze("co\xC2\xADoperate zero\xE2\x80\x8Bwidth"), (Words{"cooperate", "zerowidth"}))
      << "soft hyphen and zero-width space are ignorable";
  EXPECT_EQ(analyze("हिन्दी भाषा"), (Words{"हिन्दी", "भाषा"})) << "vowel signs (marks) stay inside words";
  EXPECT_EQ(analyze("x² Ⅻ ٣"), (Words{"x2", "xii", "٣"})) << "compatibility digits/numerals";
}

TEST(Analyze, AsciiFastPathAgreesWithUnicodePath) {
  // Appending one non-ASCII word sends the same text through utf8proc.
  std::string ascii;
  for (int c = 1; c < 128; ++c) ascii += static_cast<char>(c), ascii += (c % 3 ? "" : "x ");
  ascii += " Mixed CASE words, digits 1234 and_underscores";
  Words slow = analyze(ascii + " \xC3\xA9");
  ASSERT_EQ(slow.back(), "\xC3\xA9");
  slow.pop_back();
  EXPECT_EQ(analyze(ascii), slow);
}

TEST(Analyze, InvalidUtf8IsReplacedNotFatal) {
  EXPECT_EQ(analyze("ab\xFF" "cd"), (Words{"ab", "cd"}));
  EXPECT_EQ(analyze("\xC3"), Words{}) << "truncated sequence";
  EXPECT_EQ(analyze("ok\xED\xA0\x80ok"), (Words{"ok", "ok"})) << "encoded surrogate";
  EXPECT_EQ(analyze(std::string("a\0b", 3)), (Words{"a", "b"}));
}

// ---- BM25 ------------------------------------------------------------------------------------------

// Three documents: d1 "cat sat" (2 words), d2 "cat cat dog" (3), d3 "dog bird" (2); N = 3, avglen = 7/3.
// k1 = 0.9, b = 0.4.
//   idf(cat)  = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6)      = 0.4700036292
//   idf(bird) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) = ln(2.666667) = 0.9808292530
//   norm(len) = k1 * (1 - b + b * len / avglen): len 2 -> 0.9 * (0.6 + 0.4 * 6/7) = 0.8485714286
//                                                len 3 -> 0.9 * (0.6 + 0.4 * 9/7) = 1.0028571429
//   "cat":  d1 = 0.4700036 * 1 * 1.9 / (1 + 0.8485714) = 0.4700036 * 1.0278207 = 0.4830794644
//           d2 = 0.4700036 * 2 * 1.9 / (2 + 1.0028571) = 0.4700036 * 1.2654615 = 0.5947714813
//   "bird": d3 = 0.9808293 * 1.0278207                                          = 1.0081166202
Bm25 three_docs() { return Bm25({"d1", "d2", "d3"}, {"Cat sat.", "cat, CAT! dog", "dog bird"}); }

TEST(Bm25, HandComputedScores) {
  const Bm25 bm25 = three_docs();
  EXPECT_DOUBLE_EQ(bm25.k1(), 0.9);
  EXPECT_DOUBLE_EQ(bm25.b(), 0.4);
  auto ranking = bm25.search("cat", 10);
  ASSERT_EQ(ids_of(ranking), (Words{"d2", "d1"})) << "d3 shares no word with the query";
  EXPECT_NEAR(ranking[0].score, 0.5947714813, 1e-9);
  EXPECT_NEAR(ranking[1].score, 0.4830794644, 1e-9);

  ranking = bm25.search("bird cat", 10);
  ASSERT_EQ(ids_of(ranking), (Words{"d3", "d2", "d1"}));
  EXPECT_NEAR(ranking[0].score, 1.0081166202, 1e-9);

  ranking = bm25.search("cat cat", 10);  // repeated query word: counted per occurrence
  EXPECT_NEAR(ranking[0].score, 2 * 0.5947714813, 1e-9);

  EXPECT_EQ(ids_of(bm25.search("cat", 1)), Words{"d2"});
  EXPECT_TRUE(bm25.search("zebra", 10).empty());
  EXPECT_TRUE(bm25.search("", 10).empty());
  EXPECT_TRUE(bm25.search("cat", 0).empty());
  // Scratch state is reset between queries.
  EXPECT_NEAR(bm25.search("cat", 10)[0].score, 0.5947714813, 1e-9);
}

TEST(Bm25, ScoreOfOneDocumentIsTheScoreSearchGivesIt) {
  const Bm25 bm25({"0", "1", "2", "3"}, {"Cat sat.", "cat, CAT! dog", "dog bird", "a bird and a cat"});
  ASSERT_EQ(bm25.size(), 4u);
  for (const char* query : {"cat", "bird cat", "cat cat dog", "dog", "bird and zebra"}) {
    const auto ranking = bm25.search(query, 10);
    std::vector<bool> ranked(4, false);
    for (const auto& s : ranking) {
      const auto doc = static_cast<std::size_t>(std::stoi(s.doc_id));
      ranked[doc] = true;
      EXPECT_EQ(bm25.score(query, doc), s.score) << query << " / doc " << doc << ": bit for bit";
    }
    for (std::size_t doc = 0; doc < 4; ++doc) {
      if (!ranked[doc]) {
        EXPECT_EQ(bm25.score(query, doc), 0.0) << query << " / doc " << doc << " shares no word";
      }
    }
  }
  EXPECT_NEAR(three_docs().score("cat", 1), 0.5947714813, 1e-9);  // the hand-computed value above
  EXPECT_THROW(bm25.score("cat", 4), std::out_of_range);
}

TEST(Bm25, TiesFollowTrecEvalOrderEvenAtTheCut) {
  // Identical texts score the same; trec_eval orders ties by doc id descending, and the top-1 cut must
  // keep the document that comes first in that order.
  const Bm25 bm25({"a", "c", "b"}, {"same words", "same words", "same words"});
  EXPECT_EQ(ids_of(bm25.search("words", 3)), (Words{"c", "b", "a"}));
  EXPECT_EQ(ids_of(bm25.search("words", 1)), Words{"c"});
}

TEST(Bm25, EdgeCases) {
  const Bm25 empty({}, {});
  EXPECT_TRUE(empty.search("anything", 5).empty());
  const Bm25 blank({"x", "y"}, {"", "..."});  // average length 0
  EXPECT_TRUE(blank.search("word", 5).empty());
  EXPECT_THROW(Bm25({"a"}, {}), std::invalid_argument);
  EXPECT_THROW(Bm25({"a"}, {"t"}, -1.0, 0.4), std::invalid_argument);
  EXPECT_THROW(Bm25({"a"}, {"t"}, 0.9, 1.5), std::invalid_argument);
}

TEST(Bm25, CranfieldSpeedAndQuality) {
  SENTBENCH_REQUIRE_SHARED("cranfield");
  const BeirDataset d = load_beir(::sentbench::test::shared_data() / "cranfield");
  const auto start = std::chrono::steady_clock::now();
  const Bm25 bm25(d.doc_ids, d.doc_texts);
  const auto indexed = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<metrics::Scored>> runs;
  for (std::size_t i = 0; i < d.query_ids.size(); ++i) runs[d.query_ids[i]] = bm25.search(d.query_texts[i], 100);
  const auto searched = std::chrono::steady_clock::now();
  const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  const auto scores = metrics::score_retrieval(runs, d.qrels, {10, 100});
  std::printf("Cranfield BM25: index %.1f ms, %zu queries %.1f ms; nDCG@10 %.4f, recall@100 %.4f\n",
              ms(start, indexed), runs.size(), ms(indexed, searched), scores.mean.at("ndcg@10"),
              scores.mean.at("recall@100"));
  EXPECT_LT(ms(start, searched), 5000.0) << "expected well under a second; generous for loaded CI machines";
  // Independent reference (Python, same analyser semantics on this ASCII corpus): nDCG@10 0.3276.
  EXPECT_NEAR(scores.mean.at("ndcg@10"), 0.3276, 0.002);
}

// ---- TF-IDF ----------------------------------------------------------------------------------------

// Fit texts "apple banana", "apple cherry", "durian": N = 3; df apple 2, others 1.
//   idf(apple) = ln(4/3) + 1 = 1.2876820725;  idf(banana|cherry|durian) = ln(4/2) + 1 = 1.6931471806
//   cos("apple banana", "apple cherry") = ia^2 / (ia^2 + ib^2) = 1.6581250 / (1.6581250 + 2.8667474)
//                                       = 0.3664468163
//   "apple apple banana": apple weight (1 + ln 2) * ia = 2.1802352704, banana ib;
//   cos with "apple" = 2.1802353 / sqrt(2.1802353^2 + 1.6931472^2) = 0.7898069291
TfIdf fruit() { return TfIdf({"apple banana", "Apple cherry", "durian"}); }

TEST(TfIdf, HandComputedVectorsAndCosines) {
  const TfIdf tfidf = fruit();
  EXPECT_EQ(tfidf.features(), 4);
  const auto v = tfidf.transform("banana APPLE");  // features numbered in word order: apple 0, banana 1
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, 0);
  EXPECT_EQ(v[1].first, 1);
  const double ia = std::log(4.0 / 3.0) + 1, ib = std::log(2.0) + 1;
  EXPECT_NEAR(v[0].second, ia / std::hypot(ia, ib), 1e-6);
  EXPECT_NEAR(v[1].second, ib / std::hypot(ia, ib), 1e-6);

  EXPECT_NEAR(tfidf.cosine("apple banana", "banana, apple!"), 1.0, 1e-6) << "identical bags";
  EXPECT_NEAR(tfidf.cosine("banana", "cherry durian"), 0.0, 1e-12) << "disjoint";
  EXPECT_NEAR(tfidf.cosine("apple banana", "apple cherry"), 0.3664468163, 1e-6);
  EXPECT_NEAR(tfidf.cosine("apple apple banana", "apple"), 0.7898069291, 1e-6);
  EXPECT_EQ(tfidf.cosine("unknown words", "apple"), 0.0);
  EXPECT_TRUE(tfidf.transform("kiwi").empty());
}

TEST(TfIdf, MaxFeaturesKeepsMostFrequentThenByWord) {
  EXPECT_EQ(TfIdf({"apple banana", "apple cherry", "durian"}, 1).transform("apple banana cherry").size(), 1u);
  const TfIdf two({"apple banana", "apple cherry", "durian"}, 2);
  EXPECT_EQ(two.features(), 2);
  const auto v = two.transform("durian cherry banana apple");
  ASSERT_EQ(v.size(), 2u) << "apple (df 2) and banana (first of the df-1 words)";
  EXPECT_NEAR(two.cosine("banana", "banana cherry durian"), 1.0, 1e-6);
}

TEST(TfIdf, DenseRowsMatchSparseVectors) {
  const TfIdf tfidf = fruit();
  const at::Tensor dense = tfidf.transform_dense({"apple banana", "kiwi", "durian durian apple"});
  ASSERT_EQ(dense.sizes(), (at::IntArrayRef{3, 4}));
  EXPECT_EQ(dense.scalar_type(), at::kFloat);
  EXPECT_NEAR(dense[0].norm().item<double>(), 1.0, 1e-6);
  EXPECT_EQ(dense[1].abs().sum().item<double>(), 0.0);
  for (const auto& [feature, weight] : tfidf.transform("durian durian apple"))
    EXPECT_FLOAT_EQ(dense[2][feature].item<float>(), weight);
}

}  // namespace
}  // namespace sentbench
