// The Debian data builder: parsing the hand-written fixture lists (paragraphs, separators, missing
// translations, duplicate descriptions, compressed lists), and, on generated lists, the split rules (a
// source's binaries and any shared text stay on one side), sampling, balance, determinism and --check.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <lz4frame.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "debian_builder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;
using sentbench::test::has_substr;
using sentbench::test::TempDir;

namespace sentbench::debian {
namespace {

const fs::path kFixtures = fs::path(SENTBENCH_SOURCE_DIR) / "tests" / "fixtures" / "debian";
const char* kPackagesName = "test_main_binary-amd64_Packages";
const char* kTranslationName = "test_main_i18n_Translation-en";

std::string lz4(const std::string& text) {
  std::string out(LZ4F_compressFrameBound(text.size(), nullptr), '\0');
  const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), text.data(), text.size(), nullptr);
  EXPECT_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

void write_gz(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), unsigned(text.size())), int(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  LineReader reader(path);
  std::string line;
  while (reader.next(line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

const Description* find(const std::vector<Description>& all, const std::string& package) {
  for (const auto& d : all)
    if (std::find(d.packages.begin(), d.packages.end(), package) != d.packages.end()) return &d;
  return nullptr;
}

std::vector<Description> read_fixture(ReadStats& stats) {
  return read_descriptions({kFixtures / kPackagesName}, {kFixtures / kTranslationName}, stats);
}

TEST(DebianParse, LongDescriptionParagraphs) {
  EXPECT_EQ(parse_long_description(" one\n two\n .\n three"), (std::vector<std::string>{"one two", "three"}));
  // Repeated and trailing separators make no empty paragraphs; verbatim (two-space) lines are joined too.
  EXPECT_EQ(parse_long_description(" a\n .\n .\n  * b\n  * c\n ."), (std::vector<std::string>{"a", "* b * c"}));
  EXPECT_TRUE(parse_long_description("").empty());
  EXPECT_TRUE(parse_long_description(" .").empty());
}

TEST(DebianParse, FixtureLists) {
  ReadStats stats;
  const auto all = read_fixture(stats);
  EXPECT_EQ(stats.package_stanzas, 9u);
  EXPECT_EQ(stats.translation_stanzas, 8u);
  EXPECT_EQ(stats.untranslated, 1u);              // delta: its Translation entry has another md5
  EXPECT_EQ(stats.without_long_description, 1u);  // epsilon
  EXPECT_EQ(stats.descriptions, 6u);              // alpha-tool, alpha-data, beta, gamma(+legacy), zeta, eta
  ASSERT_EQ(all.size(), 6u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.md5 < b.md5; }));
  EXPECT_EQ(find(all, "delta"), nullptr);
  EXPECT_EQ(find(all, "epsilon"), nullptr);

  const Description* alpha = find(all, "alpha-tool");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->short_text, "command-line frobnicator for alpha files");
  EXPECT_EQ(alpha->paragraphs, (std::vector<std::string>{
                                   "Alpha reads and writes the alpha file format used by frobnication pipelines.",
                                   "This package contains the command-line tool."}));
  EXPECT_EQ(alpha->sources, std::vector<std::string>{"alpha"});  // "alpha (1.2-1)": the version is dropped
  EXPECT_EQ(alpha->section, "utils");

  const Description* beta = find(all, "beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(beta->paragraphs, (std::vector<std::string>{
                                  "Beta is a puzzle game: blocks fall and you arrange them into full rows.",
                                  "Features: * twelve levels * a two-player mode",
                                  "The last paragraph follows two separators."}));
  EXPECT_EQ(beta->sources, std::vector<std::string>{"beta"});  // no Source field: the package is its source

  // One description (one md5) for two packages of two sources.
  const Description* gamma = find(all, "gamma");
  ASSERT_NE(gamma, nullptr);
  EXPECT_EQ(gamma, find(all, "gamma-legacy"));
  EXPECT_EQ(gamma->packages, (std::vector<std::string>{"gamma", "gamma-legacy"}));
  EXPECT_EQ(gamma->sources, (std::vector<std::string>{"gamma", "gamma-old"}));

  EXPECT_EQ(find(all, "zeta")->section, "science");  // "contrib/science"

  const Description* eta = find(all, "eta");  // long description inline in Packages, no md5 field
  ASSERT_NE(eta, nullptr);
  EXPECT_EQ(eta->short_text, "editor whose list entry carries its long description");
  EXPECT_EQ(eta->paragraphs.size(), 2u);
  EXPECT_EQ(eta->md5.rfind("xxh3:", 0), 0u);
}

TEST(DebianParse, CompressedListsReadLikePlainOnes) {
  TempDir dir;
  const std::string packages = read_file(kFixtures / kPackagesName);
  const std::string translation = read_file(kFixtures / kTranslationName);
  write_file_atomic(dir / (std::string(kPackagesName) + ".lz4"), lz4(packages));
  write_gz(dir / (std::string(kTranslationName) + ".gz"), translation);
  EXPECT_EQ(read_list(dir / (std::string(kPackagesName) + ".lz4")), packages);
  EXPECT_EQ(read_list(dir / (std::string(kTranslationName) + ".gz")), translation);

  const ListFiles lists = find_lists(dir.path());
  ASSERT_EQ(lists.packages.size(), 1u);
  ASSERT_EQ(lists.translations.size(), 1u);
  EXPECT_EQ(list_name(lists.packages[0]), kPackagesName);
  ReadStats plain_stats, packed_stats;
  const auto plain = read_fixture(plain_stats);
  const auto packed = read_descriptions(lists.packages, lists.translations, packed_stats);
  ASSERT_EQ(plain.size(), packed.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].md5, packed[i].md5);
    EXPECT_EQ(plain[i].paragraphs, packed[i].paragraphs);
  }
}

TEST(DebianParse, DamagedListsAreIoErrors) {
  TempDir dir;
  std::string packed = lz4(read_file(kFixtures / kPackagesName));
  write_file_atomic(dir / "truncated.lz4", packed.substr(0, packed.size() / 2));
  EXPECT_THROW(read_list(dir / "truncated.lz4"), IoError);
  packed[packed.size() / 2] ^= 0x55;
  packed[packed.size() / 2 + 1] ^= 0x55;
  write_file_atomic(dir / "corrupt.lz4", packed);
  try {
    // Either the block checksum or the content size catches it; what matters is that it is not silent.
    const std::string text = read_list(dir / "corrupt.lz4");
    EXPECT_NE(text, read_file(kFixtures / kPackagesName));
  } catch (const IoError&) {
  }
  write_file_atomic(dir / "list.xz", std::string("\xfd" "7zXZ\0rest", 10));
  try {
    read_list(dir / "list.xz");
    FAIL() << "xz accepted";
  } catch (const IoError& e) {
    EXPECT_TRUE(has_substr(e.what(), "xz"));
  }
}

TEST(DebianParse, MissingTranslationsSayHowToFetchThem) {
  ReadStats stats;
  try {
    read_descriptions({kFixtures / kPackagesName}, {}, stats);
    // eta carries its long text inline, so the fixture alone would pass; without it there is nothing.
  } catch (const DataError&) {
    FAIL() << "an inline long description should be enough";
  }
  TempDir dir;
  std::string packages = read_file(kFixtures / kPackagesName);
  packages.erase(packages.find("Package: eta"));
  write_file_atomic(dir / kPackagesName, packages);
  try {
    read_descriptions({dir / kPackagesName}, {}, stats);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_TRUE(has_substr(e.what(), "apt-get update -o Acquire::Languages=en"));
  }
  try {
    BuildOptions options;
    options.lists_dir = dir / "nowhere";
    options.out_dir = dir / "out";
    build_debian_data(options);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_TRUE(has_substr(e.what(), "apt-get update"));
  }
}

TEST(DebianSplit, FixtureGroupsBySourceSynopsisAndParagraph) {
  ReadStats stats;
  const auto all = read_fixture(stats);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const Split split = split_descriptions(all, seed, 2, 50);
    const auto index = [&](const char* p) { return std::size_t(find(all, p) - all.data()); };
    EXPECT_EQ(split.group[index("alpha-tool")], split.group[index("alpha-data")]);
    EXPECT_EQ(split.held_out[index("alpha-tool")], split.held_out[index("alpha-data")]);
    EXPECT_EQ(split.groups, 5u);  // alpha's two descriptions share a source
    EXPECT_GE(split.held_out_descriptions, 2u);
  }
  // A group larger than max_group never goes to the held-out side.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const Split split = split_descriptions(all, seed, 100, 1);
    EXPECT_FALSE(split.held_out[std::size_t(find(all, "alpha-tool") - all.data())]);
    EXPECT_EQ(split.held_out_descriptions, 4u);
  }
}

// Generated lists big enough for the split, sampling and balance rules: sources with several binaries,
// first paragraphs and synopses shared across sources, duplicate descriptions, a large family, and a
// role section ("libs") that is the largest of all.
struct Generated {
  std::string packages, translation;
  std::map<std::string, std::set<std::string>> sources_of_text;  // synopsis / paragraph -> sources
};

Generated generate_lists() {
  Generated g;
  const std::vector<std::string> sections = {"libs", "libs", "python", "perl", "games", "net", "utils", "doc"};
  std::mt19937 rng(7);
  int md5 = 0;
  std::string shared_paragraph;
  for (int s = 0; s < 160; ++s) {
    const std::string source = "src" + std::to_string(s);
    const std::string section = sections[rng() % sections.size()];
    const int binaries = s == 3 ? 15 : 1 + int(rng() % 3);
    std::string previous_md5, previous_text;
    for (int b = 0; b < binaries; ++b) {
      const std::string package = source + "-bin" + std::to_string(b);
      std::string synopsis = "tool number " + std::to_string(s) + " part " + std::to_string(b) + " for " + section;
      if (s % 40 == 5 && b == 0) synopsis = "transitional package";  // shared by unrelated sources
      std::string first = "Source " + std::to_string(s) + " builds binary " + std::to_string(b) +
                          " which handles " + section + " work in a fairly specific way.";
      if (s % 10 == 9 && b == 0) {
        first = shared_paragraph;  // the previous source's paragraph, as 0ad / 0ad-data do
      }
      if (b == 0) shared_paragraph = first;
      std::string id = fmt::format("{:032x}", ++md5);
      std::string text = synopsis + "\n " + first + "\n .\n More about " + package + ".";
      if (b == 1 && s % 7 == 0) {  // a second binary with its sibling's description: same md5
        id = previous_md5;
        text = previous_text;
      }
      previous_md5 = id;
      previous_text = text;
      g.packages += fmt::format("Package: {}\nSource: {}\nDescription: {}\nDescription-md5: {}\nSection: {}\n\n", package,
                                source, text.substr(0, text.find('\n')), id, section);
      g.translation += fmt::format("Package: {}\nDescription-md5: {}\nDescription-en: {}\n\n", package, id, text);
      const std::size_t nl = text.find('\n');
      g.sources_of_text[text.substr(0, nl)].insert(source);
      g.sources_of_text[text.substr(nl + 2, text.find('\n', nl + 1) - nl - 2)].insert(source);
    }
  }
  return g;
}

BuildOptions small_options(const fs::path& lists, const fs::path& out, std::uint64_t seed) {
  BuildOptions options;
  options.lists_dir = lists;
  options.out_dir = out;
  options.seed = seed;
  options.held_out_target = 130;
  options.max_held_out_group = 10;
  options.queries = 20;
  options.corpus = 60;
  options.clustering_sections = 4;
  options.clustering_per_section = 5;
  options.vocab_size = 300;
  options.write_vocabulary = [](const std::vector<std::string>& texts, const fs::path& dir) {
    std::string all;
    for (const auto& t : texts) all += t + "\n";
    write_file_atomic(dir / "texts.txt", all);
  };
  return options;
}

class DebianBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    generated_ = generate_lists();
    write_file_atomic(lists_ / "gen_main_binary-amd64_Packages.lz4", lz4(generated_.packages));
    write_gz(lists_ / "gen_main_i18n_Translation-en.gz", generated_.translation);
    // Lists of other components and languages are not read.
    write_file_atomic(lists_ / "gen_contrib_binary-amd64_Packages", "Package: x\nDescription: y\n z\n");
    write_file_atomic(lists_ / "gen_main_i18n_Translation-de", "Package: x\n");
  }
  std::set<std::string> sources_of(const std::string& text) const {
    const auto found = generated_.sources_of_text.find(text);
    EXPECT_NE(found, generated_.sources_of_text.end()) << text;
    return found == generated_.sources_of_text.end() ? std::set<std::string>{} : found->second;
  }

  TempDir dir_;
  fs::path lists_ = dir_ / "lists";
  Generated generated_;
};

TEST_F(DebianBuild, SplitKeepsSourcesAndTextsOnOneSide) {
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    const fs::path out = dir_ / ("out" + std::to_string(seed));
    const BuildStats stats = build_debian_data(small_options(lists_, out, seed));
    SCOPED_TRACE(seed);
    EXPECT_EQ(stats.queries, 20u);
    EXPECT_EQ(stats.corpus, 60u);
    EXPECT_GE(stats.held_out_descriptions, 130u);

    std::set<std::string> train_texts, train_sources, held_texts, held_sources;
    for (const auto& line : lines_of(out / "pairs.jsonl.gz")) {
      const auto pair = nlohmann::json::parse(line);
      ASSERT_TRUE(pair.is_array() && pair.size() == 2) << line;
      for (const auto& whole : pair) {
        const std::string text = whole.get<std::string>();
        // A positive is a whole description: its first paragraph is what the generator knows the sources of.
        const std::string first = text.substr(0, text.find('\n'));
        train_texts.insert(first);
        const auto sources = sources_of(first);
        ASSERT_FALSE(sources.empty()) << "a text the generator did not write: " << text;
        train_sources.insert(sources.begin(), sources.end());
      }
    }
    const auto held_text = [&](const std::string& text) {
      held_texts.insert(text);
      for (const auto& s : sources_of(text)) held_sources.insert(s);
    };
    std::map<std::string, std::string> corpus;
    for (const auto& line : lines_of(out / "retrieval" / "corpus.jsonl")) {
      const auto doc = nlohmann::json::parse(line);
      const std::string text = doc.at("text");
      corpus[doc.at("_id")] = text;
      EXPECT_EQ(doc.at("title"), "");
      held_text(text.substr(0, text.find('\n')));  // the first paragraph
    }
    std::map<std::string, std::string> queries;
    for (const auto& line : lines_of(out / "retrieval" / "queries.jsonl")) {
      const auto query = nlohmann::json::parse(line);
      queries[query.at("_id")] = query.at("text");
      held_text(query.at("text"));
    }
    ASSERT_EQ(stats.clustering_from_training, 0u);
    for (const auto& line : lines_of(out / "clustering.jsonl")) {
      const std::string text = nlohmann::json::parse(line).at("text");
      held_text(text.substr(0, text.find('\n')));
    }
    for (const auto& text : held_texts) EXPECT_EQ(train_texts.count(text), 0u) << "on both sides: " << text;
    for (const auto& source : held_sources)
      EXPECT_EQ(train_sources.count(source), 0u) << "source on both sides: " << source;
    EXPECT_EQ(held_sources.count("src3"), 0u);  // the 15-description family is too large to hold out

    // Every query has exactly one judged document, in the corpus, and no two queries share a group.
    const auto qrels = lines_of(out / "retrieval" / "qrels" / "test.tsv");
    ASSERT_EQ(qrels.size(), queries.size() + 1);
    EXPECT_EQ(qrels[0], "query-id\tcorpus-id\tscore");
    std::set<std::string> judged_queries;
    for (std::size_t i = 1; i < qrels.size(); ++i) {
      const auto tab = qrels[i].find('\t');
      const std::string q = qrels[i].substr(0, tab);
      const std::string d = qrels[i].substr(tab + 1, qrels[i].rfind('\t') - tab - 1);
      EXPECT_TRUE(judged_queries.insert(q).second);
      EXPECT_EQ(queries.count(q), 1u);
      EXPECT_EQ(corpus.count(d), 1u) << d;
      EXPECT_EQ(qrels[i].substr(qrels[i].rfind('\t') + 1), "1");
    }
    std::set<std::string> query_sources;
    for (const auto& [id, text] : queries)
      for (const auto& s : sources_of(text)) EXPECT_TRUE(query_sources.insert(s).second) << s;
  }
}

TEST_F(DebianBuild, PairsAreDeduplicatedAndVocabularySeesOnlyTrainingText) {
  const fs::path out = dir_ / "out";
  const BuildStats stats = build_debian_data(small_options(lists_, out, 5));
  const auto pairs = lines_of(out / "pairs.jsonl.gz");
  EXPECT_EQ(pairs.size(), stats.pairs);
  EXPECT_EQ(std::set<std::string>(pairs.begin(), pairs.end()).size(), pairs.size());
  // Duplicate md5s collapse into one description; equal (synopsis, paragraph) pairs are dropped.
  EXPECT_EQ(stats.pairs + stats.pairs_uninformative + stats.pairs_duplicate + stats.pairs_capped,
            stats.train_descriptions);
  // Both texts of every pair, one a line (a whole-description positive spans one line per paragraph).
  std::size_t pair_lines = 0;
  for (const auto& line : pairs)
    for (const auto& text : nlohmann::json::parse(line)) {
      const std::string t = text.get<std::string>();
      pair_lines += 1 + static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
    }
  const auto texts = lines_of(out / "tokenizer" / "texts.txt");
  EXPECT_EQ(texts.size(), pair_lines);
  EXPECT_GT(pair_lines, 2 * pairs.size());

  // The cap keeps a prefix of the seeded order.
  BuildOptions capped = small_options(lists_, dir_ / "capped", 5);
  capped.max_pairs = 10;
  const BuildStats capped_stats = build_debian_data(capped);
  EXPECT_EQ(capped_stats.pairs, 10u);
  EXPECT_EQ(capped_stats.pairs_capped, stats.pairs - 10);
  const auto few = lines_of(dir_ / "capped" / "pairs.jsonl.gz");
  EXPECT_EQ(few, std::vector<std::string>(pairs.begin(), pairs.begin() + 10));
}

TEST_F(DebianBuild, ClusteringIsBalancedOverSubjectSections) {
  const fs::path out = dir_ / "out";
  const BuildStats stats = build_debian_data(small_options(lists_, out, 9));
  std::map<std::string, int> per_label;
  for (const auto& line : lines_of(out / "clustering.jsonl")) ++per_label[nlohmann::json::parse(line).at("label")];
  EXPECT_EQ(per_label.size(), 4u);
  for (const auto& [label, count] : per_label) {
    EXPECT_EQ(count, 5) << label;
    EXPECT_NE(label, "libs");  // the largest section, but a role, not a subject
    EXPECT_NE(label, "doc");
  }
  EXPECT_EQ(stats.clustering_sections.size(), 4u);
}

// Section classification: the clustering's sections, texts the clustering did not take, train and test
// apart, none of them a training pair's text.
TEST_F(DebianBuild, ClassificationTakesHeldOutTextsApartFromClusteringAndTraining) {
  const fs::path out = dir_ / "out";
  BuildOptions options = small_options(lists_, out, 9);
  options.classification_train_per_section = 1;
  options.classification_test_per_section = 1;
  const BuildStats stats = build_debian_data(options);
  std::set<std::string> sections(stats.clustering_sections.begin(), stats.clustering_sections.end());
  std::set<std::string> clustering_texts, pair_texts;
  for (const auto& line : lines_of(out / "clustering.jsonl")) clustering_texts.insert(nlohmann::json::parse(line).at("text"));
  for (const auto& line : lines_of(out / "pairs.jsonl.gz")) {
    const auto pair = nlohmann::json::parse(line);
    for (const auto& [key, value] : pair.items()) if (value.is_string()) pair_texts.insert(value.get<std::string>());
  }
  std::map<std::string, std::set<std::string>> texts;  // side -> texts
  for (const std::string side : {"train", "test"}) {
    for (const auto& line : lines_of(out / "classification" / (side + ".jsonl"))) {
      const auto row = nlohmann::json::parse(line);
      const std::string text = row.at("text");
      EXPECT_TRUE(sections.count(row.at("label"))) << row.dump();
      EXPECT_FALSE(clustering_texts.count(text)) << "also in clustering: " << text;
      EXPECT_FALSE(pair_texts.count(text)) << "a training text: " << text;
      texts[side].insert(text);
    }
  }
  EXPECT_EQ(texts["train"].size(), stats.classification_train);
  EXPECT_EQ(texts["test"].size(), stats.classification_test);
  EXPECT_GT(stats.classification_train + stats.classification_test, 0u);
  for (const auto& t : texts["train"]) EXPECT_FALSE(texts["test"].count(t)) << "on both sides: " << t;
  const auto manifest = nlohmann::json::parse(read_file(out / "manifest.json"));
  EXPECT_TRUE(manifest.at("files").contains("classification/train.jsonl"));
  EXPECT_EQ(manifest.at("counts").at("classification_test"), stats.classification_test);
}

TEST(DebianCorpus, TrainingSideLongDescriptionsOnePerLine) {
  // The hand-written lists: the corpus is exactly the training side's long descriptions, paragraphs joined
  // by a space, each text once.
  TempDir dir;
  BuildOptions options;
  options.lists_dir = kFixtures;
  options.out_dir = dir / "out";
  options.seed = 3;
  options.held_out_target = 2;
  const BuildStats stats = build_debian_data(options);
  ReadStats read;
  const auto all = read_fixture(read);
  const Split split = split_descriptions(all, options.seed, options.held_out_target, options.max_held_out_group);
  std::set<std::string> train, held;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string text;
    for (const auto& paragraph : all[i].paragraphs) text += (text.empty() ? "" : " ") + paragraph;
    (split.held_out[i] ? held : train).insert(text);
  }
  ASSERT_FALSE(held.empty());
  ASSERT_FALSE(train.empty());
  const auto corpus = lines_of(dir / "out" / "corpus.txt.gz");
  EXPECT_EQ(std::set<std::string>(corpus.begin(), corpus.end()), train);
  EXPECT_EQ(corpus.size(), train.size()) << "each text once";
  EXPECT_EQ(stats.corpus_texts, corpus.size());
  for (const auto& line : corpus) EXPECT_EQ(held.count(line), 0u) << "held-out text in the corpus: " << line;
}

TEST(DebianPairs, WholeDescriptionPositivesAreTheTrainingSidesLongDescriptions) {
  // --positives description (the default): each pair's positive is its package's whole long description,
  // paragraphs on their own lines as in the retrieval documents; first-paragraph keeps the first paragraph.
  // Either way only the training side's descriptions are used.
  TempDir dir;
  BuildOptions options;
  options.lists_dir = kFixtures;
  options.seed = 3;
  options.held_out_target = 2;
  options.out_dir = dir / "whole";
  const BuildStats stats = build_debian_data(options);  // the default
  BuildOptions first_paragraph = options;
  first_paragraph.out_dir = dir / "first";
  first_paragraph.whole_description_positives = false;
  build_debian_data(first_paragraph);
  ReadStats read;
  const auto all = read_fixture(read);
  const Split split = split_descriptions(all, options.seed, options.held_out_target, options.max_held_out_group);
  std::set<std::string> whole, first, held;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string text;
    for (const auto& paragraph : all[i].paragraphs) text += (text.empty() ? "" : "\n") + paragraph;
    if (split.held_out[i]) {
      held.insert(text);
      continue;
    }
    whole.insert(text);
    first.insert(all[i].paragraphs.front());
  }
  const auto positives = [](const fs::path& file) {
    std::set<std::string> out;
    for (const auto& line : lines_of(file)) out.insert(nlohmann::json::parse(line).at(1).get<std::string>());
    return out;
  };
  const auto whole_positives = positives(dir / "whole" / "pairs.jsonl.gz");
  ASSERT_EQ(whole_positives.size(), stats.pairs);
  bool multi_paragraph = false;
  for (const auto& p : whole_positives) {
    EXPECT_EQ(whole.count(p), 1u) << p;
    EXPECT_EQ(held.count(p), 0u) << "held-out text in the pairs: " << p;
    multi_paragraph = multi_paragraph || p.find('\n') != std::string::npos;
  }
  EXPECT_TRUE(multi_paragraph) << "the fixture should have a description of several paragraphs";
  for (const auto& p : positives(dir / "first" / "pairs.jsonl.gz")) EXPECT_EQ(first.count(p), 1u) << p;
  const auto manifest = nlohmann::json::parse(read_file(dir / "whole" / "manifest.json"));
  EXPECT_EQ(manifest.at("options").at("positives"), "description");
}

TEST_F(DebianBuild, CorpusLeavesTheHeldOutSideOutAndIsDeterministic) {
  const BuildStats stats = build_debian_data(small_options(lists_, dir_ / "a", 4));
  build_debian_data(small_options(lists_, dir_ / "b", 4));
  EXPECT_EQ(read_file(dir_ / "a" / "corpus.txt.gz"), read_file(dir_ / "b" / "corpus.txt.gz"));
  const auto corpus = lines_of(dir_ / "a" / "corpus.txt.gz");
  EXPECT_EQ(corpus.size(), stats.corpus_texts);
  EXPECT_EQ(stats.corpus_texts + stats.corpus_duplicates, stats.train_descriptions);
  // The generated long descriptions are "<first paragraph>", ".", "More about <package>.": a corpus line is
  // both joined by a space. No first paragraph of the held-out side (retrieval documents, clustering
  // texts) starts a corpus line; every training pair's positive does.
  const auto starts_a_line = [&](const std::string& paragraph) {
    for (const auto& line : corpus)
      if (line.rfind(paragraph + " More about ", 0) == 0) return true;
    return false;
  };
  for (const auto& line : lines_of(dir_ / "a" / "retrieval" / "corpus.jsonl")) {
    const std::string text = nlohmann::json::parse(line).at("text");
    EXPECT_FALSE(starts_a_line(text.substr(0, text.find('\n')))) << text;
  }
  for (const auto& line : lines_of(dir_ / "a" / "pairs.jsonl.gz")) {
    const std::string positive = nlohmann::json::parse(line).at(1);
    EXPECT_TRUE(starts_a_line(positive.substr(0, positive.find('\n')))) << line;
  }
  const auto manifest = nlohmann::json::parse(read_file(dir_ / "a" / "manifest.json"));
  EXPECT_EQ(manifest.at("counts").at("corpus_texts"), stats.corpus_texts);
  EXPECT_TRUE(manifest.at("files").contains("corpus.txt.gz"));
}

TEST_F(DebianBuild, SameSeedSameBytes) {
  build_debian_data(small_options(lists_, dir_ / "a", 11));
  build_debian_data(small_options(lists_, dir_ / "b", 11));
  build_debian_data(small_options(lists_, dir_ / "c", 12));
  EXPECT_EQ(hash_dir(dir_ / "a"), hash_dir(dir_ / "b"));
  EXPECT_NE(hash_file(dir_ / "a" / "retrieval" / "queries.jsonl"), hash_file(dir_ / "c" / "retrieval" / "queries.jsonl"));

  const auto manifest = nlohmann::json::parse(read_file(dir_ / "a" / "manifest.json"));
  EXPECT_EQ(manifest.at("builder_version"), kBuilderVersion);
  EXPECT_EQ(manifest.at("seed"), 11);
  ASSERT_EQ(manifest.at("sources").size(), 2u);
  EXPECT_EQ(manifest.at("sources")[0].at("name"), "gen_main_binary-amd64_Packages");
  EXPECT_EQ(manifest.at("sources")[0].at("content_hash"), hash_bytes(generated_.packages));
  EXPECT_EQ(manifest.at("files").at("pairs.jsonl.gz").at("hash"), hash_file(dir_ / "a" / "pairs.jsonl.gz"));
  EXPECT_TRUE(manifest.at("files").contains("tokenizer/texts.txt"));
  EXPECT_EQ(manifest.at("counts").at("queries"), 20);
}

TEST_F(DebianBuild, CheckSaysWhetherTheSnapshotIsStale) {
  const fs::path out = dir_ / "snapshot";
  build_debian_data(small_options(lists_, out, 1));
  EXPECT_EQ(check_snapshot(out, lists_).state, SnapshotCheck::State::kFresh);

  // The same list in another compression is the same list.
  fs::remove(lists_ / "gen_main_i18n_Translation-en.gz");
  write_file_atomic(lists_ / "gen_main_i18n_Translation-en.lz4", lz4(generated_.translation));
  EXPECT_EQ(check_snapshot(out, lists_).state, SnapshotCheck::State::kFresh);

  write_file_atomic(lists_ / "gen_main_binary-amd64_Packages.lz4", lz4(generated_.packages + "Package: new\n"));
  write_file_atomic(lists_ / "more_main_binary-i386_Packages", "Package: other\n");
  auto check = check_snapshot(out, lists_);
  EXPECT_EQ(check.state, SnapshotCheck::State::kStale);
  // The date `data debian --info` shows: the newest list the snapshot was built from, not today's lists.
  const auto manifest = nlohmann::json::parse(read_file(out / "manifest.json"));
  std::string newest;
  for (const auto& source : manifest.at("sources")) newest = std::max(newest, source.at("mtime").get<std::string>());
  EXPECT_FALSE(newest.empty());
  EXPECT_EQ(check.lists_date, newest);
  ASSERT_EQ(check.reasons.size(), 2u);
  EXPECT_TRUE(has_substr(check.reasons[0], "list changed: gen_main_binary-amd64_Packages"));
  EXPECT_TRUE(has_substr(check.reasons[1], "new list: more_main_binary-i386_Packages"));

  EXPECT_EQ(check_snapshot(out, dir_ / "empty").state, SnapshotCheck::State::kUnknown);
  EXPECT_THROW(check_snapshot(dir_ / "none", lists_), IoError);
  write_file_atomic(out / "clustering.jsonl", "{\"text\": \"edited\", \"label\": \"x\"}\n");
  EXPECT_THROW(check_snapshot(out, lists_), DataError);
}

}  // namespace
}  // namespace sentbench::debian
