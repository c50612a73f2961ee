// Exact top-k search at BEIR-like scale (100k documents × 1k queries, dim 384, k = 100): queries/s,
// GFLOP/s of the scoring matmuls, and the extra memory each chunking costs, side by side — the chunk
// sizes trade block size (BLAS efficiency) against memory.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include "search.hpp"

namespace {

// A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1 where it cannot be read.
std::int64_t status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the peak of one call can
// be read as VmHWM afterwards minus VmRSS before.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

void BM_ExactSearch(benchmark::State& state) {
  const std::int64_t n_docs = 100000, n_queries = 1000, dim = 384, k = 100;
  sentbench::SearchOptions options;
  options.k = k;
  options.corpus_chunk = state.range(0);
  options.query_chunk = state.range(1);
  options.cosine = true;
  torch::manual_seed(0);
  const at::Tensor corpus = torch::randn({n_docs, dim});
  const at::Tensor queries = torch::randn({n_queries, dim});

  double peak_mib = 0;
  bool measured = true;
  for (auto _ : state) {
    state.PauseTiming();
    measured = measured && reset_peak_rss();
    const std::int64_t before = status_kib("VmRSS");
    state.ResumeTiming();
    const sentbench::SearchResult r = sentbench::exact_search(queries, corpus, options);
    benchmark::DoNotOptimize(r.indices.data_ptr());
    state.PauseTiming();
    const std::int64_t hwm = status_kib("VmHWM");
    measured = measured && before >= 0 && hwm >= 0;
    peak_mib = std::max(peak_mib, static_cast<double>(hwm - before) / 1024.0);
    state.ResumeTiming();
  }
  const double qc = static_cast<double>(std::min(options.query_chunk, n_queries));
  const double cc = static_cast<double>(std::min(options.corpus_chunk, n_docs));
  // The reused float32 score block, the [N] inverse norms and the [Q, k] outputs.
  const double estimate_mib = (qc * cc * 4 + n_docs * 4.0 + n_queries * k * 12.0) / (1024.0 * 1024.0);
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(n_queries), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n_queries * n_docs * dim * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_extra_MiB"] = measured ? peak_mib : -1;  // VmHWM - VmRSS around one call
  state.counters["estimate_MiB"] = estimate_mib;
  state.SetLabel("N=100k Q=1k d=384 k=100 cosine threads=" + std::to_string(at::get_num_threads()));
}

BENCHMARK(BM_ExactSearch)
    ->ArgNames({"corpus_chunk", "query_chunk"})
    ->Args({50000, 256})  // the defaults
    ->Args({10000, 256})
    ->Args({100000, 256})
    ->Args({50000, 1024})
    ->Args({10000, 1024})
    ->Args({100000, 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
