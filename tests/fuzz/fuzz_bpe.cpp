// The byte-level BPE tokenizer (plugins/roberta, compiled in) with the committed Debian vocabulary
// (datasets/data/debian/tokenizer; no ../shared needed). Checks, beyond not crashing: pre-token spans
// tile the text, and decoding the pieces gives back the text after its UTF-8 repair (byte-level BPE
// loses nothing), and a length limit holds.
#include <string>
#include <string_view>
#include <vector>

#include "sentbench/bpe_tokenizer.hpp"
#include "fuzz_util.hpp"

using sentbench::roberta::BpeTokenizer;

namespace {

const BpeTokenizer& tokenizer() {
  static const BpeTokenizer t = BpeTokenizer::from_folder(SENTBENCH_FUZZ_TOKENIZER_DIR);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const BpeTokenizer& tok = tokenizer();
  const std::string valid = sentbench::to_valid_utf8(text);

  std::vector<sentbench::roberta::ByteSpan> spans;
  sentbench::roberta::pre_tokenize(valid, spans);
  std::size_t at = 0;
  for (const auto& span : spans) {
    if (span.begin != at || span.end <= span.begin) __builtin_trap();
    at = span.end;
  }
  if (at != valid.size()) __builtin_trap();

  const std::vector<std::int32_t> pieces = tok.encode_pieces(text);
  if (tok.decode(pieces, /*skip_special_tokens=*/false) != valid) __builtin_trap();

  const int limit = size > 0 ? 2 + data[0] % 16 : 2;
  const std::vector<std::int32_t> ids = tok.encode(text, limit);
  if (static_cast<int>(ids.size()) > limit) __builtin_trap();
  (void)tok.tokenize(text);
  return 0;
}
