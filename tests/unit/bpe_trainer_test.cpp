// Byte-level BPE trainer: HF-format output that BpeTokenizer loads, the incremental pair counts against
// a recount-from-scratch reference, .gz input, and a timing print on ~20 MB.
#include "sentbench/bpe_trainer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

#include "sentbench/errors.hpp"

namespace fs = std::filesystem;
using sentbench::roberta::BpeTokenizer;
using sentbench::roberta::BpeTrainerOptions;
using sentbench::roberta::train_bpe;
using sentbench::roberta::train_bpe_from_texts;

namespace {

// A scratch folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bpe_trainer_test_" + std::to_string(std::random_device()()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// Zipf-distributed words from a fixed random lexicon, with punctuation, numbers and some non-ASCII, so
// frequent words exist and rare ones stay split.
std::string synthetic_corpus(std::size_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  const char* extras[] = {"café", "naïve", "日本", "Ωmega", "😀"};
  std::vector<std::string> lexicon = {"the", "of", "and", "a", "to", "in", "is", "tokenizer", "model"};
  for (int i = 0; i < 20000; ++i) {
    std::string w;
    const int len = 2 + int(rng() % 9);
    for (int k = 0; k < len; ++k) w += char('a' + rng() % 26);
    lexicon.push_back(w);
  }
  for (const char* e : extras) lexicon.push_back(e);
  std::vector<double> weights(lexicon.size());
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = 1.0 / double(i + 1);
  std::discrete_distribution<std::size_t> zipf(weights.begin(), weights.end());
  std::string out;
  out.reserve(bytes + 200);
  std::size_t line = 0;
  while (out.size() < bytes) {
    const std::string& w = lexicon[zipf(rng)];
    if (line > 0) out += ' ';
    if (rng() % 13 == 0) out += std::to_string(rng() % 2000);
    else out += w;
    if (rng() % 11 == 0) out += rng() % 2 ? "," : ".";
    if (++line >= 12 + rng() % 8) {
      out += '\n';
      line = 0;
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    eol = eol == std::string::npos ? text.size() : eol + 1;
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol;
  }
  return lines;
}

// The textbook trainer: recount every pair from scratch each round. Same id and tie conventions.
std::vector<BpeTokenizer::Merge> naive_merges(const std::vector<std::string>& texts, std::size_t vocab_size,
                                              std::uint64_t min_frequency) {
  std::vector<std::string> vocab = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  std::vector<int> order(256);
  for (int b = 0; b < 256; ++b) order[b] = b;
  const auto& b2u = sentbench::roberta::byte_to_unicode();
  std::sort(order.begin(), order.end(), [&](int x, int y) { return b2u[x] < b2u[y]; });
  std::map<int, int> byte_id;
  for (int b : order) {
    byte_id[b] = int(vocab.size());
    vocab.push_back(sentbench::roberta::byte_symbols()[b]);
  }
  std::map<std::string, std::uint64_t> counts;
  for (const auto& t : texts)
    for (const auto& piece : sentbench::roberta::pre_tokenize(t)) ++counts[piece];
  std::vector<std::pair<std::vector<int>, std::uint64_t>> words;
  for (const auto& [w, c] : counts) {
    std::vector<int> s;
    for (unsigned char b : w) s.push_back(byte_id[b]);
    words.push_back({s, c});
  }
  std::vector<BpeTokenizer::Merge> merges;
  while (vocab.size() < vocab_size) {
    std::map<std::pair<int, int>, std::uint64_t> pairs;
    for (const auto& [s, c] : words)
      for (std::size_t k = 0; k + 1 < s.size(); ++k) pairs[{s[k], s[k + 1]}] += c;
    std::pair<int, int> best{-1, -1};
    std::uint64_t best_count = 0;
    for (const auto& [p, c] : pairs)  // map order: the first maximum is the smallest pair
      if (c > best_count) best = p, best_count = c;
    if (best_count == 0 || best_count < min_frequency) break;
    std::string merged = vocab[best.first] + vocab[best.second];
    merges.emplace_back(vocab[best.first], vocab[best.second]);
    auto it = std::find(vocab.begin(), vocab.end(), merged);
    int id = int(it - vocab.begin());
    if (it == vocab.end()) vocab.push_back(merged);
    for (auto& [s, c] : words) {
      std::vector<int> out;
      for (std::size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second) {
          out.push_back(id);
          i += 2;
        } else {
          out.push_back(s[i++]);
        }
      }
      s = out;
    }
  }
  return merges;
}

void write_gz(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), unsigned(text.size())), int(text.size()));
  gzclose(f);
}

}  // namespace

TEST(BpeTrainer, TrainsAVocabularyTheTokenizerLoads) {
  const std::string corpus = synthetic_corpus(200000, 1);
  TempDir dir;
  std::ofstream(dir.path / "corpus.txt", std::ios::binary) << corpus;
  const auto result = train_bpe({dir.path / "corpus.txt"}, 600);
  EXPECT_EQ(result.input_bytes, corpus.size());
  EXPECT_GT(result.unique_words, 100u);
  EXPECT_EQ(result.tokenizer.vocab_size(), 600u);
  EXPECT_GE(result.merges, 600u - 261u);  // more when two merges spell the same token

  result.save(dir.path / "tok");
  std::ifstream merges_file(dir.path / "tok" / "merges.txt");
  std::string header;
  std::getline(merges_file, header);
  EXPECT_EQ(header, "#version: 0.2");

  BpeTokenizer t = BpeTokenizer::from_folder(dir.path / "tok");
  EXPECT_EQ(t.bos_id(), 0);
  EXPECT_EQ(t.pad_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.unk_id(), 3);
  EXPECT_EQ(t.mask_id(), 4);
  EXPECT_EQ(t.vocab()[5], "!");  // byte symbols follow in code-point order
  EXPECT_EQ(t.vocab()[260], sentbench::roberta::byte_symbols()[0xAD]);
  EXPECT_EQ(t.merges(), result.tokenizer.merges());
  // Frequent words become one token; everything round-trips.
  for (const char* word : {" the", " of", " and", " tokenizer"})
    EXPECT_EQ(t.encode_pieces(word).size(), 1u) << word;
  for (const std::string text : {"the tokenizer of the model", "Zebras  quietly\tjump 1234!\n", "naïve café 日本 😀",
                                 "", "  x  "})
    EXPECT_EQ(t.decode(t.encode(text)), text);
  EXPECT_EQ(t.encode(corpus.substr(0, 5000)), result.tokenizer.encode(corpus.substr(0, 5000)));
}

TEST(BpeTrainer, MatchesRecountFromScratch) {
  const auto lines = lines_of(synthetic_corpus(30000, 2));
  BpeTrainerOptions options;
  options.vocab_size = 500;
  options.min_frequency = 2;
  const auto result = train_bpe_from_texts(lines, options);
  EXPECT_EQ(result.tokenizer.merges(), naive_merges(lines, 500, 2));
}

TEST(BpeTrainer, RepetitiveWordsCountOverlappingPairsOnce) {
  // "aaaa" and "abab" are where in-place pair updates go wrong.
  const std::vector<std::string> texts = {"aaaa aaa aaaaaaa abab ababab aabb", "aaaa abababab bbbb aaaa",
                                          "abababab aaaaaaaaaaaa"};
  BpeTrainerOptions options;
  options.vocab_size = 300;
  options.min_frequency = 1;
  const auto result = train_bpe_from_texts(texts, options);
  EXPECT_EQ(result.tokenizer.merges(), naive_merges(texts, 300, 1));
  for (const auto& text : texts) EXPECT_EQ(result.tokenizer.decode(result.tokenizer.encode(text)), text);
}

TEST(BpeTrainer, GzipInputGivesSameResultAsPlain) {
  const std::string corpus = synthetic_corpus(50000, 3);
  TempDir dir;
  std::ofstream(dir.path / "a.txt", std::ios::binary) << corpus;
  write_gz(dir.path / "a.txt.gz", corpus);
  const auto plain = train_bpe({dir.path / "a.txt"}, 400);
  const auto packed = train_bpe({dir.path / "a.txt.gz"}, 400);
  EXPECT_EQ(packed.input_bytes, corpus.size());
  EXPECT_EQ(packed.tokenizer.merges(), plain.tokenizer.merges());
  EXPECT_EQ(packed.tokenizer.vocab(), plain.tokenizer.vocab());
}

TEST(BpeTrainer, MinFrequencyStopsEarly) {
  BpeTrainerOptions options;
  options.vocab_size = 1000;
  options.min_frequency = 3;
  const auto result = train_bpe_from_texts({"xy xy zw", "xy"}, options);
  ASSERT_EQ(result.tokenizer.merges().size(), 1u);  // only "x y" (3 times) qualifies
  EXPECT_EQ(result.tokenizer.merges()[0], (BpeTokenizer::Merge{"x", "y"}));
  EXPECT_EQ(result.tokenizer.vocab_size(), 262u);
}

TEST(BpeTrainer, InvalidUtf8AndEmptyInput) {
  BpeTrainerOptions options;
  options.vocab_size = 300;
  options.min_frequency = 1;
  const auto result = train_bpe_from_texts({"caf\xC3 ok\xFF\xFE", "", "\xF0\x9F"}, options);
  EXPECT_EQ(result.tokenizer.decode(result.tokenizer.encode("caf\xC3")), "caf\xEF\xBF\xBD");
  const auto none = train_bpe_from_texts({}, options);
  EXPECT_EQ(none.tokenizer.vocab_size(), 261u);
  EXPECT_TRUE(none.tokenizer.merges().empty());
}

TEST(BpeTrainer, ErrorsNameTheProblem) {
  EXPECT_THROW(train_bpe({fs::path("/nonexistent/corpus.txt")}, 1000), sentbench::IoError);
  BpeTrainerOptions options;
  options.vocab_size = 100;
  EXPECT_THROW(train_bpe_from_texts({"text"}, options), sentbench::ConfigError);
}

TEST(BpeTrainer, ReportsProgress) {
  TempDir dir;
  std::ofstream(dir.path / "c.txt", std::ios::binary) << synthetic_corpus(20000, 4);
  std::uint64_t counted = 0, merged = 0;
  train_bpe({dir.path / "c.txt"}, 300, 2, [&](const sentbench::roberta::BpeTrainProgress& p) {
    if (p.stage == sentbench::roberta::BpeTrainProgress::Stage::kCounting) counted = p.done;
    else merged = p.done;
  });
  EXPECT_GT(counted, 0u);
  EXPECT_EQ(merged, 300u - 261u);
}

// Timing only (no assertion on speed): run with --gtest_also_run_disabled_tests.
TEST(BpeTrainer, DISABLED_Timing20MB) {
  TempDir dir;
  std::ofstream(dir.path / "big.txt", std::ios::binary) << synthetic_corpus(20 << 20, 5);
  const auto start = std::chrono::steady_clock::now();
  const auto result = train_bpe({dir.path / "big.txt"}, 32000);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ timing   ] %.1f MB, %llu words (%llu distinct), %zu merges: counting %.2f s, merging %.2f s, "
              "total %.2f s\n",
              result.input_bytes / 1e6, (unsigned long long)result.words, (unsigned long long)result.unique_words,
              result.merges, result.count_seconds, result.merge_seconds, s);
  EXPECT_GT(result.merges, 0u);
}
