// Encoder throughput: the roberta backend encoding sentences at a MiniLM-like shape (384 hidden,
// 6 layers) in fp32 and bf16, reported as tokens/s and achieved GFLOP/s. Read it beside BM_Linear's
// measured matmul peak from the same run (fraction of peak), not as absolute seconds.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "sentbench/bpe_trainer.hpp"
#include "roberta_encoder.hpp"
#include "sentbench/config.hpp"
#include "sentbench/io.hpp"
#include "sentbench/threads.hpp"

namespace fs = std::filesystem;

namespace {

// As the sentbench executable does (harness/cli/main.cpp): large buffers stay in the heap, so the
// figures are not dominated by first-touch page faults of fresh mmap()s.
const bool kHeapKept = [] {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

// Sentences of 5–30 words drawn from a fixed vocabulary: realistic lengths without shipped data.
std::vector<std::string> make_sentences(std::size_t n, std::uint32_t seed) {
  static const char* kWords[] = {"the", "model", "encodes", "sentences", "into", "vectors", "package", "library",
                                 "provides", "support", "for", "network", "data", "fast", "simple", "tool",
                                 "written", "in", "with", "and", "a", "of", "to", "files", "server", "client",
                                 "documentation", "development", "headers", "python", "module", "interface"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(5, 30), word(0, sizeof(kWords) / sizeof(kWords[0]) - 1);
  std::vector<std::string> out(n);
  for (auto& s : out) {
    for (int i = len(rng); i > 0; --i) s += std::string(kWords[word(rng)]) + (i > 1 ? " " : ".");
  }
  return out;
}

// A random-init encoder with a tokenizer trained on the benchmark's own sentences (built once).
sentbench::roberta::RobertaEncoder& encoder(bool bf16) {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / "sentbench-bench-tokenizer";
    sentbench::roberta::BpeTrainerOptions o;
    o.vocab_size = 2000;
    o.output_dir = d;
    sentbench::roberta::train_bpe_from_texts(make_sentences(5000, 1), o);
    return d;
  }();
  auto make = [](bool bf) {
    const std::string toml = "[encoder]\nplugin='roberta'\ntokenizer='" + dir.string() + "'\ndtype='" +
                             (bf ? "bfloat16" : "float32") +
                             "'\nmax_seq_length=128\n[encoder.init]\nhidden=384\nlayers=6\nheads=12\nffn=1536\n";
    return std::make_unique<sentbench::roberta::RobertaEncoder>(sentbench::Config::parse(toml).table("encoder"));
  };
  static auto fp32 = make(false);
  static auto bf = make(true);
  return bf16 ? *bf : *fp32;
}

void BM_RobertaEncode(benchmark::State& state) {
  const bool bf16 = state.range(0) != 0;
  at::set_num_threads(static_cast<int>(state.range(1)));
  auto& enc = encoder(bf16);
  const auto texts = make_sentences(800, 7);
  const auto tokens = static_cast<double>(enc.tokenize(texts).tokens());
  const auto& c = enc.model()->config;
  // Forward FLOPs per token: 4 h×h projections + 2 h×ffn, ×2 for multiply-add, per layer (attention
  // scores add ~4·T·h per token, small at these lengths and left out).
  const double flops_per_token =
      2.0 * c.num_hidden_layers * (4.0 * c.hidden_size * c.hidden_size + 2.0 * c.hidden_size * c.intermediate_size);
  for (auto _ : state) {
    auto out = enc.encode(texts, {});
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(tokens * flops_per_token * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(bf16 ? "bf16" : "fp32") + " 384x6 torch_threads=" + std::to_string(state.range(1)));
}
BENCHMARK(BM_RobertaEncode)->Args({0, 1})->Args({0, 2})->Args({1, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

// A Hugging Face folder and a text file from the environment ($SENTBENCH_BENCH_MODEL,
// $SENTBENCH_BENCH_TEXTS; skipped when unset): the peers' protocol (scripts/bench-peers.sh) inside
// Google Benchmark, tokenization included. Args: bf16, LibTorch threads, batch_tokens (0 = default).
void BM_RobertaEncodeFolder(benchmark::State& state) {
  const char* model = std::getenv("SENTBENCH_BENCH_MODEL");
  const char* texts_file = std::getenv("SENTBENCH_BENCH_TEXTS");
  if (!model || !texts_file) {
    state.SkipWithError("set SENTBENCH_BENCH_MODEL (HF folder) and SENTBENCH_BENCH_TEXTS (one text a line)");
    return;
  }
  const bool bf16 = state.range(0) != 0;
  sentbench::set_thread_setting(static_cast<int>(state.range(1)));  // cores; the encoder sets both pools
  std::string toml = std::string("[encoder]\nplugin='roberta'\nmodel='") + model + "'\ndtype='" +
                     (bf16 ? "bfloat16" : "float32") + "'\n";
  if (state.range(2) > 0) toml += "batch_tokens=" + std::to_string(state.range(2)) + "\n";
  sentbench::roberta::RobertaEncoder enc(sentbench::Config::parse(toml).table("encoder"));
  std::vector<std::string> texts;
  std::ifstream in(texts_file);
  for (std::string line; std::getline(in, line);) texts.push_back(line);
  const auto tokens = static_cast<double>(enc.tokenize(texts).tokens());
  enc.encode(texts, {});  // warm-up: weights cached, buffers grown
  for (auto _ : state) {
    auto out = enc.encode(texts, {});
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.counters["sentences/s"] = benchmark::Counter(static_cast<double>(texts.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(bf16 ? "bf16" : "fp32") + " cores=" + std::to_string(state.range(1)) +
                 " batch_tokens=" + std::to_string(state.range(2)));
}
BENCHMARK(BM_RobertaEncodeFolder)
    ->ArgsProduct({{0, 1}, {2}, {0, 1024, 4096, 16384}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
