#include "sentbench/bpe_tokenizer.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <limits>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "sentbench/errors.hpp"

namespace sentbench::roberta {
namespace {

// ---- byte <-> symbol tables -------------------------------------------------------------------------

std::array<char32_t, 256> make_byte_to_unicode() {
  std::array<char32_t, 256> table{};
  std::array<bool, 256> printable{};
  for (int b = '!'; b <= '~'; ++b) printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) table[b] = printable[b] ? char32_t(b) : next++;
  return table;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Byte-level symbols all lie below U+0144, so a flat table inverts the map.
constexpr char32_t kSymbolLimit = 0x144;
const std::array<int, kSymbolLimit>& unicode_to_byte() {
  static const std::array<int, kSymbolLimit> table = [] {
    std::array<int, kSymbolLimit> t{};
    t.fill(-1);
    for (int b = 0; b < 256; ++b) t[byte_to_unicode()[b]] = b;
    return t;
  }();
  return table;
}

// ---- character classes of the GPT-2 pattern ---------------------------------------------------------

enum CharClass : std::uint8_t { kOther = 0, kSpace = 1, kLetter = 2, kNumber = 3 };

bool is_white_space(char32_t cp) {
  // Unicode White_Space (PropList.txt); stable since Unicode 6.3 removed U+180E.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

CharClass classify_slow(char32_t cp) {
  if (is_white_space(cp)) return kSpace;
  switch (utf8proc_category(utf8proc_int32_t(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return kLetter;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return kNumber;
    default:
      return kOther;
  }
}

// ASCII classes as a constant table: the scanner looks one up for nearly every byte of English text.
constexpr std::array<CharClass, 128> kAsciiClasses = [] {
  std::array<CharClass, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) t[c] = kLetter;
    else if (c >= '0' && c <= '9') t[c] = kNumber;
    else if ((c >= 0x09 && c <= 0x0D) || c == ' ') t[c] = kSpace;
    else t[c] = kOther;
  }
  return t;
}();

// Decodes a well-formed sequence of len bytes starting at s.
inline char32_t decode_at(const unsigned char* s, std::size_t len) {
  switch (len) {
    case 2: return char32_t(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    case 3: return char32_t(s[0] & 0x0F) << 12 | char32_t(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    default:
      return char32_t(s[0] & 0x07) << 18 | char32_t(s[1] & 0x3F) << 12 | char32_t(s[2] & 0x3F) << 6 |
             (s[3] & 0x3F);
  }
}

// Class and byte length of the code point at s[i]. Ill-formed bytes (callers promise there are none)
// count as "other" and are stepped over without reading past the end.
inline CharClass class_at(const unsigned char* s, std::size_t n, std::size_t i, std::size_t* length) {
  if (s[i] < 0x80) {
    *length = 1;
    return kAsciiClasses[s[i]];
  }
  std::size_t sub = 1;
  const std::size_t len = utf8_sequence(s, n, i, &sub);
  if (len == 0) {
    *length = sub;
    return kOther;
  }
  *length = len;
  return classify_slow(decode_at(s + i, len));
}

// Runs the GPT-2 pattern over text, calling emit(begin, end) for each pre-token in order until it
// returns false. Streams over code points, so memory stays constant and truncation can stop early.
template <typename Emit>
void scan_pretokens(std::string_view text, Emit&& emit) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    std::size_t end = 0;
    const unsigned char c = s[i];
    // Contractions: ASCII only, so bytes stand for code points here.
    if (c == '\'' && i + 1 < n) {
      const unsigned char c1 = s[i + 1];
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        end = i + 2;
      } else if (i + 2 < n) {
        const unsigned char c2 = s[i + 2];
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) end = i + 3;
      }
    }
    if (end == 0) {
      std::size_t len = 0;
      const CharClass first = class_at(s, n, i, &len);
      std::size_t k = i;  // where the letter/number/other run starts
      CharClass run = first;
      if (c == ' ' && i + 1 < n) {
        // " ?X+": a leading U+0020 joins a following letter/number/other run.
        std::size_t next_len = 0;
        const CharClass next = class_at(s, n, i + 1, &next_len);
        if (next != kSpace) {
          k = i + 1;
          run = next;
        }
      }
      if (run != kSpace) {
        end = k;
        while (end < n) {
          std::size_t step = 0;
          if (class_at(s, n, end, &step) != run) break;
          end += step;
        }
      } else {
        // "\s+(?!\S)|\s+": a run followed by text leaves its last character to that text.
        std::size_t last = i, j = i, count = 0;
        while (j < n) {
          std::size_t step = 0;
          if (class_at(s, n, j, &step) != kSpace) break;
          last = j;
          j += step;
          ++count;
        }
        end = (j == n || count == 1) ? j : last;
      }
    }
    if (!emit(i, end)) return;
    i = end;
  }
}

// ---- files -----------------------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path.string() + "': check that the file exists and is readable");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError("error while reading '" + path.string() + "'");
  return std::move(buffer).str();
}

void write_file_atomic(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write '" + tmp.string() + "': check permissions and free space");
    out.write(data.data(), std::streamsize(data.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw IoError("error while writing '" + tmp.string() + "': disk full?");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw IoError("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

// Ids above this are refused: they would only come from a corrupt file and would size huge tables.
constexpr std::int64_t kMaxTokenId = (1 << 24) - 1;

void put_token(std::vector<std::string>& id_to_token, const std::string& token, std::int64_t id,
               const std::string& where) {
  if (id < 0 || id > kMaxTokenId)
    throw DataError(where + ": token '" + token + "' has id " + std::to_string(id) +
                    ", outside [0, " + std::to_string(kMaxTokenId) + "]");
  if (token.empty()) throw DataError(where + ": empty token string for id " + std::to_string(id));
  if (std::size_t(id) >= id_to_token.size()) id_to_token.resize(std::size_t(id) + 1);
  if (!id_to_token[id].empty() && id_to_token[id] != token)
    throw DataError(where + ": id " + std::to_string(id) + " is given to both '" + id_to_token[id] +
                    "' and '" + token + "'");
  id_to_token[id] = token;
}

std::vector<std::string> vocab_from_json(const nlohmann::json& vocab, const std::string& where) {
  if (!vocab.is_object()) throw DataError(where + ": expected a JSON object {token: id}");
  std::vector<std::string> id_to_token;
  id_to_token.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer())
      throw DataError(where + ": id of token '" + it.key() + "' is not an integer");
    put_token(id_to_token, it.key(), it.value().get<std::int64_t>(), where);
  }
  return id_to_token;
}

BpeTokenizer::Merge split_merge(std::string_view line, const std::string& where) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string_view::npos)
    throw DataError(where + ": expected two symbols separated by one space, got '" + std::string(line) +
                    "'");
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

// model.vocab (+ added_tokens) and model.merges of a parsed tokenizer.json.
std::pair<std::vector<std::string>, std::vector<BpeTokenizer::Merge>> parse_tokenizer_document(
    const nlohmann::json& doc, const std::string& where) {
  if (!doc.is_object() || !doc.contains("model") || !doc.at("model").is_object())
    throw DataError(where + ": no \"model\" object; is this a Hugging Face tokenizer.json?");
  const nlohmann::json& model = doc.at("model");
  if (model.contains("type") && model["type"] != "BPE")
    throw DataError(where + ": model.type is " + model["type"].dump() + ", only \"BPE\" is supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
      throw DataError(where + ": model." + key + " is set; byte-level BPE with it is not supported");
  }
  if (model.value("ignore_merges", false))
    throw DataError(where + ": model.ignore_merges is true; that variant of BPE is not supported");
  if (!model.contains("vocab") || !model.contains("merges"))
    throw DataError(where + ": model.vocab or model.merges is missing");

  std::vector<std::string> id_to_token = vocab_from_json(model["vocab"], where + ": model.vocab");
  if (doc.contains("added_tokens") && doc["added_tokens"].is_array()) {
    for (const auto& added : doc["added_tokens"]) {
      if (!added.is_object() || !added.contains("content") || !added.contains("id")) continue;
      const std::string content = added["content"].get<std::string>();
      const std::int64_t id = added["id"].get<std::int64_t>();
      if (std::size_t(id) < id_to_token.size() && id_to_token[id] == content) continue;
      put_token(id_to_token, content, id, where + ": added_tokens");
    }
  }

  const nlohmann::json& list = model["merges"];
  if (!list.is_array()) throw DataError(where + ": model.merges is not a list");
  std::vector<BpeTokenizer::Merge> merges;
  merges.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& m = list[i];
    const std::string at = where + ": model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      merges.push_back(split_merge(m.get_ref<const std::string&>(), at));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw DataError(at + ": expected \"a b\" or [\"a\", \"b\"], got " + m.dump());
    }
  }
  return {std::move(id_to_token), std::move(merges)};
}


}  // namespace

// ---- public free functions -----------------------------------------------------------------------------

const std::array<char32_t, 256>& byte_to_unicode() {
  static const std::array<char32_t, 256> table = make_byte_to_unicode();
  return table;
}

const std::array<std::string, 256>& byte_symbols() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) append_utf8(t[b], byte_to_unicode()[b]);
    return t;
  }();
  return table;
}

std::string bytes_to_symbols(std::string_view bytes) {
  const auto& symbols = byte_symbols();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += symbols[b];
  return out;
}

void pre_tokenize(std::string_view valid_utf8, std::vector<ByteSpan>& spans) {
  spans.clear();
  scan_pretokens(valid_utf8, [&](std::size_t begin, std::size_t end) {
    spans.push_back(ByteSpan{begin, end});
    return true;
  });
}

std::vector<std::string> pre_tokenize(std::string_view text) {
  std::string valid;
  if (!is_valid_utf8(text)) {
    valid = to_valid_utf8(text);
    text = valid;
  }
  std::vector<ByteSpan> spans;
  pre_tokenize(text, spans);
  std::vector<std::string> pieces;
  pieces.reserve(spans.size());
  for (const auto& span : spans) pieces.emplace_back(text.substr(span.begin, span.end - span.begin));
  return pieces;
}

// ---- merge table -----------------------------------------------------------------------------------

// Open-addressing map (left id, right id) -> (rank, merged id): the hottest lookup of encoding.
class BpeTokenizer::PairTable {
 public:
  struct Entry {
    std::uint64_t key;
    std::uint32_t rank;
    std::int32_t merged;
  };

  explicit PairTable(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    slots_.assign(capacity, Entry{kEmpty, 0, 0});
    mask_ = capacity - 1;
  }

  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return std::uint64_t(std::uint32_t(a)) << 32 | std::uint32_t(b);
  }

  // Later duplicates win, as in the reference's dict and HF's HashMap.
  void put(std::int32_t a, std::int32_t b, std::uint32_t rank, std::int32_t merged) {
    const std::uint64_t k = key(a, b);
    for (std::size_t i = slot(k);; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty || slots_[i].key == k) {
        slots_[i] = Entry{k, rank, merged};
        return;
      }
    }
  }

  const Entry* find(std::int32_t a, std::int32_t b) const {
    const std::uint64_t k = key(a, b);
    for (std::size_t i = slot(k);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == k) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);  // ids are < 2^24, so never a real key
  std::size_t slot(std::uint64_t k) const { return std::size_t((k * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }

  std::vector<Entry> slots_;
  std::size_t mask_ = 0;
};

// Byte strings of the tokens whose BPE is the token itself -> id. Read-only once built, so worker
// threads look words up without locks; a mutex-guarded word cache measured slower than no cache at two
// threads, because every thread hits the same few frequent words.
class BpeTokenizer::WordTable {
 public:
  void reserve(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
  }

  static std::size_t hash(std::string_view bytes) { return std::hash<std::string_view>()(bytes); }

  void put(std::string_view bytes, std::int32_t id) {
    const std::size_t h = hash(bytes);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id < 0) {
        slots_[i] = Slot{h, std::uint32_t(pool_.size()), std::uint32_t(bytes.size()), id};
        pool_.append(bytes);
        return;
      }
    }
  }

  std::int32_t find(std::string_view bytes, std::size_t h) const {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.hash == h && slot.length == bytes.size() &&
          std::string_view(pool_.data() + slot.offset, slot.length) == bytes)
        return slot.id;
    }
  }

 private:
  struct Slot {
    std::size_t hash = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::int32_t id = -1;
  };
  std::vector<Slot> slots_;
  std::string pool_;  // the words' bytes, back to back
  std::size_t mask_ = 0;
};

// ---- construction ---------------------------------------------------------------------------------

BpeTokenizer::BpeTokenizer() = default;
BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer::BpeTokenizer(const BpeTokenizer&) = default;
BpeTokenizer& BpeTokenizer::operator=(const BpeTokenizer&) = default;

void BpeTokenizer::build(std::vector<std::string> id_to_token, std::vector<Merge> merges) {
  std::unordered_map<std::string_view, std::int32_t> ids;
  ids.reserve(id_to_token.size());
  token_count_ = 0;
  for (std::size_t id = 0; id < id_to_token.size(); ++id) {
    if (id_to_token[id].empty()) continue;
    // vocab.json must stay writable, and HF only ever holds valid UTF-8 strings.
    if (!is_valid_utf8(id_to_token[id]))
      throw DataError("vocabulary: token " + std::to_string(id) + " is not valid UTF-8");
    if (!ids.emplace(id_to_token[id], std::int32_t(id)).second)
      throw DataError("vocabulary: token '" + id_to_token[id] + "' appears with two ids");
    ++token_count_;
  }
  auto find = [&](const std::string& token) {
    auto it = ids.find(token);
    return it == ids.end() ? -1 : it->second;
  };

  bos_id_ = find("<s>");
  pad_id_ = find("<pad>");
  eos_id_ = find("</s>");
  unk_id_ = find("<unk>");
  mask_id_ = find("<mask>");
  for (int b = 0; b < 256; ++b) byte_ids_[b] = find(byte_symbols()[b]);

  auto pairs = std::make_shared<PairTable>(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const std::int32_t ia = find(a), ib = find(b), im = find(a + b);
    if (ia < 0 || ib < 0 || im < 0) {
      const std::string& missing = ia < 0 ? a : ib < 0 ? b : a + b;
      throw DataError("merge " + std::to_string(rank + 1) + " ('" + a + " " + b + "'): token '" + missing +
                      "' is not in the vocabulary; the merges do not belong to this vocab");
    }
    pairs->put(ia, ib, std::uint32_t(rank), im);
  }
  pairs_ = std::move(pairs);

  const auto& to_byte = unicode_to_byte();
  id_bytes_.assign(id_to_token.size(), std::string());
  for (std::size_t id = 0; id < id_to_token.size(); ++id) {
    const std::string& token = id_to_token[id];
    std::string bytes;
    bool byte_level = true;
    const auto* s = reinterpret_cast<const unsigned char*>(token.data());
    for (std::size_t i = 0; i < token.size() && byte_level;) {
      std::size_t sub = 0;
      std::size_t len = utf8_sequence(s, token.size(), i, &sub);
      char32_t cp = len == 0 ? 0xFFFD : len == 1 ? s[i] : decode_at(s + i, len);
      if (len == 0 || cp >= kSymbolLimit || to_byte[cp] < 0) byte_level = false;
      else bytes += char(to_byte[cp]);
      i += len == 0 ? sub : len;
    }
    // Tokens outside the byte alphabet (added tokens) decode to their own text, as in HF.
    id_bytes_[id] = byte_level ? std::move(bytes) : token;
  }

  is_special_.assign(id_to_token.size(), false);
  for (std::int32_t id : {bos_id_, pad_id_, eos_id_, unk_id_, mask_id_})
    if (id >= 0) is_special_[id] = true;

  // Known words: every token whose own bytes encode back to just that token (almost all of them).
  auto words = std::make_shared<WordTable>();
  words->reserve(id_to_token.size());
  std::vector<std::int32_t> symbols;
  for (std::size_t id = 0; id < id_to_token.size(); ++id) {
    const std::string& bytes = id_bytes_[id];
    if (id_to_token[id].empty() || bytes.size() < 2) continue;
    symbols.clear();
    for (unsigned char b : bytes) symbols.push_back(byte_ids_[b]);
    if (std::find(symbols.begin(), symbols.end(), -1) != symbols.end()) continue;
    merge_symbols(symbols);
    if (symbols.size() == 1 && symbols[0] == std::int32_t(id)) words->put(bytes, std::int32_t(id));
  }
  words_ = std::move(words);

  auto token_ids = std::make_shared<std::unordered_map<std::string, std::int32_t>>();
  token_ids->reserve(ids.size());
  for (const auto& [token, id] : ids) token_ids->emplace(std::string(token), id);
  token_ids_ = std::move(token_ids);

  id_to_token_ = std::move(id_to_token);
  merges_ = std::move(merges);
}

BpeTokenizer BpeTokenizer::from_vocab_and_merges(std::vector<std::string> id_to_token,
                                                 std::vector<Merge> merges) {
  BpeTokenizer tokenizer;
  tokenizer.build(std::move(id_to_token), std::move(merges));
  return tokenizer;
}

BpeTokenizer BpeTokenizer::from_files(const std::filesystem::path& vocab_json,
                                      const std::filesystem::path& merges_txt) {
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(read_file(vocab_json));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(vocab_json.string() + ": not valid JSON (" + e.what() + ")");
  }
  std::vector<std::string> id_to_token = vocab_from_json(vocab, vocab_json.string());

  const std::string text = read_file(merges_txt);
  std::vector<Merge> merges;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.substr(0, 8) == "#version")) continue;
    merges.push_back(split_merge(line, merges_txt.string() + ":" + std::to_string(line_no)));
  }
  try {
    return from_vocab_and_merges(std::move(id_to_token), std::move(merges));
  } catch (const DataError& e) {
    throw DataError(merges_txt.string() + ": " + e.what());
  }
}

BpeTokenizer BpeTokenizer::from_tokenizer_json(const std::filesystem::path& tokenizer_json) {
  const std::string where = tokenizer_json.string();
  std::pair<std::vector<std::string>, std::vector<Merge>> parts;
  try {
    parts = parse_tokenizer_document(nlohmann::json::parse(read_file(tokenizer_json)), where);
  } catch (const nlohmann::json::exception& e) {
    // Either not JSON at all or a field of the wrong JSON type.
    throw DataError(where + ": not a readable tokenizer.json (" + e.what() + ")");
  }
  try {
    return from_vocab_and_merges(std::move(parts.first), std::move(parts.second));
  } catch (const DataError& e) {
    throw DataError(where + ": " + e.what());
  }
}

BpeTokenizer BpeTokenizer::from_folder(const std::filesystem::path& folder) {
  const auto vocab = folder / "vocab.json", merges = folder / "merges.txt", fast = folder / "tokenizer.json";
  if (std::filesystem::is_regular_file(vocab) && std::filesystem::is_regular_file(merges))
    return from_files(vocab, merges);
  if (std::filesystem::is_regular_file(fast)) return from_tokenizer_json(fast);
  throw IoError("no tokenizer in '" + folder.string() +
                "': expected vocab.json + merges.txt or tokenizer.json (a Hugging Face RoBERTa/GPT-2 "
                "model folder, or the output of `sentbench tokenizer train`)");
}

// ---- encoding ------------------------------------------------------------------------------------

namespace {
// Words up to this many symbols use the quadratic scan; longer ones a heap (O(n log n)).
#ifndef SENTBENCH_BPE_SMALL_WORD
#define SENTBENCH_BPE_SMALL_WORD 48
#endif
constexpr std::size_t kSmallWord = SENTBENCH_BPE_SMALL_WORD;
constexpr std::uint32_t kNoRank = std::numeric_limits<std::uint32_t>::max();
}  // namespace

void BpeTokenizer::merge_symbols(std::vector<std::int32_t>& symbols) const {
  const std::size_t n0 = symbols.size();
  if (n0 < 2) return;
  if (n0 <= kSmallWord) {
    std::uint32_t ranks[kSmallWord];
    std::int32_t merged[kSmallWord];
    std::int32_t* s = symbols.data();
    std::size_t n = n0;
    for (std::size_t k = 0; k + 1 < n; ++k) {
      const PairTable::Entry* e = pairs_->find(s[k], s[k + 1]);
      ranks[k] = e ? e->rank : kNoRank;
      merged[k] = e ? e->merged : -1;
    }
    bool fresh[kSmallWord];
    while (n > 1) {
      std::uint32_t best = kNoRank;
      for (std::size_t k = 0; k + 1 < n; ++k) best = std::min(best, ranks[k]);
      if (best == kNoRank) break;
      // One pass merges every occurrence of the best pair (ranks are unique per pair).
      std::size_t w = 0;
      for (std::size_t i = 0; i < n; ++w) {
        if (i + 1 < n && ranks[i] == best) {
          s[w] = merged[i];
          fresh[w] = true;
          i += 2;
        } else {
          s[w] = s[i];
          ranks[w] = ranks[i];
          merged[w] = merged[i];
          fresh[w] = false;
          i += 1;
        }
      }
      n = w;
      // Only pairs touching a new symbol changed; the others kept their rank through the shift.
      for (std::size_t k = 0; k + 1 < n; ++k) {
        if (!fresh[k] && !fresh[k + 1]) continue;
        const PairTable::Entry* e = pairs_->find(s[k], s[k + 1]);
        ranks[k] = e ? e->rank : kNoRank;
        merged[k] = e ? e->merged : -1;
      }
    }
    symbols.resize(n);
    return;
  }

  // Long words: linked symbols + min-heap of (rank, position), invalidated lazily.
  struct Node {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
  };
  struct Candidate {
    std::uint32_t rank;
    std::int32_t pos;
    std::int32_t left;
    std::int32_t right;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Node> nodes(n0);
  for (std::size_t k = 0; k < n0; ++k)
    nodes[k] = Node{symbols[k], std::int32_t(k) - 1, k + 1 < n0 ? std::int32_t(k + 1) : -1};
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](std::int32_t pos) {
    if (pos < 0) return;
    const std::int32_t next = nodes[pos].next;
    if (next < 0) return;
    if (const PairTable::Entry* e = pairs_->find(nodes[pos].id, nodes[next].id))
      heap.push(Candidate{e->rank, pos, nodes[pos].id, nodes[next].id});
  };
  auto valid = [&](const Candidate& c) {
    const Node& node = nodes[c.pos];
    return node.id == c.left && node.next >= 0 && nodes[node.next].id == c.right;
  };
  for (std::size_t k = 0; k + 1 < n0; ++k) push(std::int32_t(k));

  std::vector<Candidate> batch;
  std::vector<std::int32_t> touched;
  while (!heap.empty()) {
    if (!valid(heap.top())) {
      heap.pop();
      continue;
    }
    // Take every candidate of this rank (all are the same pair) and merge them left to right, so
    // the result matches the reference's "merge all occurrences" pass even for odd merge lists.
    const std::uint32_t rank = heap.top().rank;
    const std::int32_t merged_id = pairs_->find(heap.top().left, heap.top().right)->merged;
    batch.clear();
    while (!heap.empty() && heap.top().rank == rank) {
      batch.push_back(heap.top());
      heap.pop();
    }
    touched.clear();
    for (const Candidate& c : batch) {
      if (!valid(c)) continue;
      Node& node = nodes[c.pos];
      const std::int32_t gone = node.next;
      node.id = merged_id;
      node.next = nodes[gone].next;
      if (node.next >= 0) nodes[node.next].prev = c.pos;
      nodes[gone].id = -1;
      nodes[gone].next = -1;
      touched.push_back(c.pos);
    }
    for (std::int32_t pos : touched) {
      push(nodes[pos].prev);
      push(pos);
    }
  }
  std::size_t w = 0;
  for (std::int32_t k = 0; k >= 0; k = nodes[k].next) symbols[w++] = nodes[k].id;
  symbols.resize(w);
}

void BpeTokenizer::bpe_word(std::string_view bytes, std::vector<std::int32_t>& out) const {
  if (bytes.size() == 1) {
    const std::int32_t id = byte_ids_[static_cast<unsigned char>(bytes[0])];
    if (id >= 0) out.push_back(id);
    else if (unk_id_ >= 0) out.push_back(unk_id_);
    return;
  }
  if (const std::int32_t id = words_->find(bytes, WordTable::hash(bytes)); id >= 0) {
    out.push_back(id);
    return;
  }
  // Per-thread buffer: encoding allocates nothing per word once warm.
  thread_local std::vector<std::int32_t> symbols;
  symbols.clear();
  for (unsigned char b : bytes) {
    const std::int32_t id = byte_ids_[b];
    if (id >= 0) symbols.push_back(id);
    else if (unk_id_ >= 0) symbols.push_back(unk_id_);
  }
  merge_symbols(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void BpeTokenizer::encode_pieces(std::string_view text, std::vector<std::int32_t>& out,
                                 std::size_t max_pieces) const {
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = to_valid_utf8(text);
    text = repaired;
  }
  const std::size_t start = out.size();
  scan_pretokens(text, [&](std::size_t begin, std::size_t end) {
    bpe_word(text.substr(begin, end - begin), out);
    if (max_pieces > 0 && out.size() - start >= max_pieces) {
      out.resize(start + max_pieces);
      return false;
    }
    return true;
  });
}

std::vector<std::int32_t> BpeTokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::int32_t> out;
  encode_pieces(text, out);
  return out;
}

std::vector<std::int32_t> BpeTokenizer::encode(std::string_view text, int max_length) const {
  if (bos_id_ < 0 || eos_id_ < 0)
    throw DataError("tokenizer vocabulary has no <s> or </s>; use encode_pieces() for GPT-2 style vocabularies");
  if (max_length > 0 && max_length < 2)
    throw std::invalid_argument("max_length " + std::to_string(max_length) +
                                " leaves no room for <s> and </s>; use 0 for no limit or at least 2");
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 4);
  out.push_back(bos_id_);
  if (max_length != 2) encode_pieces(text, out, max_length > 0 ? std::size_t(max_length - 2) : 0);
  out.push_back(eos_id_);
  return out;
}

std::vector<std::string> BpeTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (std::int32_t id : encode_pieces(text)) tokens.push_back(id_to_token_[id]);
  return tokens;
}

std::string BpeTokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (std::int32_t id : ids) {
    if (id < 0 || std::size_t(id) >= id_to_token_.size() || id_to_token_[id].empty())
      throw std::out_of_range("decode: id " + std::to_string(id) + " is not in the vocabulary (size " +
                              std::to_string(id_to_token_.size()) + ")");
    if (skip_special_tokens && is_special_[id]) continue;
    bytes += id_bytes_[id];
  }
  return is_valid_utf8(bytes) ? bytes : to_valid_utf8(bytes);
}

std::int32_t BpeTokenizer::token_to_id(std::string_view token) const {
  auto it = token_ids_->find(std::string(token));
  return it == token_ids_->end() ? -1 : it->second;
}

const std::string& BpeTokenizer::id_to_token(std::int32_t id) const {
  if (id < 0 || std::size_t(id) >= id_to_token_.size())
    throw std::out_of_range("id_to_token: id " + std::to_string(id) + " is outside [0, " +
                            std::to_string(id_to_token_.size()) + ")");
  return id_to_token_[id];
}

void BpeTokenizer::save(const std::filesystem::path& folder) const {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw IoError("cannot create '" + folder.string() + "': " + ec.message());

  std::string vocab = "{";
  bool first = true;
  for (std::size_t id = 0; id < id_to_token_.size(); ++id) {
    if (id_to_token_[id].empty()) continue;
    if (!first) vocab += ',';
    first = false;
    vocab += nlohmann::json(id_to_token_[id]).dump();
    vocab += ':';
    vocab += std::to_string(id);
  }
  vocab += "}";
  write_file_atomic(folder / "vocab.json", vocab);

  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) {
    merges += a;
    merges += ' ';
    merges += b;
    merges += '\n';
  }
  write_file_atomic(folder / "merges.txt", merges);
}

}  // namespace sentbench::roberta
