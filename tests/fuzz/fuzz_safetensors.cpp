// safetensors: SafetensorsFile::open on fuzzed files, then every tensor's first and last byte read, so
// a view that points outside the mapping crashes here instead of in a model load. The first byte picks
// the layout: odd, the rest is the file as it stands (length prefix included); even, the rest is
// "header JSON \0 data" and the target writes the 8-byte length itself, so mutations of the JSON are not
// all lost to a length that no longer matches.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "sentbench/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes;
  if (data[0] & 1) {
    bytes.assign(rest);
  } else {
    const std::size_t cut = std::min(rest.find('\0'), rest.size());
    const std::uint64_t len = cut;
    bytes.assign(reinterpret_cast<const char*>(&len), 8);  // little-endian, as the reader expects
    bytes += rest.substr(0, cut);
    if (cut < rest.size()) bytes += rest.substr(cut + 1);
  }
  const auto path = sentbench::fuzz::write_input("model.safetensors", bytes);
  sentbench::fuzz::expect_clean([&] {
    const sentbench::SafetensorsFile file = sentbench::SafetensorsFile::open(path);
    volatile unsigned sum = 0;
    for (const auto& [name, view] : file.tensors()) {
      if (view.nbytes != static_cast<std::size_t>(view.numel()) * sentbench::element_size(view.dtype)) __builtin_trap();
      if (view.nbytes == 0) continue;
      sum = sum + static_cast<unsigned>(view.data[0]) + static_cast<unsigned>(view.data[view.nbytes - 1]);
    }
    for (const auto& [key, value] : file.metadata()) sum = sum + static_cast<unsigned>(key.size() + value.size());
  });
  return 0;
}
