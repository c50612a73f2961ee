// Portable seeded randomness for data order and masking (internal to the data code and the recipes that
// stream data). Checkpoints store positions, and a resumed run must make the same draws on any standard
// library: hence fixed arithmetic (splitmix64, mt19937_64, rejection sampling) instead of the
// implementation-defined std distributions.
#pragma once

#include <cstdint>
#include <locale>
#include <random>
#include <sstream>
#include <string>

namespace sentbench {

// splitmix64: spreads nearby inputs (seed 1 and 2, epoch 3 and 4) over unrelated generator states.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t salt) { return splitmix64(splitmix64(seed) ^ salt); }

// FNV-1a of a name: std::hash is not specified, and a stream's seed must survive a compiler change.
inline std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Uniform in [0, n) by rejection. std::uniform_int_distribution's algorithm is implementation-defined,
// and a checkpoint's replay must make the same draws wherever it runs.
inline std::uint64_t bounded(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (std::uint64_t{0} - n) % n;  // 2^64 mod n: values below it would bias small results
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= threshold) return x % n;
  }
}

// Uniform in [0, 1) from the top 53 bits (every double of the grid equally likely).
inline double unit_interval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// The classic locale keeps a global locale with digit grouping out of checkpoint text.
inline std::string serialize(const std::mt19937_64& rng) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << rng;
  return out.str();
}

}  // namespace sentbench
