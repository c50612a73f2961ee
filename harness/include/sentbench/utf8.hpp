// UTF-8 repair shared by every text reader and the tokenizers: one policy for invalid bytes everywhere.
// Each maximal ill-formed subsequence (the Unicode "maximal subpart" rule, as in Python's
// bytes.decode(errors="replace") and Rust's from_utf8_lossy) becomes U+FFFD (EF BF BD); well-formed text
// is never changed. Header-only, so readers and plugins share it without a call into libsentbench.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sentbench {

// U+FFFD REPLACEMENT CHARACTER, as UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Length of the well-formed sequence at s[i] (i < n), or 0 with *subpart set to the length of the
// maximal ill-formed subpart to replace (Unicode 15, table 3-7: no overlongs, surrogates or code points
// above U+10FFFF).
inline std::size_t utf8_sequence(const unsigned char* s, std::size_t n, std::size_t i, std::size_t* subpart) {
  const unsigned char b0 = s[i];
  if (b0 < 0x80) return 1;
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *subpart = 1;
    return 0;
  }
  std::size_t k = 1;
  for (; k < need; ++k) {
    if (i + k >= n) break;
    const unsigned char c = s[i + k];
    const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) break;
  }
  if (k == need) return need;
  *subpart = k;
  return 0;
}

// True when text is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    std::size_t sub = 0;
    const std::size_t len = utf8_sequence(s, n, i, &sub);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// Text with each maximal ill-formed subsequence replaced by U+FFFD; valid text comes back unchanged.
// `replaced`, when given, receives the number of replacements.
inline std::string to_valid_utf8(std::string_view text, std::size_t* replaced = nullptr) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::string out;
  out.reserve(n + 8);
  std::size_t count = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t sub = 0;
    const std::size_t len = utf8_sequence(s, n, i, &sub);
    if (len == 0) {
      out += kReplacementCharacter;
      ++count;
      i += sub;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  if (replaced) *replaced = count;
  return out;
}

// Repairs `text` in place; returns the number of replacements (0, and no copy, when it was valid).
inline std::size_t make_valid_utf8(std::string& text) {
  if (is_valid_utf8(text)) return 0;
  std::size_t replaced = 0;
  text = to_valid_utf8(text, &replaced);
  return replaced;
}

}  // namespace sentbench
