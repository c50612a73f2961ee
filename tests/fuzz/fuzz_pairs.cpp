// Training pairs JSONL: every line through parse_example (what PairStream does to a drawn line), the
// whole input through a PairStream in file order (LineReader's line cutting and UTF-8 repair), and as a
// data_config JSON list.
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "sentbench/data/pair_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sentbench::fuzz::expect_clean;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = 0;
  for (std::size_t begin = 0; begin <= text.size();) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string line(text.substr(begin, end - begin));
    expect_clean([&] { (void)sentbench::parse_example(line, "fuzz:1"); });
    ++lines;
    begin = end + 1;
  }
  const auto path = sentbench::fuzz::write_input("pairs.jsonl", text);
  expect_clean([&] {
    sentbench::PairStream stream(path, 1, /*buffer=*/1);
    for (std::size_t i = 0; i < lines; ++i) (void)stream.next();  // one epoch at most: next() wraps around
    (void)stream.state();
  });
  expect_clean([&] { (void)sentbench::read_data_config(path); });
  return 0;
}
