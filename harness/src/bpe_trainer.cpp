#include "sentbench/bpe_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <queue>
#include <unordered_map>
#include <utility>

#include <zlib.h>

#include "sentbench/errors.hpp"

namespace sentbench::roberta {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- word counting -------------------------------------------------------------------------------

// Distinct pre-tokens -> occurrences. Open addressing over one byte arena: lookups allocate nothing,
// which is most of the counting time on tens of MB.
class WordCounter {
 public:
  struct Slot {
    std::size_t hash = 0;
    std::size_t offset = 0;
    std::uint32_t length = 0;
    std::uint64_t count = 0;  // 0 marks an empty slot
  };

  WordCounter() { slots_.resize(1 << 16); }

  void add(std::string_view word, std::uint64_t n = 1) {
    const std::size_t h = std::hash<std::string_view>()(word);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.count == 0) {
        slot = Slot{h, pool_.size(), std::uint32_t(word.size()), n};
        pool_.append(word);
        if (++size_ * 2 > slots_.size()) grow();
        return;
      }
      if (slot.hash == h && slot.length == word.size() &&
          std::string_view(pool_.data() + slot.offset, slot.length) == word) {
        slot.count += n;
        return;
      }
    }
  }

  std::size_t size() const { return size_; }
  const std::vector<Slot>& slots() const { return slots_; }
  std::string_view word(const Slot& slot) const { return {pool_.data() + slot.offset, slot.length}; }

 private:
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.count == 0) continue;
      std::size_t i = slot.hash & mask;
      while (slots_[i].count != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::string pool_;
  std::size_t size_ = 0;
};

// Counts the pre-tokens of one line (newline included, as HF's trainer reads files).
void count_line(std::string_view line, WordCounter& counter, std::vector<ByteSpan>& spans,
                std::string& repaired, BpeTrainerResult& stats) {
  if (!is_valid_utf8(line)) {
    repaired = to_valid_utf8(line);
    line = repaired;
  }
  pre_tokenize(line, spans);
  for (const ByteSpan& span : spans) counter.add(line.substr(span.begin, span.end - span.begin));
  stats.words += spans.size();
  ++stats.lines;
}

void count_file(const std::filesystem::path& path, WordCounter& counter, BpeTrainerResult& stats,
                const BpeProgressFn& progress, std::uint64_t& done, std::uint64_t total) {
  // gzread passes plain files through unchanged, so one reader serves .txt and .gz alike.
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr)
    throw IoError("cannot open training file '" + path.string() + "': check that it exists and is readable");
  gzbuffer(file, 1 << 20);
  std::vector<ByteSpan> spans;
  std::string repaired;
  std::string carry;  // a line cut by the chunk boundary
  std::vector<char> chunk(4 << 20);
  const std::uint64_t start = done;
  for (;;) {
    const int got = gzread(file, chunk.data(), unsigned(chunk.size()));
    if (got < 0) {
      int code = 0;
      std::string message = gzerror(file, &code);
      gzclose(file);
      throw IoError("error while reading '" + path.string() + "': " + message +
                    " (a truncated or corrupt .gz file?)");
    }
    if (got == 0) break;
    stats.input_bytes += std::uint64_t(got);
    std::string_view data(chunk.data(), std::size_t(got));
    std::size_t pos = 0;
    if (!carry.empty()) {
      const std::size_t eol = data.find('\n');
      if (eol == std::string_view::npos) {
        carry.append(data);
        continue;
      }
      carry.append(data.substr(0, eol + 1));
      count_line(carry, counter, spans, repaired, stats);
      carry.clear();
      pos = eol + 1;
    }
    for (;;) {
      const std::size_t eol = data.find('\n', pos);
      if (eol == std::string_view::npos) break;
      count_line(data.substr(pos, eol + 1 - pos), counter, spans, repaired, stats);
      pos = eol + 1;
    }
    carry.assign(data.substr(pos));
    if (progress) {
      done = start + std::uint64_t(gzoffset(file));
      progress(BpeTrainProgress{BpeTrainProgress::Stage::kCounting, done, total});
    }
  }
  if (!carry.empty()) count_line(carry, counter, spans, repaired, stats);
  gzclose(file);
}

// ---- merging ---------------------------------------------------------------------------------------

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return std::uint64_t(std::uint32_t(a)) << 32 | std::uint32_t(b);
}

// Everything known about one adjacent symbol pair.
struct PairInfo {
  std::int32_t left;
  std::int32_t right;
  std::int64_t count = 0;
  std::vector<std::uint32_t> words;  // words that may contain it; duplicates and stale entries allowed
};

// Heap entry; a count that no longer matches PairInfo::count is refreshed when it surfaces.
struct Candidate {
  std::int64_t count;
  std::int32_t left;
  std::int32_t right;
  std::uint32_t pair;
  // Max-heap on count; ties go to the smaller (left, right), as in HF's trainer.
  bool operator<(const Candidate& o) const {
    if (count != o.count) return count < o.count;
    if (left != o.left) return left > o.left;
    return right > o.right;
  }
};

class MergeState {
 public:
  MergeState(const WordCounter& counter, const std::array<std::int32_t, 256>& byte_ids) {
    const std::size_t n = counter.size();
    starts_.reserve(n + 1);
    counts_.reserve(n);
    for (const auto& slot : counter.slots()) {
      if (slot.count == 0) continue;
      starts_.push_back(symbols_.size());
      counts_.push_back(std::int64_t(slot.count));
      for (unsigned char b : counter.word(slot)) symbols_.push_back(byte_ids[b]);
    }
    lengths_.resize(counts_.size());
    for (std::size_t w = 0; w < counts_.size(); ++w)
      lengths_[w] = std::uint32_t((w + 1 < counts_.size() ? starts_[w + 1] : symbols_.size()) - starts_[w]);
    index_.reserve(1 << 16);
    for (std::uint32_t w = 0; w < counts_.size(); ++w) {
      const std::int32_t* s = symbols_.data() + starts_[w];
      for (std::uint32_t k = 0; k + 1 < lengths_[w]; ++k) {
        PairInfo& info = pair(s[k], s[k + 1]);
        info.count += counts_[w];
        info.words.push_back(w);
      }
    }
    for (std::uint32_t p = 0; p < pairs_.size(); ++p)
      heap_.push(Candidate{pairs_[p].count, pairs_[p].left, pairs_[p].right, p});
  }

  // The next pair to merge, or false when none is left at min_frequency or above.
  bool next(std::uint64_t min_frequency, Candidate& best) {
    while (!heap_.empty()) {
      Candidate top = heap_.top();
      heap_.pop();
      const std::int64_t current = pairs_[top.pair].count;
      if (top.count != current) {
        if (current > 0) heap_.push(Candidate{current, top.left, top.right, top.pair});
        continue;
      }
      if (current < 1 || std::uint64_t(current) < min_frequency) return false;
      best = top;
      return true;
    }
    return false;
  }

  // Replaces every occurrence of the pair by merged, updating counts only where the words change.
  void merge(const Candidate& c, std::int32_t merged) {
    std::vector<std::uint32_t> words;
    words.swap(pairs_[c.pair].words);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    touched_.clear();
    const std::int32_t a = c.left, b = c.right;
    for (std::uint32_t w : words) {
      std::int32_t* s = symbols_.data() + starts_[w];
      const std::uint32_t n = lengths_[w];
      const std::int64_t count = counts_[w];
      std::uint32_t out = 0;
      // In place: out never passes i, and each step reads s[i..i+2] before writing s[out]; the left
      // neighbour is read from the rewritten prefix, so runs like "a b a b" are counted once.
      for (std::uint32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
          if (out > 0) {
            add(s[out - 1], a, -count, w);
            add(s[out - 1], merged, count, w);
          }
          add(a, b, -count, w);
          if (i + 2 < n) {
            add(b, s[i + 2], -count, w);
            add(merged, s[i + 2], count, w);
          }
          s[out++] = merged;
          i += 2;
        } else {
          s[out++] = s[i++];
        }
      }
      lengths_[w] = out;
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (std::uint32_t p : touched_)
      if (pairs_[p].count > 0) heap_.push(Candidate{pairs_[p].count, pairs_[p].left, pairs_[p].right, p});
  }

 private:
  PairInfo& pair(std::int32_t a, std::int32_t b) {
    auto [it, inserted] = index_.try_emplace(pair_key(a, b), std::uint32_t(pairs_.size()));
    if (inserted) pairs_.push_back(PairInfo{a, b, 0, {}});
    return pairs_[it->second];
  }

  void add(std::int32_t a, std::int32_t b, std::int64_t delta, std::uint32_t word) {
    auto [it, inserted] = index_.try_emplace(pair_key(a, b), std::uint32_t(pairs_.size()));
    if (inserted) pairs_.push_back(PairInfo{a, b, 0, {}});
    PairInfo& info = pairs_[it->second];
    info.count += delta;
    if (delta > 0) {
      // Only pairs that gained need a fresh heap entry; stale higher counts are fixed when popped.
      info.words.push_back(word);
      touched_.push_back(it->second);
    }
  }

  std::vector<std::int32_t> symbols_;   // every word's symbols, back to back
  std::vector<std::size_t> starts_;     // word -> first symbol
  std::vector<std::uint32_t> lengths_;  // word -> current symbol count (shrinks as merges apply)
  std::vector<std::int64_t> counts_;    // word -> occurrences
  std::vector<PairInfo> pairs_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::priority_queue<Candidate> heap_;
  std::vector<std::uint32_t> touched_;
};

BpeTrainerResult train_counted(const WordCounter& counter, BpeTrainerResult stats,
                               const BpeTrainerOptions& options) {
  const auto start = Clock::now();
  // Ids as HF assigns them: specials, then byte symbols sorted by code point, then merges.
  std::vector<std::string> vocab;
  std::unordered_map<std::string, std::int32_t> ids;
  auto intern = [&](const std::string& token) {
    auto [it, inserted] = ids.try_emplace(token, std::int32_t(vocab.size()));
    if (inserted) vocab.push_back(token);
    return it->second;
  };
  for (const std::string& special : options.special_tokens) {
    if (special.empty()) throw ConfigError("tokenizer training: a special token is the empty string");
    if (ids.count(special)) throw ConfigError("tokenizer training: special token '" + special + "' is listed twice");
    intern(special);
  }
  std::array<int, 256> order;
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [](int x, int y) { return byte_to_unicode()[x] < byte_to_unicode()[y]; });
  std::array<std::int32_t, 256> byte_ids{};
  for (int b : order) byte_ids[b] = intern(byte_symbols()[b]);

  const std::size_t base = vocab.size();
  if (options.vocab_size < base)
    throw ConfigError("tokenizer training: vocab_size " + std::to_string(options.vocab_size) + " is below the " +
                      std::to_string(base) + " ids every byte-level vocabulary needs (" +
                      std::to_string(options.special_tokens.size()) + " special tokens + 256 byte symbols)");

  MergeState state(counter, byte_ids);
  std::vector<BpeTokenizer::Merge> merges;
  const std::uint64_t wanted = options.vocab_size - base;
  Candidate best{};
  while (vocab.size() < options.vocab_size && state.next(options.min_frequency, best)) {
    const std::string& left = vocab[best.left];
    const std::string& right = vocab[best.right];
    merges.emplace_back(left, right);
    // Two merges can spell the same string; HF then reuses the id, and so do we.
    const std::int32_t merged = intern(left + right);
    state.merge(best, merged);
    if (options.progress && merges.size() % 1000 == 0)
      options.progress(BpeTrainProgress{BpeTrainProgress::Stage::kMerging, merges.size(), wanted});
  }
  if (options.progress)
    options.progress(BpeTrainProgress{BpeTrainProgress::Stage::kMerging, merges.size(), wanted});

  stats.unique_words = counter.size();
  stats.merges = merges.size();
  BpeTrainerResult result{BpeTokenizer::from_vocab_and_merges(std::move(vocab), std::move(merges)),
                          stats.input_bytes, stats.lines, stats.words, stats.unique_words, stats.merges,
                          stats.count_seconds, 0};
  result.merge_seconds = seconds_since(start);
  if (!options.output_dir.empty()) result.save(options.output_dir);
  return result;
}

// Stats without a tokenizer yet (BpeTrainerResult needs one to exist).
BpeTrainerResult empty_stats() {
  return BpeTrainerResult{BpeTokenizer::from_vocab_and_merges({}, {})};
}

}  // namespace

BpeTrainerResult train_bpe(const std::vector<std::filesystem::path>& files, const BpeTrainerOptions& options) {
  const auto start = Clock::now();
  std::uint64_t total = 0;
  for (const auto& path : files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw IoError("cannot read training file '" + path.string() + "': " + ec.message());
    total += size;
  }
  WordCounter counter;
  BpeTrainerResult stats = empty_stats();
  std::uint64_t done = 0;
  for (const auto& path : files) count_file(path, counter, stats, options.progress, done, total);
  stats.count_seconds = seconds_since(start);
  return train_counted(counter, std::move(stats), options);
}

BpeTrainerResult train_bpe(const std::vector<std::filesystem::path>& files, std::size_t vocab_size,
                           std::uint64_t min_frequency, BpeProgressFn progress) {
  BpeTrainerOptions options;
  options.vocab_size = vocab_size;
  options.min_frequency = min_frequency;
  options.progress = std::move(progress);
  return train_bpe(files, options);
}

BpeTrainerResult train_bpe_from_texts(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  const auto start = Clock::now();
  WordCounter counter;
  BpeTrainerResult stats = empty_stats();
  std::vector<ByteSpan> spans;
  std::string repaired;
  for (const std::string& text : texts) {
    stats.input_bytes += text.size();
    count_line(text, counter, spans, repaired, stats);
  }
  stats.count_seconds = seconds_since(start);
  return train_counted(counter, std::move(stats), options);
}

}  // namespace sentbench::roberta
