// Training pairs: the example formats, PairStream's seeded shuffle / epochs / exact restore, data_config
// reading, PairMixer's one-dataset batches, weights, duplicate skipping and restore, and the shipped
// reference mix against the shared original.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <zlib.h>

#include "sentbench/data/pair_stream.hpp"
#include "sentbench/errors.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::has_substr;
using sentbench::test::TempDir;
using sentbench::test::error_of;

namespace sentbench {
namespace {

using Texts = std::vector<std::string>;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

void write_gz(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), unsigned(text.size())), int(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// `n` examples of `arity` texts, every text starting with `tag` so a batch shows which file it came from.
std::string pair_lines(const std::string& tag, int n, int arity = 2) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "[\"" + tag + " anchor " + std::to_string(i) + "\", \"" + tag + " positive " + std::to_string(i) + "\"";
    if (arity == 3) text += ", \"" + tag + " negative " + std::to_string(i) + "\"";
    text += "]\n";
  }
  return text;
}

std::vector<Texts> draw(PairStream& stream, std::size_t n) {
  std::vector<Texts> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(stream.next().texts);
  return out;
}

// A batch reduced to what must replay identically: the dataset and every text.
struct DrawnBatch {
  std::size_t dataset;
  std::vector<Texts> examples;
  bool operator==(const DrawnBatch& o) const { return dataset == o.dataset && examples == o.examples; }
};

std::vector<DrawnBatch> draw_batches(PairMixer& mixer, std::size_t n, std::size_t batch_size) {
  std::vector<DrawnBatch> out;
  for (std::size_t i = 0; i < n; ++i) {
    PairBatch batch = mixer.next_batch(batch_size);
    DrawnBatch drawn{batch.dataset, {}};
    for (auto& example : batch.examples) drawn.examples.push_back(std::move(example.texts));
    out.push_back(std::move(drawn));
  }
  return out;
}

// ---- parse_example ---------------------------------------------------------------------------------

TEST(ParseExample, ListsOfTwoOrThreeStrings) {
  EXPECT_EQ(parse_example(R"(["a", "b"])", "f:1").texts, (Texts{"a", "b"}));
  EXPECT_EQ(parse_example(R"(["a", "b", "c"])", "f:1").texts, (Texts{"a", "b", "c"}));
  EXPECT_EQ(parse_example(R"(["caf\u00e9", ""])", "f:1").texts, (Texts{"caf\xC3\xA9", ""}));
}

TEST(ParseExample, TextsObject) {
  EXPECT_EQ(parse_example(R"({"texts": ["a", "b"]})", "f:1").texts, (Texts{"a", "b"}));
  EXPECT_EQ(parse_example(R"({"texts": ["a", "b", "c"], "source": "x"})", "f:1").texts, (Texts{"a", "b", "c"}));
}

TEST(ParseExample, QueryPosNegTakesTheFirstCandidate) {
  EXPECT_EQ(parse_example(R"({"query": "q", "pos": "p", "neg": "n"})", "f:1").texts, (Texts{"q", "p", "n"}));
  EXPECT_EQ(parse_example(R"({"query": "q", "pos": ["p1", "p2"], "neg": ["n1", "n2"]})", "f:1").texts,
            (Texts{"q", "p1", "n1"}));
  EXPECT_EQ(parse_example(R"({"query": "q", "pos": ["p"]})", "f:1").texts, (Texts{"q", "p"}));
  EXPECT_EQ(parse_example(R"({"query": "q", "pos": "p", "neg": []})", "f:1").texts, (Texts{"q", "p"}));
}

TEST(ParseExample, EveryMalformedLineNamesWhereAndWhy) {
  const std::string where = "pairs.jsonl:7";
  auto message = [&](const std::string& line) { return error_of([&] { parse_example(line, where); }); };
  for (const std::string line : {R"(["a", "b")", R"(["only one"])", R"(["a", "b", "c", "d"])", R"([1, "b"])",
                                 R"({"foo": 1})", R"({"query": "q"})", R"({"query": "q", "pos": []})",
                                 R"({"query": 3, "pos": "p"})", R"({"texts": "a b"})", "42", R"("just text")"}) {
    const std::string m = message(line);
    EXPECT_TRUE(has_substr(m, "pairs.jsonl:7: ")) << line;
  }
  EXPECT_TRUE(has_substr(message(R"(["a", "b")"), "malformed JSON"));
  EXPECT_TRUE(has_substr(message(R"(["only one"])"), "has 1 text;"));
  EXPECT_TRUE(has_substr(message(R"([1, "b"])"), "text 1 of the list is a JSON number"));
  EXPECT_TRUE(has_substr(message(R"({"foo": 1})"), "keys: \"foo\""));
  EXPECT_TRUE(has_substr(message(R"({"query": "q"})"), "no positive (\"pos\" is missing)"));
}

// Found by tests/fuzz/fuzz_pairs: nlohmann reports a number out of double range as out_of_range, not as
// a parse_error, and it escaped as a raw exception.
TEST(ParseExample, NumberOutOfRangeIsDataErrorNotARawJsonException) {
  const std::string message = error_of([] { parse_example(R"(["a", "b", 1e400])", "pairs.jsonl:3"); });
  EXPECT_TRUE(has_substr(message, "pairs.jsonl:3: malformed JSON: number overflow parsing '1e400'"));
  TempDir dir;
  write_text(dir / "mix.json", R"([{"name": "a.jsonl", "weight": 1e400}])");
  EXPECT_TRUE(has_substr(error_of([&] { read_data_config(dir / "mix.json"); }), "mix.json: malformed JSON: number overflow"));
}

// ---- PairStream ------------------------------------------------------------------------------------

TEST(PairStream, BufferOfOneReadsEveryFormatInFileOrder) {
  TempDir dir;
  write_text(dir / "mixed.jsonl",
             "[\"a\", \"b\"]\n"
             "\n"
             "{\"texts\": [\"c\", \"d\", \"e\"]}\r\n"
             "{\"query\": \"f\", \"pos\": [\"g\", \"h\"], \"neg\": \"i\"}\n");
  PairStream stream(dir / "mixed.jsonl", 1, /*buffer=*/1);
  EXPECT_EQ(draw(stream, 3), (std::vector<Texts>{{"a", "b"}, {"c", "d", "e"}, {"f", "g", "i"}}));
  EXPECT_EQ(stream.where(), (dir / "mixed.jsonl").string() + ":4");  // the blank line still counts
}

TEST(PairStream, MalformedLineIsDataErrorWithFileAndLine) {
  TempDir dir;
  const fs::path file = dir / "bad.jsonl";
  write_text(file, "[\"a\", \"b\"]\n\n[\"c\", \"d\"\n[\"e\", \"f\"]\n");
  PairStream stream(file, 1, 1);
  EXPECT_EQ(stream.next().texts, (Texts{"a", "b"}));
  const std::string message = error_of([&] { stream.next(); });
  EXPECT_TRUE(has_substr(message, file.string() + ":3: malformed JSON"));
}

// One policy for invalid UTF-8 in every reader: each invalid sequence becomes U+FFFD, the rest stays.
TEST(PairStream, InvalidUtf8BecomesReplacementCharacter) {
  TempDir dir;
  const fs::path file = dir / "bytes.jsonl";
  write_text(file, "[\"caf\xff ok\", \"euro \xe2\x82\"]\n{\"query\": \"q\xc3\", \"pos\": \"p\"}\n");
  PairStream stream(file, 1, /*buffer=*/1);
  EXPECT_EQ(draw(stream, 2), (std::vector<Texts>{{"caf\xEF\xBF\xBD ok", "euro \xEF\xBF\xBD"}, {"q\xEF\xBF\xBD", "p"}}));
  // A caller's own line gets the same repair.
  EXPECT_EQ(parse_example("[\"a\xff\", \"b\"]", "f:1").texts, (Texts{"a\xEF\xBF\xBD", "b"}));
}

TEST(PairStream, EmptyOrBlankFileIsDataErrorNotAnEndlessLoop) {
  TempDir dir;
  write_text(dir / "empty.jsonl", "");
  write_text(dir / "blank.jsonl", "\n  \n\t\n");
  for (const char* name : {"empty.jsonl", "blank.jsonl"}) {
    PairStream stream(dir / name, 1);
    EXPECT_TRUE(has_substr(error_of([&] { stream.next(); }), (dir / name).string() + ": no examples")) << name;
  }
  PairStream missing(dir / "missing.jsonl", 1);
  EXPECT_TRUE(has_substr(error_of<IoError>([&] { missing.next(); }), "missing.jsonl"));
  EXPECT_THROW(PairStream(dir / "empty.jsonl", 1, 0), ConfigError);
}

TEST(PairStream, ShuffleIsSeeded) {
  TempDir dir;
  write_text(dir / "p.jsonl", pair_lines("p", 100));
  PairStream a(dir / "p.jsonl", 7, 16), b(dir / "p.jsonl", 7, 16), c(dir / "p.jsonl", 8, 16);
  const auto first = draw(a, 100);
  EXPECT_EQ(first, draw(b, 100));
  EXPECT_NE(first, draw(c, 100));
  PairStream ordered(dir / "p.jsonl", 7, 1);
  EXPECT_NE(first, draw(ordered, 100));  // a buffer of 16 does move examples around
}

TEST(PairStream, EachEpochCoversEveryExampleOnceInANewOrder) {
  TempDir dir;
  write_text(dir / "p.jsonl", pair_lines("p", 50));
  PairStream stream(dir / "p.jsonl", 3, 8);
  std::set<Texts> all;
  for (int i = 0; i < 50; ++i) all.insert(Texts{"p anchor " + std::to_string(i), "p positive " + std::to_string(i)});
  std::vector<std::vector<Texts>> epochs;
  for (int e = 0; e < 3; ++e) {
    epochs.push_back(draw(stream, 50));
    EXPECT_EQ(std::set<Texts>(epochs.back().begin(), epochs.back().end()), all) << "epoch " << e;
    EXPECT_EQ(stream.state().epoch, std::uint64_t(e));
    EXPECT_EQ(stream.state().consumed, 50u);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  stream.next();
  EXPECT_EQ(stream.state().epoch, 3u);  // rollover happens on the draw after the last example
  EXPECT_EQ(stream.state().consumed, 1u);
}

TEST(PairStream, RestoredStreamContinuesIdentically) {
  TempDir dir;
  write_text(dir / "p.jsonl", pair_lines("p", 30));
  write_gz(dir / "g.jsonl.gz", pair_lines("g", 30, 3));
  // 0: fresh; 7: mid-epoch; 30: exactly at the end of epoch 0; 37 and 95: past one or three rollovers.
  for (const char* name : {"p.jsonl", "g.jsonl.gz"})
    for (const std::size_t k : {0, 7, 30, 37, 95}) {
      PairStream original(dir / name, 42, 8);
      draw(original, k);
      const StreamState state = original.state();
      const auto expected = draw(original, 100);  // spans at least three epoch boundaries
      PairStream resumed(dir / name, 42, 8);
      resumed.restore(state);
      EXPECT_EQ(draw(resumed, 100), expected) << name << " after " << k;
      // Restoring an object that already moved on works as well.
      resumed.restore(state);
      EXPECT_EQ(draw(resumed, 100), expected) << name << " after " << k << " (reused object)";
    }
}

TEST(PairStream, RestoreRefusesADifferentSeedOrAShorterFile) {
  TempDir dir;
  write_text(dir / "p.jsonl", pair_lines("p", 30));
  PairStream original(dir / "p.jsonl", 1, 8);
  draw(original, 20);
  PairStream other_seed(dir / "p.jsonl", 2, 8);
  EXPECT_TRUE(has_substr(error_of([&] { other_seed.restore(original.state()); }), "seed"));
  write_text(dir / "p.jsonl", pair_lines("p", 10));
  PairStream shorter(dir / "p.jsonl", 1, 8);
  EXPECT_TRUE(has_substr(error_of([&] { shorter.restore(original.state()); }), "the file changed"));
}

TEST(PairStream, ReadsGzipFiles) {
  TempDir dir;
  write_gz(dir / "g.jsonl.gz", pair_lines("g", 20) + "{\"texts\": [\"x\", \"y\"]}\n");
  PairStream stream(dir / "g.jsonl.gz", 5, 4);
  const auto examples = draw(stream, 21);
  EXPECT_EQ(std::set<Texts>(examples.begin(), examples.end()).size(), 21u);
  EXPECT_NE(std::find(examples.begin(), examples.end(), Texts{"x", "y"}), examples.end());
}

// ---- read_data_config ------------------------------------------------------------------------------

TEST(DataConfig, ReadsEntriesWithAndWithoutLines) {
  TempDir dir;
  write_text(dir / "mix.json",
             R"([{"name": "a.jsonl.gz", "lines": 10, "weight": 2},
                 {"name": "sub/b.jsonl", "weight": 0.5},
                 {"name": "c.jsonl", "lines": 0, "weight": 0}])");
  const auto entries = read_data_config(dir / "mix.json");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "a.jsonl.gz");
  EXPECT_EQ(entries[0].lines, 10u);
  EXPECT_EQ(entries[0].weight, 2.0);
  EXPECT_EQ(entries[1].name, "sub/b.jsonl");
  EXPECT_EQ(entries[1].lines, 0u);
  EXPECT_EQ(entries[1].weight, 0.5);
  EXPECT_EQ(entries[2].weight, 0.0);
}

TEST(DataConfig, BadConfigsNameTheFileAndTheEntry) {
  TempDir dir;
  const fs::path file = dir / "mix.json";
  auto message = [&](const std::string& text) {
    write_text(file, text);
    return error_of([&] { read_data_config(file); });
  };
  const std::string f = file.string();
  EXPECT_TRUE(has_substr(message(R"({"name": "a", "weight": 1})"), f + ": a data config is a JSON list"));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1}, {"weight": 1}])"), f + ": entry 1 has no \"name\""));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1}, {"name": "b", "weight": -2}])"),
                         f + ": entry 1 (\"b\") has weight -2"));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 0}, {"name": "b", "weight": 0}])"),
                         f + ": every weight is 0"));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a"}])"), f + ": entry 0 (\"a\") has no \"weight\""));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": "1"}])"), "non-numeric \"weight\""));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1, "lines": -3}])"), "entry 0 (\"a\") has \"lines\""));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1}, {"name": "a", "weight": 2}])"),
                         "entry 1 (\"a\") repeats entry 0"));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1}, 3])"), f + ": entry 1 is a JSON number"));
  EXPECT_TRUE(has_substr(message("[]"), "no entries"));
  EXPECT_TRUE(has_substr(message(R"([{"name": "a", "weight": 1},])"), f + ": malformed JSON"));
  EXPECT_THROW(read_data_config(dir / "absent.json"), IoError);
}

// ---- PairMixer -------------------------------------------------------------------------------------

// Three small files of different shapes: alpha pairs, beta gzipped triplets, gamma query/pos/neg objects.
void write_three_datasets(const fs::path& dir, int n) {
  write_text(dir / "alpha.jsonl", pair_lines("alpha", n));
  write_gz(dir / "sub" / "beta.jsonl.gz", pair_lines("beta", n, 3));
  std::string gamma;
  for (int i = 0; i < n; ++i)
    gamma += "{\"query\": \"gamma q" + std::to_string(i) + "\", \"pos\": [\"gamma p" + std::to_string(i) +
             "\", \"gamma other\"], \"neg\": \"gamma n" + std::to_string(i) + "\"}\n";
  write_text(dir / "gamma.jsonl", gamma);
}

std::vector<MixEntry> three_entries(double a, double b, double c) {
  return {{"alpha.jsonl", 0, a}, {"sub/beta.jsonl.gz", 0, b}, {"gamma.jsonl", 0, c}};
}

TEST(PairMixer, EachBatchComesFromOneDatasetWithOneArity) {
  TempDir dir;
  write_three_datasets(dir.path(), 40);
  PairMixer mixer(three_entries(1, 1, 1), dir.path(), 9, 16);
  const std::map<std::string, std::pair<std::string, std::size_t>> expected = {
      {"alpha.jsonl", {"alpha ", 2}}, {"sub/beta.jsonl.gz", {"beta ", 3}}, {"gamma.jsonl", {"gamma ", 3}}};
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 300; ++i) {
    const PairBatch batch = mixer.next_batch(6);
    ASSERT_EQ(batch.examples.size(), 6u);
    ASSERT_LT(batch.dataset, 3u);
    EXPECT_EQ(batch.dataset_name, mixer.entries()[batch.dataset].name);
    const auto& [tag, arity] = expected.at(batch.dataset_name);
    for (const auto& example : batch.examples) {
      EXPECT_EQ(example.texts.size(), arity) << batch.dataset_name;
      for (const auto& text : example.texts) EXPECT_EQ(text.rfind(tag, 0), 0u) << text << " in " << batch.dataset_name;
    }
    ++seen[batch.dataset];
  }
  EXPECT_EQ(seen.size(), 3u);
}

// Draws 20,000 single-example batches from weights 1:2:7 and tests the dataset counts O_i against the
// expected E_i = 20000 * w_i / 10 = 2000, 4000, 14000 with Pearson's statistic X^2 = sum (O_i - E_i)^2 / E_i.
// With the weights right, X^2 follows a chi-square distribution with 3 - 1 = 2 degrees of freedom (the
// counts are tied by their sum), which for 2 dof is exponential with mean 2: P(X^2 > x) = exp(-x / 2),
// so the 0.999 quantile is -2 ln(0.001) = 13.82. A correct sampler would exceed it for 1 seed in 1000;
// the seed is fixed, so the test is deterministic. A wrong weighting is far out: equal weights would give
// E_i = 6667 and X^2 in the thousands.
TEST(PairMixer, DatasetFrequenciesFollowTheWeights) {
  TempDir dir;
  write_three_datasets(dir.path(), 20);
  PairMixer mixer(three_entries(1, 2, 7), dir.path(), 2024, 8);
  const int draws = 20000;
  std::vector<int> observed(3, 0);
  for (int i = 0; i < draws; ++i) ++observed[mixer.next_batch(1).dataset];
  const std::vector<double> expected = {draws * 0.1, draws * 0.2, draws * 0.7};
  double chi_square = 0;
  for (int i = 0; i < 3; ++i) chi_square += std::pow(observed[i] - expected[i], 2) / expected[i];
  RecordProperty("chi_square", std::to_string(chi_square));
  EXPECT_NEAR(-2 * std::log(0.001), 13.82, 0.005);
  EXPECT_LT(chi_square, 13.82) << "observed " << observed[0] << ", " << observed[1] << ", " << observed[2];
}

TEST(PairMixer, WeightZeroEntriesAreNeverDrawnAndMayBeMissing) {
  TempDir dir;
  write_three_datasets(dir.path(), 20);
  std::vector<MixEntry> entries = three_entries(1, 0, 1);
  entries.push_back({"not-downloaded.jsonl.gz", 5, 0});
  PairMixer mixer(entries, dir.path(), 1, 8);
  for (int i = 0; i < 500; ++i) {
    const std::size_t d = mixer.next_batch(1).dataset;
    EXPECT_TRUE(d == 0 || d == 2) << d;
  }
}

TEST(PairMixer, SkipsExamplesThatRepeatATextOfTheBatch) {
  TempDir dir;
  // A third of the examples share one anchor; every text of the others is unique. Without the skip,
  // a batch of 8 would hold about 2.7 copies of the shared anchor.
  std::string lines;
  for (int i = 0; i < 60; ++i)
    lines += "[\"" + (i < 20 ? std::string("shared anchor") : "anchor " + std::to_string(i)) + "\", \"positive " +
             std::to_string(i) + "\"]\n";
  write_text(dir / "dup.jsonl", lines);
  PairMixer mixer({{"dup.jsonl", 60, 1}}, dir.path(), 5, 16);
  int batches_with_shared = 0;
  for (int i = 0; i < 200; ++i) {
    const PairBatch batch = mixer.next_batch(8);
    ASSERT_EQ(batch.examples.size(), 8u);
    std::multiset<std::string> texts;
    for (const auto& example : batch.examples) texts.insert(example.texts.begin(), example.texts.end());
    EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()).size(), texts.size()) << "batch " << i;
    batches_with_shared += texts.count("shared anchor") > 0;
  }
  EXPECT_GT(batches_with_shared, 150);  // the shared examples are still used, once per batch
}

TEST(PairMixer, WithoutUniqueInBatchTakesExamplesAsDrawn) {
  TempDir dir;
  // Every example shares the anchor: unique batches hold one of them, plain ones fill up with copies.
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += "[\"shared anchor\", \"positive " + std::to_string(i) + "\"]\n";
  write_text(dir / "dup.jsonl", lines);
  PairMixer unique({{"dup.jsonl", 40, 1}}, dir.path(), 5, 16, /*unique_in_batch=*/true);
  EXPECT_EQ(unique.next_batch(1).examples.size(), 1u);
  EXPECT_TRUE(has_substr(error_of([&] { unique.next_batch(2); }), "too few distinct examples"));

  PairMixer plain({{"dup.jsonl", 40, 1}}, dir.path(), 5, 16, /*unique_in_batch=*/false);
  PairMixer plain_again({{"dup.jsonl", 40, 1}}, dir.path(), 5, 16, /*unique_in_batch=*/false);
  for (int i = 0; i < 5; ++i) {
    const PairBatch batch = plain.next_batch(8);
    ASSERT_EQ(batch.examples.size(), 8u);
    for (const auto& example : batch.examples) EXPECT_EQ(example.texts[0], "shared anchor");
    // The examples are the stream's order: the same seed draws the same batches.
    const PairBatch again = plain_again.next_batch(8);
    for (std::size_t j = 0; j < 8; ++j) EXPECT_EQ(batch.examples[j].texts, again.examples[j].texts);
  }
}

TEST(PairMixer, GivesUpOnADatasetWithTooFewDistinctExamples) {
  TempDir dir;
  write_text(dir / "same.jsonl", "[\"x\", \"a\"]\n[\"x\", \"b\"]\n[\"x\", \"c\"]\n");
  PairMixer mixer({{"same.jsonl", 3, 1}}, dir.path(), 1, 4);
  EXPECT_EQ(mixer.next_batch(1).examples.size(), 1u);
  const std::string message = error_of([&] { mixer.next_batch(2); });
  EXPECT_TRUE(has_substr(message, "data mix entry 0 (\"same.jsonl\")"));
  EXPECT_TRUE(has_substr(message, "in 40 draws"));
  EXPECT_TRUE(has_substr(message, "smaller batch"));

  write_text(dir / "few.jsonl", pair_lines("few", 3));  // distinct, but fewer than the batch
  PairMixer few({{"few.jsonl", 3, 1}}, dir.path(), 1, 4);
  EXPECT_TRUE(has_substr(error_of([&] { few.next_batch(4); }), "too few distinct examples"));
}

TEST(PairMixer, FileMixingPairsAndTripletsIsDataError) {
  TempDir dir;
  write_text(dir / "mixed.jsonl", "[\"a\", \"b\"]\n[\"c\", \"d\", \"e\"]\n");
  PairMixer mixer({{"mixed.jsonl", 2, 1}}, dir.path(), 1, 1);
  const std::string message = error_of([&] { mixer.next_batch(2); });
  EXPECT_TRUE(has_substr(message, (dir / "mixed.jsonl").string() + ":2: this example has 3 texts"));
  EXPECT_TRUE(has_substr(message, "only pairs or only triplets"));
}

TEST(PairMixer, MissingFileNamesTheEntryAndTheResolvedPath) {
  TempDir dir;
  write_three_datasets(dir.path(), 5);
  std::vector<MixEntry> entries = three_entries(1, 1, 1);
  entries.push_back({"reddit/reddit_2015.jsonl.gz", 0, 50});
  const std::string message = error_of([&] { PairMixer(entries, dir.path(), 1); });
  EXPECT_TRUE(has_substr(message, "data mix entry 3 (\"reddit/reddit_2015.jsonl.gz\")"));
  EXPECT_TRUE(has_substr(message, (dir / "reddit" / "reddit_2015.jsonl.gz").string() + " not found"));

  // A file that disappears after the start is reported when its dataset is first drawn.
  PairMixer mixer({{"alpha.jsonl", 0, 1}}, dir.path(), 1);
  fs::remove(dir / "alpha.jsonl");
  EXPECT_TRUE(has_substr(error_of([&] { mixer.next_batch(1); }),
                         "data mix entry 0 (\"alpha.jsonl\"): file " + (dir / "alpha.jsonl").string()));
  EXPECT_THROW(PairMixer({{"gamma.jsonl", 0, 0}}, dir.path(), 1), DataError);  // nothing to draw
}

TEST(PairMixer, RestoredMixerYieldsTheSameBatches) {
  TempDir dir;
  write_three_datasets(dir.path(), 10);  // 10 examples a file: the streams roll over many times below
  for (const std::size_t k : {0, 1, 37}) {
    PairMixer original(three_entries(1, 2, 3), dir.path(), 11, 4);
    draw_batches(original, k, 4);
    const MixState state = original.state();
    if (k == 37) {
      std::uint64_t max_epoch = 0;
      for (const auto& s : state.streams) max_epoch = std::max(max_epoch, s.epoch);
      EXPECT_GE(max_epoch, 1u) << "the saved state should sit past an epoch boundary";
    }
    const auto expected = draw_batches(original, 100, 4);
    PairMixer resumed(three_entries(1, 2, 3), dir.path(), 11, 4);
    resumed.restore(state);
    EXPECT_EQ(draw_batches(resumed, 100, 4), expected) << "after " << k;
    resumed.restore(state);
    EXPECT_EQ(draw_batches(resumed, 100, 4), expected) << "after " << k << " (reused object)";
  }
}

TEST(PairMixer, RestoreRefusesAStateOfAnotherMix) {
  TempDir dir;
  write_three_datasets(dir.path(), 10);
  PairMixer mixer(three_entries(1, 1, 1), dir.path(), 1);
  MixState state = mixer.state();
  state.streams.pop_back();
  EXPECT_TRUE(has_substr(error_of([&] { mixer.restore(state); }), "the checkpoint has 2 streams"));
  state = mixer.state();
  state.rng = "not a generator";
  EXPECT_TRUE(has_substr(error_of([&] { mixer.restore(state); }), "generator state"));
}

// ---- the reference mix -----------------------------------------------------------------------------

fs::path reference_mix() { return fs::path(SENTBENCH_SOURCE_DIR) / "configs" / "data" / "reference_mix.json"; }

TEST(ReferenceMix, Has123EntriesOfTotalWeight1044) {
  const auto entries = read_data_config(reference_mix());
  ASSERT_EQ(entries.size(), 123u);
  double total = 0;
  for (const auto& entry : entries) total += entry.weight;
  EXPECT_EQ(total, 1044.0);
  EXPECT_EQ(entries.front().name, "stackexchange_title_body/skeptics.stackexchange.com.jsonl.gz");
  EXPECT_EQ(entries.front().lines, 10009u);
  EXPECT_EQ(entries.back().name, "reddit/reddit_2018.jsonl.gz");
  EXPECT_EQ(entries.back().weight, 50.0);
}

TEST(ReferenceMix, MatchesTheOriginalConfiguration) {
  SENTBENCH_REQUIRE_SHARED("seed-config/all_datasets_v3.json");
  const auto original = read_data_config(test::shared_data() / "seed-config" / "all_datasets_v3.json");
  const auto ours = read_data_config(reference_mix());
  ASSERT_EQ(ours.size(), original.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].name, original[i].name) << "entry " << i;
    EXPECT_EQ(ours[i].lines, original[i].lines) << "entry " << i;
    EXPECT_EQ(ours[i].weight, original[i].weight) << "entry " << i;
  }
}

}  // namespace
}  // namespace sentbench
