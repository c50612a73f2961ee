// Dataset readers: LineReader (plain/.gz), BEIR folders, STS formats and clustering sets — contents,
// hashes, every bad-data error naming file and line, and the shared reference data when present.
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <zlib.h>

#include "beir.hpp"
#include "clustering_data.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sts.hpp"
#include "test_util.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;
using sentbench::test::has_substr;
using sentbench::test::TempDir;
using sentbench::test::error_of;

namespace sentbench {
namespace {

fs::path fixture(const std::string& name) {
  return fs::path(SENTBENCH_SOURCE_DIR) / "tests" / "fixtures" / "data" / name;
}

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

std::vector<std::string> read_lines(const fs::path& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
  return lines;
}

// ---- LineReader ------------------------------------------------------------------------------------

TEST(LineReader, PlainLinesLoseNewlinesAndCarriageReturnsOnly) {
  TempDir tmp;
  write_text(tmp / "a.txt", "\xEF\xBB\xBFone\r\n\n  two  \nthree");
  LineReader reader(tmp / "a.txt");
  std::string line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "one") << "BOM and CR removed";
  EXPECT_EQ(reader.line_number(), 1);
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "  two  ");
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "three") << "last line without newline";
  EXPECT_EQ(reader.line_number(), 4);
  EXPECT_TRUE(has_substr(reader.where(), "a.txt:4"));
  EXPECT_FALSE(reader.next(line));
  EXPECT_FALSE(reader.next(line));
}

// Every reader's UTF-8 policy lives here: each invalid sequence becomes U+FFFD, valid bytes stay.
TEST(LineReader, InvalidUtf8BecomesReplacementCharacterAndIsCounted) {
  TempDir tmp;
  write_text(tmp / "u.txt", "clean \xC3\xA9\nbad \xff end\ncut \xe2\x82\ntwo \xC0\xAF\n");
  LineReader reader(tmp / "u.txt");
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"clean \xC3\xA9", "bad \xEF\xBF\xBD end", "cut \xEF\xBF\xBD",
                                             "two \xEF\xBF\xBD\xEF\xBF\xBD"}));
  EXPECT_EQ(reader.replaced_sequences(), 4);
  EXPECT_EQ(reader.first_replaced_line(), 2);
}

TEST(LineReader, EmptyFileHasNoLines) {
  TempDir tmp;
  write_text(tmp / "empty.txt", "");
  EXPECT_TRUE(read_lines(tmp / "empty.txt").empty());
  write_text(tmp / "newline.txt", "\n");
  EXPECT_EQ(read_lines(tmp / "newline.txt"), std::vector<std::string>{""});
}

TEST(LineReader, LinesLongerThanTheBufferAndGzipGiveTheSameLines) {
  TempDir tmp;
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    expected.push_back(std::string(std::size_t(700000 + i * 1000), char('a' + i)));  // several 1 MiB chunks
    text += expected.back() + "\n";
  }
  expected.push_back("tail");
  text += "tail\n";
  write_text(tmp / "long.txt", text);
  write_gz(tmp / "long.txt.gz", text);
  EXPECT_EQ(read_lines(tmp / "long.txt"), expected);
  EXPECT_EQ(read_lines(tmp / "long.txt.gz"), expected);
}

TEST(LineReader, MissingFileIsIoErrorNamingIt) {
  TempDir tmp;
  const std::string message = error_of<IoError>([&] { LineReader reader(tmp / "absent.jsonl"); });
  EXPECT_TRUE(has_substr(message, "absent.jsonl"));
  EXPECT_TRUE(has_substr(message, "no such file"));
}

TEST(LineReader, CorruptGzipIsIoError) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i * 7919 % 10007) + " of some text\n";
  write_gz(tmp / "good.gz", text);
  std::string bytes = read_file(tmp / "good.gz");
  ASSERT_GT(bytes.size(), 1000u);

  std::string flipped = bytes;
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) flipped[i] = char(~flipped[i]);
  write_text(tmp / "flipped.gz", flipped);
  std::string message = error_of<IoError>([&] { read_lines(tmp / "flipped.gz"); });
  EXPECT_TRUE(has_substr(message, "flipped.gz"));
  EXPECT_TRUE(has_substr(message, "corrupt"));

  write_text(tmp / "truncated.gz", bytes.substr(0, bytes.size() / 2));
  message = error_of<IoError>([&] { read_lines(tmp / "truncated.gz"); });
  EXPECT_TRUE(has_substr(message, "truncated.gz"));

  std::string bad_crc = bytes;
  bad_crc[bad_crc.size() - 6] = char(~bad_crc[bad_crc.size() - 6]);  // the CRC-32 trailer
  write_text(tmp / "crc.gz", bad_crc);
  EXPECT_THROW(read_lines(tmp / "crc.gz"), IoError);
}

TEST(LineReader, GzNameOnPlainTextIsIoError) {
  TempDir tmp;
  write_text(tmp / "plain.jsonl.gz", "{\"a\": 1}\n");
  EXPECT_TRUE(has_substr(error_of<IoError>([&] { read_lines(tmp / "plain.jsonl.gz"); }), "not a gzip file"));
}

// ---- BEIR ------------------------------------------------------------------------------------------

TEST(Beir, LoadsFixtureWithTitlesNumericIdsAndSplitFiltering) {
  const BeirDataset d = load_beir(fixture("beir"));
  EXPECT_EQ(d.doc_ids, (std::vector<std::string>{"d1", "2", "d3", "d4"}));
  EXPECT_EQ(d.doc_texts, (std::vector<std::string>{"Wing flutter Flutter of swept wings at high speed.",
                                                   "Heat transfer in hypersonic flow.",
                                                   "Boundary layer transition on a flat plate.",
                                                   "Shells Buckling of thin cylindrical shells."}));
  // q3 has judgements only in dev; q4 only zero gains (kept: the metric code decides to skip it).
  EXPECT_EQ(d.query_ids, (std::vector<std::string>{"q1", "7", "q4"}));
  EXPECT_EQ(d.query_texts, (std::vector<std::string>{"wing flutter", "hypersonic heat transfer", "only zero gains"}));
  ASSERT_EQ(d.qrels.size(), 3u);
  EXPECT_EQ(d.qrels.at("q1"), (std::unordered_map<std::string, int>{{"d1", 2}, {"d4", 0}}));
  EXPECT_EQ(d.qrels.at("7"), (std::unordered_map<std::string, int>{{"2", 1}}));
  EXPECT_EQ(d.qrels.at("q4"), (std::unordered_map<std::string, int>{{"d3", 0}}));
  EXPECT_EQ(d.hash.size(), 16u);
  EXPECT_EQ(load_beir(fixture("beir")).hash, d.hash);

  const BeirDataset dev = load_beir(fixture("beir"), "dev");  // no header line in dev.tsv
  EXPECT_EQ(dev.query_ids, std::vector<std::string>{"q3"});
  EXPECT_EQ(dev.qrels.at("q3"), (std::unordered_map<std::string, int>{{"d3", 1}}));
  EXPECT_NE(dev.hash, d.hash);
}

TEST(Beir, HashFollowsContent) {
  TempDir tmp;
  fs::copy(fixture("beir"), tmp / "b", fs::copy_options::recursive);
  const std::string before = load_beir(tmp / "b").hash;
  write_text(tmp / "b/qrels/test.tsv", "q1\td1\t1\n");
  EXPECT_NE(load_beir(tmp / "b").hash, before);
}

TEST(Beir, ReadsGzippedCorpus) {
  TempDir tmp;
  fs::copy(fixture("beir"), tmp / "b", fs::copy_options::recursive);
  write_gz(tmp / "b/corpus.jsonl.gz", read_file(tmp / "b/corpus.jsonl"));
  fs::remove(tmp / "b/corpus.jsonl");
  EXPECT_EQ(load_beir(tmp / "b").doc_ids.size(), 4u);
}

TEST(Beir, MalformedJsonNamesFileAndLine) {
  const std::string message = error_of([] { load_beir(fixture("beir_bad_json")); });
  EXPECT_TRUE(has_substr(message, "corpus.jsonl:2: malformed JSON"));
}

TEST(Beir, QrelsNamingUnknownIdsAreRefused) {
  std::string message = error_of([] { load_beir(fixture("beir_unknown_query")); });
  EXPECT_TRUE(has_substr(message, "test.tsv:3: query id \"q9\" is not in queries.jsonl"));
  message = error_of([] { load_beir(fixture("beir_unknown_doc")); });
  EXPECT_TRUE(has_substr(message, "test.tsv:2: document id \"d9\" is not in corpus.jsonl"));
}

TEST(Beir, EmptyCorpusIsRefused) {
  const std::string message = error_of([] { load_beir(fixture("beir_empty_corpus")); });
  EXPECT_TRUE(has_substr(message, "corpus.jsonl"));
  EXPECT_TRUE(has_substr(message, "corpus is empty"));
}

// One BEIR folder written from strings, to vary one file at a time.
fs::path beir_folder(const TempDir& tmp, const std::string& corpus, const std::string& queries,
                     const std::string& qrels) {
  write_text(tmp / "b/corpus.jsonl", corpus);
  write_text(tmp / "b/queries.jsonl", queries);
  write_text(tmp / "b/qrels/test.tsv", qrels);
  return tmp / "b";
}

TEST(Beir, BadLinesNameFileAndLine) {
  const std::string corpus = "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": \"d2\", \"text\": \"b\"}\n";
  const std::string queries = "{\"_id\": \"q1\", \"text\": \"a\"}\n";
  const std::string qrels = "q1\td1\t1\n";
  struct Case {
    std::string corpus, queries, qrels, expected;
  };
  const std::vector<Case> cases = {
      {corpus + "{\"_id\": \"d1\", \"text\": \"c\"}\n", queries, qrels,
       "corpus.jsonl:3: duplicate _id \"d1\" (first on line 1)"},
      {corpus + "{\"text\": \"c\"}\n", queries, qrels, "corpus.jsonl:3: no \"_id\" field"},
      {corpus + "{\"_id\": \"d3\", \"title\": \"c\"}\n", queries, qrels, "corpus.jsonl:3: no \"text\" field"},
      {corpus + "{\"_id\": 1.5, \"text\": \"c\"}\n", queries, qrels, "corpus.jsonl:3: \"_id\" must be a string or an integer"},
      {corpus + "[\"d3\", \"c\"]\n", queries, qrels, "corpus.jsonl:3: expected a JSON object, found a JSON array"},
      {corpus, "{\"_id\": \"q1\", \"text\": 5}\n", qrels, "queries.jsonl:1: \"text\" must be a string"},
      {corpus, queries, "query-id\tcorpus-id\tscore\nq1\td1\thigh\n", "test.tsv:2: score \"high\" is not an integer"},
      {corpus, queries, "q1\td1\t1.5\n", "test.tsv:1: score \"1.5\" is not an integer"},
      {corpus, queries, "q1\td1\t1\nq1 d2 1\n", "test.tsv:2: expected 3 tab-separated columns"},
      {corpus, queries, "q1\td1\n", "test.tsv:1: expected 3 tab-separated columns (query-id, corpus-id, score), found 2"},
      {corpus, queries, "q1\td1\t1\n\nq1\td1\t2\n", "test.tsv:3: query \"q1\" judges document \"d1\" again"},
      {corpus, queries, "query-id\tcorpus-id\tscore\n", "test.tsv: no judgements"},
  };
  for (const Case& c : cases) {
    TempDir tmp;
    const fs::path dir = beir_folder(tmp, c.corpus, c.queries, c.qrels);
    EXPECT_TRUE(has_substr(error_of([&] { load_beir(dir); }), c.expected));
  }
  TempDir tmp;
  const fs::path dir = beir_folder(tmp, corpus, queries, qrels + "q1\td1\t1\n");  // a repeat that agrees is fine
  EXPECT_EQ(load_beir(dir).qrels.at("q1").size(), 1u);
}

TEST(Beir, InvalidUtf8InCorpusQueriesAndQrelsBecomesReplacementCharacter) {
  TempDir tmp;
  const fs::path dir = beir_folder(
      tmp, "{\"_id\": \"d\xff\", \"title\": \"T\xe2\x82\", \"text\": \"bad \xff byte\"}\n{\"_id\": \"d2\", \"text\": \"ok\"}\n",
      "{\"_id\": \"q1\", \"text\": \"cut \xe2\x82\"}\n", "q1\td\xff\t1\n");
  const BeirDataset d = load_beir(dir);
  EXPECT_EQ(d.doc_ids, (std::vector<std::string>{"d\xEF\xBF\xBD", "d2"}));
  EXPECT_EQ(d.doc_texts, (std::vector<std::string>{"T\xEF\xBF\xBD bad \xEF\xBF\xBD byte", "ok"}));
  EXPECT_EQ(d.query_texts, std::vector<std::string>{"cut \xEF\xBF\xBD"});
  // The qrels line names the repaired id, so the judgement still finds its document.
  EXPECT_EQ(d.qrels.at("q1"), (std::unordered_map<std::string, int>{{"d\xEF\xBF\xBD", 1}}));
}

// Found by tests/fuzz/fuzz_datasets: a number beyond double range escaped as a raw nlohmann exception.
TEST(Beir, NumberOutOfRangeIsDataErrorNamingFileAndLine) {
  TempDir tmp;
  const fs::path dir = beir_folder(tmp, "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": 1e400, \"text\": \"b\"}\n",
                                   "{\"_id\": \"q1\", \"text\": \"a\"}\n", "q1\td1\t1\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_beir(dir); }), "corpus.jsonl:2: malformed JSON: number overflow"));
}

TEST(Beir, MissingFilesSayWhatABeirFolderHolds) {
  std::string message = error_of<IoError>([] { load_beir(fixture("beir"), "train"); });
  EXPECT_TRUE(has_substr(message, "no qrels/train.tsv"));
  EXPECT_TRUE(has_substr(message, "dev"));
  EXPECT_TRUE(has_substr(message, "test"));
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  message = error_of<IoError>([&] { load_beir(tmp / "empty"); });
  EXPECT_TRUE(has_substr(message, "no corpus.jsonl"));
  EXPECT_THROW(load_beir(tmp / "nowhere"), IoError);
}

TEST(Beir, CranfieldReferenceData) {
  SENTBENCH_REQUIRE_SHARED("cranfield");
  const BeirDataset d = load_beir(::sentbench::test::shared_data() / "cranfield");
  EXPECT_EQ(d.doc_ids.size(), 1400u);
  EXPECT_EQ(d.query_ids.size(), 225u);
  EXPECT_EQ(d.qrels.size(), 225u);
  std::size_t judgements = 0;
  std::set<std::string> judged_docs;
  for (const auto& [query, docs] : d.qrels) {
    judgements += docs.size();
    for (const auto& [doc, gain] : docs) {
      judged_docs.insert(doc);
      EXPECT_GE(gain, 1);
      EXPECT_LE(gain, 4);
    }
  }
  // qrels/test.tsv has 1,613 lines: the header plus 1,612 judgements.
  EXPECT_EQ(judgements, 1612u);
  EXPECT_EQ(judged_docs.size(), 830u);
  EXPECT_EQ(d.query_ids.front(), "1");
  EXPECT_EQ(d.query_ids.back(), "225");
  EXPECT_EQ(d.doc_ids.front(), "1");
  EXPECT_TRUE(has_substr(d.doc_texts.front(), "experimental investigation of the aerodynamics of a wing in a "
                                              "slipstream . experimental investigation"));
}

// ---- STS -------------------------------------------------------------------------------------------

TEST(Sts, StsbCsvSplitsOnTabsOnlyAndIgnoresExtraColumns) {
  const StsDataset d = load_sts(fixture("sts/sts-mini.csv"));  // auto: sts-*.csv
  ASSERT_EQ(d.pairs.size(), 4u);
  EXPECT_EQ(d.pairs[0].a, "A plane is taking off.");
  EXPECT_EQ(d.pairs[0].b, "An air plane is taking off.");
  EXPECT_DOUBLE_EQ(d.pairs[0].score, 5.0);
  EXPECT_EQ(d.pairs[1].a, "\"Quoted start, no end");
  EXPECT_EQ(d.pairs[1].b, "A second \"sentence\".");
  EXPECT_DOUBLE_EQ(d.pairs[1].score, 1.25);
  EXPECT_EQ(d.pairs[2].b, "They are ignored.");
  EXPECT_DOUBLE_EQ(d.pairs[2].score, 0.0);
  EXPECT_EQ(d.pairs[3].a, "Last pair.");
  EXPECT_DOUBLE_EQ(d.pairs[3].score, 3.8);
  EXPECT_EQ(d.hash.size(), 16u);
}

TEST(Sts, SickFiltersSemEvalSet) {
  const fs::path path = fixture("sts/SICK_mini.txt");
  const StsDataset test = load_sts(path);  // auto: SICK in the name; split "test"
  ASSERT_EQ(test.pairs.size(), 2u);
  EXPECT_EQ(test.pairs[0].a, "A man is cutting a tomato.");
  EXPECT_DOUBLE_EQ(test.pairs[0].score, 4.7);
  EXPECT_EQ(test.pairs[1].b, "A man plays a flute.");
  StsReadOptions options;
  options.split = "TRAIN";
  EXPECT_EQ(load_sts(path, options).pairs.size(), 1u);
  options.split = "dev";  // alias of TRIAL
  const StsDataset dev = load_sts(path, options);
  ASSERT_EQ(dev.pairs.size(), 1u);
  EXPECT_EQ(dev.pairs[0].a, "Two dogs run.");
  EXPECT_NE(dev.hash, test.hash);
  options.split = "";
  EXPECT_EQ(load_sts(path, options).pairs.size(), 4u);
}

TEST(Sts, NamedColumnTsv) {
  StsReadOptions options;
  options.sentence1_column = "text_a";
  options.sentence2_column = "text_b";
  options.score_column = "label";
  const StsDataset all = load_sts(fixture("sts/pairs.tsv"), options);
  ASSERT_EQ(all.pairs.size(), 3u);
  EXPECT_EQ(all.pairs[2].a, "third a");
  EXPECT_DOUBLE_EQ(all.pairs[2].score, -0.25);
  options.split_column = "part";  // split "test", compared case-insensitively
  const StsDataset test = load_sts(fixture("sts/pairs.tsv"), options);
  ASSERT_EQ(test.pairs.size(), 2u);
  EXPECT_EQ(test.pairs[1].b, "third b");
  EXPECT_NE(test.hash, all.hash);

  options.score_column = "nope";
  const std::string message = error_of([&] { load_sts(fixture("sts/pairs.tsv"), options); });
  EXPECT_TRUE(has_substr(message, "pairs.tsv:1: the header has no column \"nope\""));
  EXPECT_TRUE(has_substr(message, "\"label\""));
  EXPECT_TRUE(has_substr(message, "score_column"));
}

TEST(Sts, InvalidUtf8BecomesReplacementCharacter) {
  TempDir tmp;
  write_text(tmp / "sts-bytes.csv", "main\tx\t2012\t0001\t4.0\tA \xff plane.\tAn air \xe2\x82\n");
  const StsDataset d = load_sts(tmp / "sts-bytes.csv");
  ASSERT_EQ(d.pairs.size(), 1u);
  EXPECT_EQ(d.pairs[0].a, "A \xEF\xBF\xBD plane.");
  EXPECT_EQ(d.pairs[0].b, "An air \xEF\xBF\xBD");
  EXPECT_DOUBLE_EQ(d.pairs[0].score, 4.0);
}

TEST(Sts, SentenceTransformersGzipLayout) {
  TempDir tmp;
  write_gz(tmp / "stsbenchmark.tsv.gz",
           "split\tgenre\tdataset\tyear\tsid\tscore\tsentence1\tsentence2\n"
           "train\tmain-captions\tMSRvid\t2012test\t0001\t5.000\tA plane is taking off.\tAn air plane is taking off.\n"
           "test\tmain-captions\tMSRvid\t2012test\t0024\t2.500\tA girl is styling her hair.\tA girl is brushing her hair.\n"
           "dev\tmain-news\theadlines\t2015\t0002\t1.0\tOne \"quote.\tTwo.\n"
           "test\tmain-news\theadlines\t2015\t0003\t0.6\tThree.\tFour.\n");
  const StsDataset test = load_sts(tmp / "stsbenchmark.tsv.gz");
  ASSERT_EQ(test.pairs.size(), 2u);
  EXPECT_EQ(test.pairs[0].a, "A girl is styling her hair.");
  EXPECT_DOUBLE_EQ(test.pairs[0].score, 2.5);
  EXPECT_EQ(test.pairs[1].b, "Four.");
  StsReadOptions options;
  options.split = "dev";
  const StsDataset dev = load_sts(tmp / "stsbenchmark.tsv.gz", options);
  ASSERT_EQ(dev.pairs.size(), 1u);
  EXPECT_EQ(dev.pairs[0].a, "One \"quote.");
  options.split = "validation";
  const std::string message = error_of([&] { load_sts(tmp / "stsbenchmark.tsv.gz", options); });
  EXPECT_TRUE(has_substr(message, "no pairs of split \"validation\" (splits present: dev, test, train)"));
}

TEST(Sts, BadRowsNameFileAndLine) {
  std::string message = error_of([] { load_sts(fixture("sts/sts-badscore.csv")); });
  EXPECT_TRUE(has_substr(message, "sts-badscore.csv:2: score \"n/a\" (column 5) is not a number"));
  message = error_of([] { load_sts(fixture("sts/sts-short.csv")); });
  EXPECT_TRUE(has_substr(message, "sts-short.csv:3: expected at least 7 tab-separated columns, found 6"));
  // A header-bearing file read as STS-B csv: the hint names the other formats.
  StsReadOptions options;
  options.format = "stsb";
  message = error_of([&] { load_sts(fixture("sts/pairs.tsv"), options); });
  EXPECT_TRUE(has_substr(message, "pairs.tsv:1: expected at least 7"));
  options.format = "tsv";
  message = error_of([&] { load_sts(fixture("sts/SICK_mini.txt"), options); });
  EXPECT_TRUE(has_substr(message, "SICK_mini.txt:1: the header has no column \"sentence1\""));

  TempDir tmp;
  write_text(tmp / "sts-header.csv", "genre\tfile\tyear\tid\tscore\ts1\ts2\n");
  message = error_of([&] { load_sts(tmp / "sts-header.csv"); });
  EXPECT_TRUE(has_substr(message, "sts-header.csv:1: score \"score\""));
  EXPECT_TRUE(has_substr(message, "header row"));
  write_text(tmp / "sts-empty.csv", "");
  EXPECT_TRUE(has_substr(error_of([&] { load_sts(tmp / "sts-empty.csv"); }), "no pairs"));
  write_text(tmp / "inf.tsv", "sentence1\tsentence2\tscore\na\tb\tinf\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_sts(tmp / "inf.tsv"); }), "inf.tsv:2: score \"inf\""));
  write_text(tmp / "empty.tsv", "");
  EXPECT_TRUE(has_substr(error_of([&] { load_sts(tmp / "empty.tsv"); }), "empty"));

  options.format = "xml";
  EXPECT_THROW(load_sts(fixture("sts/pairs.tsv"), options), ConfigError);
}

TEST(Sts, StsBenchmarkReferenceData) {
  SENTBENCH_REQUIRE_SHARED("stsb");
  const fs::path dir = ::sentbench::test::shared_data() / "stsb";
  EXPECT_EQ(load_sts(dir / "sts-train.csv").pairs.size(), 5749u);
  EXPECT_EQ(load_sts(dir / "sts-dev.csv").pairs.size(), 1500u);
  const StsDataset csv = load_sts(dir / "sts-test.csv");
  ASSERT_EQ(csv.pairs.size(), 1379u);
  const StsDataset gz = load_sts(dir / "stsbenchmark.tsv.gz");
  ASSERT_EQ(gz.pairs.size(), 1379u);
  for (std::size_t i = 0; i < csv.pairs.size(); ++i) {
    ASSERT_EQ(csv.pairs[i].a, gz.pairs[i].a) << "pair " << i;
    ASSERT_EQ(csv.pairs[i].b, gz.pairs[i].b) << "pair " << i;
    ASSERT_DOUBLE_EQ(csv.pairs[i].score, gz.pairs[i].score) << "pair " << i;
    ASSERT_GE(csv.pairs[i].score, 0.0);
    ASSERT_LE(csv.pairs[i].score, 5.0);
  }
  StsReadOptions options;
  options.split = "train";
  EXPECT_EQ(load_sts(dir / "stsbenchmark.tsv.gz", options).pairs.size(), 5749u);
}

// ---- clustering ------------------------------------------------------------------------------------

TEST(Clustering, JsonlWithStringAndNumericLabels) {
  const ClusteringDataset d = load_clustering(fixture("clustering/mini.jsonl"));
  ASSERT_EQ(d.texts.size(), 4u);
  EXPECT_EQ(d.texts[1], "Rates rose by a quarter point.");
  EXPECT_EQ(d.label_names, (std::vector<std::string>{"sport", "3"}));
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(d.hash, hash_file(fixture("clustering/mini.jsonl")));
}

TEST(Clustering, TsvWithOptionalHeaderAndTabsInText) {
  const ClusteringDataset d = load_clustering(fixture("clustering/mini.tsv"));
  ASSERT_EQ(d.texts.size(), 3u);
  EXPECT_EQ(d.texts[1], "Rates rose\tby a quarter point.");
  EXPECT_EQ(d.label_names, (std::vector<std::string>{"sport", "finance"}));
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1, 0}));
}

TEST(Clustering, GzippedJsonl) {
  TempDir tmp;
  write_gz(tmp / "set.jsonl.gz", read_file(fixture("clustering/mini.jsonl")));
  EXPECT_EQ(load_clustering(tmp / "set.jsonl.gz").labels, (std::vector<std::int64_t>{0, 1, 0, 1}));
}

TEST(Clustering, InvalidUtf8BecomesReplacementCharacter) {
  TempDir tmp;
  write_text(tmp / "u.jsonl", "{\"text\": \"a \xff\", \"label\": \"x\xe2\x82\"}\n{\"text\": \"b\", \"label\": \"y\"}\n");
  const ClusteringDataset j = load_clustering(tmp / "u.jsonl");
  EXPECT_EQ(j.texts, (std::vector<std::string>{"a \xEF\xBF\xBD", "b"}));
  EXPECT_EQ(j.label_names, (std::vector<std::string>{"x\xEF\xBF\xBD", "y"}));
  write_text(tmp / "u.tsv", "x\ta \xe2\x82 end\ny\tb\n");
  EXPECT_EQ(load_clustering(tmp / "u.tsv").texts, (std::vector<std::string>{"a \xEF\xBF\xBD end", "b"}));
}

TEST(Clustering, BadSetsAreRefused) {
  std::string message = error_of([] { load_clustering(fixture("clustering/one_label.jsonl")); });
  EXPECT_TRUE(has_substr(message, "one_label.jsonl: all 2 texts have the label \"only\""));
  EXPECT_TRUE(has_substr(message, "at least two labels"));
  message = error_of([] { load_clustering(fixture("clustering/missing_label.jsonl")); });
  EXPECT_TRUE(has_substr(message, "missing_label.jsonl:2: no \"label\" field"));
  message = error_of([] { load_clustering(fixture("clustering/no_tab.tsv")); });
  EXPECT_TRUE(has_substr(message, "no_tab.tsv:2: no tab: expected \"label<TAB>text\""));

  TempDir tmp;
  write_text(tmp / "bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": [2]}\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_clustering(tmp / "bad.jsonl"); }), "bad.jsonl:2: \"label\" must be"));
  write_text(tmp / "broken.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 2\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_clustering(tmp / "broken.jsonl"); }), "broken.jsonl:2: malformed JSON"));
  write_text(tmp / "notext.jsonl", "{\"label\": 1}\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_clustering(tmp / "notext.jsonl"); }), "notext.jsonl:1: no \"text\""));
  write_text(tmp / "empty.tsv", "\n\n");
  EXPECT_TRUE(has_substr(error_of([&] { load_clustering(tmp / "empty.tsv"); }), "no texts"));
}

}  // namespace
}  // namespace sentbench
