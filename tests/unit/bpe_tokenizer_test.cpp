// Byte-level BPE tokenizer: GPT-2 pre-tokenization, UTF-8 handling, and id parity with the golden file.
#include "sentbench/bpe_tokenizer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"

namespace fs = std::filesystem;
using sentbench::roberta::BpeTokenizer;

namespace {

// $SENTBENCH_SHARED_DATA, else <project root>/../shared/data.
fs::path shared_data() {
  if (const char* env = std::getenv("SENTBENCH_SHARED_DATA"); env && *env) return env;
#ifdef SENTBENCH_SOURCE_DIR
  return fs::path(SENTBENCH_SOURCE_DIR) / ".." / "shared" / "data";
#else
  return fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "shared" / "data";
#endif
}

fs::path roberta_dir() { return shared_data() / "roberta-tokenizer"; }

#define SKIP_WITHOUT_ROBERTA()                                                                      \
  if (!fs::is_regular_file(roberta_dir() / "vocab.json") ||                                        \
      !fs::is_regular_file(roberta_dir() / "golden.jsonl"))                                        \
  GTEST_SKIP() << "RoBERTa tokenizer files not found in " << roberta_dir()                         \
               << " (set SENTBENCH_SHARED_DATA to the folder holding roberta-tokenizer/)"

struct GoldenRow {
  std::string text;
  std::vector<std::int32_t> ids;
};

const std::vector<GoldenRow>& golden() {
  static const std::vector<GoldenRow> rows = [] {
    std::vector<GoldenRow> out;
    std::ifstream in(roberta_dir() / "golden.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      out.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<std::int32_t>>()});
    }
    return out;
  }();
  return rows;
}

// Loading the 50k-merge tokenizer takes a moment; share one across tests.
const BpeTokenizer& roberta() {
  static const BpeTokenizer tokenizer = BpeTokenizer::from_files(roberta_dir() / "vocab.json",
                                                                 roberta_dir() / "merges.txt");
  return tokenizer;
}

// A scratch folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("bpe_tokenizer_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            std::to_string(std::random_device()()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A tiny hand-made vocabulary: specials, the 256 byte symbols, and merges building "Ġthe" and "ing".
BpeTokenizer tiny_tokenizer() {
  std::vector<std::string> vocab = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  for (const auto& symbol : sentbench::roberta::byte_symbols()) vocab.push_back(symbol);
  std::vector<BpeTokenizer::Merge> merges = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"in", "g"}};
  for (const auto& [a, b] : merges) vocab.push_back(a + b);
  return BpeTokenizer::from_vocab_and_merges(vocab, merges);
}

}  // namespace

// ---- tables and pre-tokenization -----------------------------------------------------------------

TEST(ByteSymbols, MatchGpt2Table) {
  const auto& table = sentbench::roberta::byte_to_unicode();
  EXPECT_EQ(table['!'], U'!');
  EXPECT_EQ(table[' '], U'\u0120');   // Ġ
  EXPECT_EQ(table['\n'], U'\u010A');  // Ċ
  EXPECT_EQ(table[0xAD], U'\u0143');  // the last remapped byte
  std::vector<char32_t> sorted(table.begin(), table.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_EQ(sentbench::roberta::bytes_to_symbols(" hi\n"), "Ġhi\xC4\x8A");
}

TEST(PreTokenize, Gpt2Pattern) {
  using V = std::vector<std::string>;
  auto pt = [](std::string_view s) { return sentbench::roberta::pre_tokenize(s); };
  EXPECT_EQ(pt(""), V{});
  EXPECT_EQ(pt("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pt("Hello  world"), (V{"Hello", " ", " world"}));
  EXPECT_EQ(pt("It's isn't we've THEY'RE I'll"),
            (V{"It", "'s", " isn", "'t", " we", "'ve", " THEY", "'", "RE", " I", "'ll"}));
  EXPECT_EQ(pt("''s"), (V{"''", "s"}));
  EXPECT_EQ(pt("x\t\ty"), (V{"x", "\t", "\t", "y"}));
  EXPECT_EQ(pt("  leading and trailing  "), (V{" ", " leading", " and", " trailing", "  "}));
  EXPECT_EQ(pt("a \n b"), (V{"a", " \n", " b"}));
  EXPECT_EQ(pt("mixed123abc 456 !?"), (V{"mixed", "123", "abc", " 456", " !?"}));
  EXPECT_EQ(pt("3.14"), (V{"3", ".", "14"}));
  EXPECT_EQ(pt(" "), (V{" "}));
  // Non-ASCII letters, numbers, marks and spaces use real Unicode categories.
  EXPECT_EQ(pt("naïve café"), (V{"naïve", " café"}));
  EXPECT_EQ(pt("e\xCC\x81t"), (V{"e", "\xCC\x81", "t"}));          // U+0301 is a mark, not a letter
  EXPECT_EQ(pt("\xD9\xA3\xE2\x85\xA0x"), (V{"\xD9\xA3\xE2\x85\xA0", "x"}));  // Arabic 3 (Nd), Ⅰ (Nl)
  // NBSP is \s, and only U+0020 joins the next word.
  EXPECT_EQ(pt("a\xC2\xA0\xC2\xA0" "b"), (V{"a", "\xC2\xA0", "\xC2\xA0", "b"}));
  EXPECT_EQ(pt("a\xE3\x80\x80" "b"), (V{"a", "\xE3\x80\x80", "b"}));             // U+3000 is \s
  EXPECT_EQ(pt("a\x1C" "b"), (V{"a", "\x1C", "b"}));  // U+001C: isspace() in Python, not White_Space
  EXPECT_EQ(pt("\xE2\x80\x8Bzero"), (V{"\xE2\x80\x8B", "zero"}));  // U+200B is Cf, not a space
}

TEST(Utf8, MaximalSubpartsBecomeReplacementCharacters) {
  using sentbench::roberta::is_valid_utf8;
  using sentbench::roberta::to_valid_utf8;
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\xA6\x99 \xE6\x97\xA5"));
  EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a" + r + "b");
  EXPECT_EQ(to_valid_utf8("\xE2\x82"), r);                           // truncated 3-byte sequence
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98" "a"), r + "a");            // truncated 4-byte sequence
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);                      // overlong
  EXPECT_EQ(to_valid_utf8("\xE0\x80\x80"), r + r + r);              // overlong 3-byte
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r);              // surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r);      // above U+10FFFF
  EXPECT_EQ(to_valid_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

// ---- the small hand-made vocabulary ------------------------------------------------------------------

TEST(BpeTokenizer, AppliesMergesByRank) {
  BpeTokenizer t = tiny_tokenizer();
  EXPECT_EQ(t.tokenize(" the thing"), (std::vector<std::string>{"Ġthe", "Ġt", "h", "ing"}));
  EXPECT_EQ(t.bos_id(), 0);
  EXPECT_EQ(t.pad_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.unk_id(), 3);
  EXPECT_EQ(t.mask_id(), 4);
  EXPECT_EQ(t.vocab_size(), 5u + 256u + 5u);
  EXPECT_EQ(t.token_to_id("ing"), 265);
  EXPECT_EQ(t.token_to_id("nope"), -1);
  EXPECT_EQ(t.decode(t.encode(" the thing")), " the thing");
  EXPECT_EQ(t.decode(t.encode("x"), false), "<s>x</s>");
}

TEST(BpeTokenizer, TokenizerJsonWithPairOrStringMerges) {
  BpeTokenizer reference = tiny_tokenizer();
  nlohmann::json vocab = nlohmann::json::object();
  for (std::size_t id = 0; id < reference.vocab().size(); ++id) vocab[reference.vocab()[id]] = id;
  nlohmann::json as_pairs = nlohmann::json::array(), as_strings = nlohmann::json::array();
  for (const auto& [a, b] : reference.merges()) {
    as_pairs.push_back({a, b});
    as_strings.push_back(a + " " + b);
  }
  TempDir dir;
  for (const auto& merges : {as_pairs, as_strings}) {
    nlohmann::json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
    write(dir.path / "tokenizer.json", doc.dump());
    BpeTokenizer loaded = BpeTokenizer::from_folder(dir.path);
    EXPECT_EQ(loaded.merges(), reference.merges());
    EXPECT_EQ(loaded.encode(" the thing's 42"), reference.encode(" the thing's 42"));
  }
}

TEST(BpeTokenizer, SaveWritesFilesThatLoadBack) {
  BpeTokenizer t = tiny_tokenizer();
  TempDir dir;
  t.save(dir.path / "out");
  std::ifstream merges(dir.path / "out" / "merges.txt");
  std::string first;
  std::getline(merges, first);
  EXPECT_EQ(first, "#version: 0.2");
  BpeTokenizer loaded = BpeTokenizer::from_folder(dir.path / "out");
  EXPECT_EQ(loaded.vocab(), t.vocab());
  EXPECT_EQ(loaded.merges(), t.merges());
  EXPECT_EQ(loaded.encode("the thing"), t.encode("the thing"));
}

TEST(BpeTokenizer, ErrorsNameTheProblem) {
  TempDir dir;
  EXPECT_THROW(BpeTokenizer::from_folder(dir.path), sentbench::IoError);
  write(dir.path / "vocab.json", R"({"a":0,"b":1})");
  write(dir.path / "merges.txt", "#version: 0.2\na b\n");
  try {
    BpeTokenizer::from_folder(dir.path);
    FAIL() << "a merge whose result is not in the vocabulary must be refused";
  } catch (const sentbench::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'ab'"), std::string::npos) << e.what();
  }
  write(dir.path / "merges.txt", "a b c\n");
  EXPECT_THROW(BpeTokenizer::from_folder(dir.path), sentbench::DataError);
  write(dir.path / "vocab.json", R"({"a":0,)");
  EXPECT_THROW(BpeTokenizer::from_folder(dir.path), sentbench::DataError);
  // tokenizer.json with a field of the wrong type, and with a model that is not BPE.
  TempDir fast;
  write(fast.path / "tokenizer.json",
        R"({"model":{"vocab":{"a":0},"merges":[]},"added_tokens":[{"id":1,"content":7}]})");
  EXPECT_THROW(BpeTokenizer::from_folder(fast.path), sentbench::DataError);
  write(fast.path / "tokenizer.json", R"({"model":{"type":"WordPiece","vocab":{"a":0}}})");
  EXPECT_THROW(BpeTokenizer::from_folder(fast.path), sentbench::DataError);
}

TEST(BpeTokenizer, MissingSpecialsOnlyBlockEncodeWithSpecials) {
  std::vector<std::string> vocab(sentbench::roberta::byte_symbols().begin(),
                                 sentbench::roberta::byte_symbols().end());
  BpeTokenizer t = BpeTokenizer::from_vocab_and_merges(vocab, {});
  EXPECT_EQ(t.bos_id(), -1);
  EXPECT_EQ(t.encode_pieces("ab").size(), 2u);
  EXPECT_THROW(t.encode("ab"), sentbench::DataError);
}

// ---- RoBERTa parity -------------------------------------------------------------------------------

TEST(RobertaTokenizer, MatchesGoldenIds) {
  SKIP_WITHOUT_ROBERTA();
  const auto& rows = golden();
  ASSERT_GT(rows.size(), 0u);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto ids = roberta().encode(rows[i].text);
    if (ids != rows[i].ids && ++mismatches <= 5)
      ADD_FAILURE() << "row " << i << " differs: " << nlohmann::json(rows[i].text).dump();
  }
  EXPECT_EQ(mismatches, 0u) << "of " << rows.size() << " golden rows";
  std::printf("[ golden   ] %zu / %zu rows identical\n", rows.size() - mismatches, rows.size());
}

TEST(RobertaTokenizer, SpecialIdsAndSize) {
  SKIP_WITHOUT_ROBERTA();
  EXPECT_EQ(roberta().bos_id(), 0);
  EXPECT_EQ(roberta().pad_id(), 1);
  EXPECT_EQ(roberta().eos_id(), 2);
  EXPECT_EQ(roberta().unk_id(), 3);
  EXPECT_EQ(roberta().mask_id(), 50264);
  EXPECT_EQ(roberta().vocab_size(), 50265u);
  EXPECT_EQ(roberta().merges().size(), 50000u);
}

TEST(RobertaTokenizer, TokenizerJsonGivesSameIds) {
  SKIP_WITHOUT_ROBERTA();
  if (!fs::is_regular_file(roberta_dir() / "tokenizer.json")) GTEST_SKIP() << "no tokenizer.json";
  BpeTokenizer fast = BpeTokenizer::from_tokenizer_json(roberta_dir() / "tokenizer.json");
  EXPECT_EQ(fast.vocab(), roberta().vocab());
  EXPECT_EQ(fast.merges(), roberta().merges());
  EXPECT_EQ(fast.mask_id(), roberta().mask_id());
  for (const auto& row : golden()) ASSERT_EQ(fast.encode(row.text), row.ids) << row.text;
}

TEST(RobertaTokenizer, DecodeRoundTrips) {
  SKIP_WITHOUT_ROBERTA();
  for (const auto& row : golden()) ASSERT_EQ(roberta().decode(row.ids), row.text);
}

TEST(RobertaTokenizer, EmptyText) {
  SKIP_WITHOUT_ROBERTA();
  EXPECT_EQ(roberta().encode(""), (std::vector<std::int32_t>{0, 2}));
  EXPECT_TRUE(roberta().encode_pieces("").empty());
  EXPECT_EQ(roberta().decode({}), "");
}

TEST(RobertaTokenizer, Truncation) {
  SKIP_WITHOUT_ROBERTA();
  const std::string text = "A man is playing a large flute while the audience claps loudly.";
  const auto full = roberta().encode(text);
  const auto pieces = roberta().encode_pieces(text);
  ASSERT_EQ(full.size(), pieces.size() + 2);
  const auto cut = roberta().encode(text, 6);
  ASSERT_EQ(cut.size(), 6u);
  EXPECT_EQ(cut.front(), 0);
  EXPECT_EQ(cut.back(), 2);
  EXPECT_TRUE(std::equal(cut.begin() + 1, cut.end() - 1, pieces.begin()));
  EXPECT_EQ(roberta().encode(text, int(full.size())), full);
  EXPECT_EQ(roberta().encode(text, 1000), full);
  EXPECT_EQ(roberta().encode(text, 2), (std::vector<std::int32_t>{0, 2}));
  EXPECT_EQ(roberta().encode(text, 0), full);
  EXPECT_THROW(roberta().encode(text, 1), std::invalid_argument);
  // A piece that spans the cut is split, as HF's truncation does.
  const auto long_word = roberta().encode("Pneumonoultramicroscopicsilicovolcanoconiosis", 4);
  EXPECT_EQ(long_word.size(), 4u);
}

TEST(RobertaTokenizer, InvalidUtf8BecomesReplacementCharacter) {
  SKIP_WITHOUT_ROBERTA();
  EXPECT_EQ(roberta().encode("caf\xC3 ok\xFF"), roberta().encode("caf\xEF\xBF\xBD ok\xEF\xBF\xBD"));
  EXPECT_EQ(roberta().decode(roberta().encode("\xE2\x82")), "\xEF\xBF\xBD");
  // Random bytes: never crash, and every id decodes to well-formed UTF-8.
  std::mt19937 rng(7);
  for (int n = 0; n < 2000; ++n) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = char(rng() % 256);
    auto ids = roberta().encode(s);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_TRUE(sentbench::roberta::is_valid_utf8(roberta().decode(ids)));
    EXPECT_EQ(roberta().decode(ids), sentbench::roberta::to_valid_utf8(s));
  }
}

TEST(RobertaTokenizer, ConcurrentEncodingMatchesSerial) {
  SKIP_WITHOUT_ROBERTA();
  // A fresh copy so the threads fill an empty word cache together.
  BpeTokenizer shared = roberta();
  const auto& rows = golden();
  std::vector<std::vector<std::vector<std::int32_t>>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = results[t];
      mine.resize(rows.size());
      // Each thread walks the rows from a different start so cache fills interleave.
      for (std::size_t k = 0; k < rows.size(); ++k) {
        std::size_t i = (k + t * rows.size() / 4) % rows.size();
        mine[i] = shared.encode(rows[i].text);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t)
    for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(results[t][i], rows[i].ids) << "thread " << t;
}

TEST(RobertaTokenizer, LongWordsUseHeapPathWithSameResult) {
  SKIP_WITHOUT_ROBERTA();
  // Words over the small-word limit take the heap path; the same letters split by spaces into short
  // words must give the same ids word by word.
  std::mt19937 rng(11);
  std::string word;
  for (int i = 0; i < 4000; ++i) word += char('a' + rng() % 26);
  auto ids = roberta().encode_pieces(word);
  EXPECT_EQ(roberta().decode(ids), word);
  std::string repeated(5000, 'a');
  EXPECT_EQ(roberta().decode(roberta().encode_pieces(repeated)), repeated);
}

// Prints throughput; no assertion, the machine may be shared. CPU time is the steadier figure.
TEST(RobertaTokenizer, SpeedReport) {
  SKIP_WITHOUT_ROBERTA();
  const auto& rows = golden();
  std::size_t bytes = 0, tokens = 0;
  for (const auto& row : rows) {
    bytes += row.text.size();
    tokens += roberta().encode(row.text).size();  // also warms the per-thread buffers
  }
  auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
  };
  const int reps = 10;
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_now();
  std::size_t check = 0;
  for (int r = 0; r < reps; ++r)
    for (const auto& row : rows) check += roberta().encode(row.text).size();
  const double cpu = (cpu_now() - cpu_start) / reps;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count() / reps;
  EXPECT_EQ(check, tokens * reps);
  std::printf("[ speed    ] one thread, %zu texts, %zu tokens (%.2f MB): %.1f ms CPU = %.0f texts/s, "
              "%.2f M tokens/s, %.1f MB/s (wall %.1f ms)\n",
              rows.size(), tokens, bytes / 1e6, cpu * 1e3, rows.size() / cpu, tokens / cpu / 1e6,
              bytes / cpu / 1e6, wall * 1e3);
}
