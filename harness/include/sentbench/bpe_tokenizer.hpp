// Byte-level BPE tokenizer of GPT-2 / RoBERTa: Hugging Face vocab.json + merges.txt (or tokenizer.json)
// in, token ids identical to the reference tokenizer out.
//
// Conventions this file pins down, because the model's quality depends on ids being exactly HF's:
// - Pre-tokenization is GPT-2's regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   run by a hand-written scanner over code points. \p{L} / \p{N} are Unicode general categories from
//   utf8proc; \s is the Unicode White_Space property (the 25 code points Python's `regex` module and
//   onig match; not Python's str.isspace, which adds U+001C..U+001F). Code points that utf8proc's
//   Unicode version does not know yet count as neither letter nor number.
// - Invalid UTF-8 never throws: each maximal ill-formed subsequence (the Unicode "maximal subpart"
//   rule, as in Python's bytes.decode(errors="replace") and Rust's from_utf8_lossy) becomes U+FFFD
//   (EF BF BD) before tokenizing. HF itself only ever sees valid text (a Python str), so this is the
//   text HF would have been given after a lossy decode.
// - Special tokens (<s>, <pad>, </s>, <unk>, <mask>) are looked up in the vocabulary by name. Their
//   spelling inside input text is NOT recognised: "<mask>" in a sentence is tokenized as plain text, as
//   in the original GPT-2 encoder (HF's fast tokenizer would emit the special id instead).
// - A byte whose symbol is missing from the vocabulary (never the case for GPT-2/RoBERTa or vocabularies
//   from train_bpe) becomes <unk> when there is one and is dropped otherwise, as HF's BPE does.
// - Merges are applied as GPT-2's reference does: repeatedly take the lowest-ranked adjacent pair and
//   merge all its occurrences left to right.
// - Thread safety without locks: instead of a mutable word cache (a sharded-mutex cache measured slower
//   at two threads than none), load time computes a read-only table of every token whose own bytes
//   encode to itself; most words of running text hit it, the rest run BPE on per-thread buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sentbench/utf8.hpp"

namespace sentbench::roberta {

// A pre-token as the byte range [begin, end) of the text it was cut from.
struct ByteSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// GPT-2's bytes_to_unicode(): the printable code point that spells each byte in vocab.json.
const std::array<char32_t, 256>& byte_to_unicode();

// UTF-8 of byte_to_unicode()[b], e.g. byte_symbols()[' '] == "Ġ".
const std::array<std::string, 256>& byte_symbols();

// Spells raw bytes the way vocab.json does ("\x20hi" -> "Ġhi").
std::string bytes_to_symbols(std::string_view bytes);

// The SDK's UTF-8 repair (sentbench/utf8.hpp), the same policy as every dataset reader's.
using sentbench::is_valid_utf8;
using sentbench::to_valid_utf8;

// Splits well-formed UTF-8 into GPT-2 pre-tokens; spans cover the text exactly, in order. The caller
// guarantees validity (use to_valid_utf8 first); ill-formed bytes are not read past the end, but they are
// classified arbitrarily.
void pre_tokenize(std::string_view valid_utf8, std::vector<ByteSpan>& spans);

// Convenience form for tests and tools: any bytes in, pre-token strings out.
std::vector<std::string> pre_tokenize(std::string_view text);

// Immutable byte-level BPE model; every const member is safe to call from many threads at once.
class BpeTokenizer {
 public:
  using Merge = std::pair<std::string, std::string>;

  // vocab.json + merges.txt when the folder has both, else tokenizer.json.
  static BpeTokenizer from_folder(const std::filesystem::path& folder);
  // HF slow-tokenizer files; merges.txt may start with a "#version" line.
  static BpeTokenizer from_files(const std::filesystem::path& vocab_json,
                                 const std::filesystem::path& merges_txt);
  // HF fast-tokenizer file: model.vocab, model.merges ("a b" strings or [a, b] pairs), added_tokens.
  static BpeTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);
  // From an id-indexed vocabulary (empty strings mark unused ids) and merges in rank order, both in
  // the byte-level spelling. Throws DataError when a merge's parts or result are not in the vocabulary.
  static BpeTokenizer from_vocab_and_merges(std::vector<std::string> id_to_token,
                                            std::vector<Merge> merges);

  // <s> pieces </s>. max_length > 0 caps the total (specials included) by dropping trailing pieces;
  // it must then be at least 2. Throws DataError when the vocabulary has no <s> or </s>.
  std::vector<std::int32_t> encode(std::string_view text, int max_length = 0) const;
  // Token ids of text without specials or truncation.
  std::vector<std::int32_t> encode_pieces(std::string_view text) const;
  // Appends the ids of text to out, stopping once max_pieces ids were appended (0 = no limit).
  void encode_pieces(std::string_view text, std::vector<std::int32_t>& out,
                     std::size_t max_pieces = 0) const;
  // Token strings (byte-level spelling, e.g. "Ġworld") of text, for inspection.
  std::vector<std::string> tokenize(std::string_view text) const;

  // Bytes the ids spell, as UTF-8 (ill-formed joins become U+FFFD, as HF's ByteLevel decoder does).
  // Throws std::out_of_range for an id that is not in the vocabulary.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const;

  std::int32_t bos_id() const { return bos_id_; }    // <s>, -1 when absent
  std::int32_t pad_id() const { return pad_id_; }    // <pad>
  std::int32_t eos_id() const { return eos_id_; }    // </s>
  std::int32_t unk_id() const { return unk_id_; }    // <unk>
  std::int32_t mask_id() const { return mask_id_; }  // <mask>

  // Largest id + 1: the rows an embedding matrix needs (RoBERTa: 50265 though 3 ids are unused).
  std::size_t vocab_size() const { return id_to_token_.size(); }
  // Number of ids that have a token.
  std::size_t token_count() const { return token_count_; }
  // Id of a token in the byte-level spelling, or -1.
  std::int32_t token_to_id(std::string_view token) const;
  // Token of an id ("" for an unused id); throws std::out_of_range past vocab_size().
  const std::string& id_to_token(std::int32_t id) const;
  // Id-indexed tokens; unused ids hold "".
  const std::vector<std::string>& vocab() const { return id_to_token_; }
  // Merges in rank order.
  const std::vector<Merge>& merges() const { return merges_; }

  // Writes vocab.json (compact, ordered by id) and merges.txt (with "#version: 0.2") as HF's
  // tokenizers does; each file is written to a temporary name and renamed.
  void save(const std::filesystem::path& folder) const;

  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
  BpeTokenizer(const BpeTokenizer&);
  BpeTokenizer& operator=(const BpeTokenizer&);
  ~BpeTokenizer();

 private:
  class PairTable;
  class WordTable;

  BpeTokenizer();
  void build(std::vector<std::string> id_to_token, std::vector<Merge> merges);
  void bpe_word(std::string_view bytes, std::vector<std::int32_t>& out) const;
  void merge_symbols(std::vector<std::int32_t>& symbols) const;

  std::vector<std::string> id_to_token_;
  std::vector<std::string> id_bytes_;  // raw bytes each id spells, for decode
  std::vector<bool> is_special_;
  std::vector<Merge> merges_;
  // Immutable after build, so copies share them.
  std::shared_ptr<const PairTable> pairs_;
  std::shared_ptr<const WordTable> words_;
  std::shared_ptr<const std::unordered_map<std::string, std::int32_t>> token_ids_;
  std::array<std::int32_t, 256> byte_ids_{};
  std::size_t token_count_ = 0;
  std::int32_t bos_id_ = -1;
  std::int32_t pad_id_ = -1;
  std::int32_t eos_id_ = -1;
  std::int32_t unk_id_ = -1;
  std::int32_t mask_id_ = -1;
};

}  // namespace sentbench::roberta
