// k-means at clustering-task scale (50k points × 384, k = 20): Lloyd against mini-batch in one run,
// with the quality each reaches (V-measure against the generating blobs) next to its speed.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kmeans.hpp"
#include "metrics.hpp"

namespace {

void BM_KMeans(benchmark::State& state) {
  const std::int64_t n = 50000, dim = 384, k = 20;
  const bool minibatch = state.range(0) != 0;
  // Overlapping-but-separable blobs: centres ~N(0, 1) per axis, noise ~N(0, 1), as embeddings of
  // related topics look, rather than trivially far apart.
  torch::manual_seed(0);
  const at::Tensor centres = torch::randn({k, dim});
  const at::Tensor gold = torch::randint(0, k, {n}, torch::kLong);
  const at::Tensor points = (centres.index_select(0, gold) + torch::randn({n, dim})).contiguous();
  const std::vector<std::int64_t> gold_v(gold.data_ptr<std::int64_t>(), gold.data_ptr<std::int64_t>() + n);

  sentbench::KMeansOptions options;
  options.k = k;
  options.minibatch_threshold = minibatch ? 20000 : std::numeric_limits<std::int64_t>::max();
  sentbench::KMeansResult result;
  for (auto _ : state) {
    result = sentbench::kmeans(points, options);
    benchmark::DoNotOptimize(result.labels.data_ptr());
  }
  const std::vector<std::int64_t> predicted(result.labels.data_ptr<std::int64_t>(),
                                            result.labels.data_ptr<std::int64_t>() + n);
  state.counters["points/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["steps"] = static_cast<double>(result.iterations);  // Lloyd iterations or mini-batches
  state.counters["inertia"] = result.inertia;
  state.counters["v_measure"] = sentbench::metrics::v_measure(gold_v, predicted).v_measure;
  state.SetLabel(std::string(minibatch ? "mini-batch (batch 4096)" : "Lloyd") +
                 " N=50k d=384 k=20 threads=" + std::to_string(at::get_num_threads()));
}

BENCHMARK(BM_KMeans)->ArgNames({"minibatch"})->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
