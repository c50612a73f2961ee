// Evaluation data readers. The first byte picks the reader; the rest is the file. A BEIR folder takes
// three files, separated by the byte 0x1E: corpus.jsonl, queries.jsonl, qrels/test.tsv.
#include <string>
#include <string_view>

#include "beir.hpp"
#include "clustering_data.hpp"
#include "fuzz_util.hpp"
#include "sts.hpp"
#include "sentbench/data/text_list.hpp"

namespace {

using sentbench::fuzz::write_input;

void beir(std::string_view text) {
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    const std::size_t cut = i == 2 ? std::string_view::npos : text.find('\x1e');
    parts[i] = text.substr(0, cut);
    text = cut == std::string_view::npos ? std::string_view() : text.substr(cut + 1);
  }
  write_input("beir/corpus.jsonl", parts[0]);
  write_input("beir/queries.jsonl", parts[1]);
  const auto qrels = write_input("beir/qrels/test.tsv", parts[2]);
  (void)sentbench::load_beir(qrels.parent_path().parent_path(), "test");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  sentbench::fuzz::expect_clean([&] {
    switch (data[0] % 8) {
      case 0: beir(text); break;
      case 1: (void)sentbench::load_sts(write_input("sts-fuzz.csv", text)); break;  // STS-B csv
      case 2: (void)sentbench::load_sts(write_input("SICK_fuzz.txt", text)); break;
      case 3: {  // named columns with a split column
        sentbench::StsReadOptions options;
        options.split_column = "split";
        (void)sentbench::load_sts(write_input("named.tsv", text), options);
        break;
      }
      case 4: (void)sentbench::load_clustering(write_input("clusters.jsonl", text)); break;
      case 5: (void)sentbench::load_clustering(write_input("clusters.tsv", text)); break;
      case 6: (void)sentbench::read_text_list(write_input("texts.txt", text), sentbench::TextListFormat::kLines); break;
      default: (void)sentbench::read_text_list(write_input("texts.jsonl", text), sentbench::TextListFormat::kJsonl); break;
    }
  });
  return 0;
}
