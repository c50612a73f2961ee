// Measured matmul peak at encoder-layer shapes: the reference every throughput figure is compared
// against ("fraction of measured peak"). Compares fp32 and bf16, and LibTorch's thread count, side by
// side in one run — ratios, not absolute seconds, are what to read on a shared machine.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

namespace {

// tokens × hidden @ hidden × out, as in a Linear layer of an encoder over a padded batch.
void BM_Linear(benchmark::State& state) {
  const int64_t tokens = state.range(0), hidden = state.range(1), out = state.range(2);
  const bool bf16 = state.range(3) != 0;
  const int threads = static_cast<int>(state.range(4));
  at::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  auto x = torch::randn({tokens, hidden}).to(dtype);
  auto w = torch::randn({out, hidden}).to(dtype);
  auto b = torch::randn({out}).to(dtype);
  for (auto _ : state) {
    auto y = torch::nn::functional::linear(x, w, b);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  const double flops = 2.0 * tokens * hidden * out;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(bf16 ? "bf16" : "fp32") + " torch_threads=" + std::to_string(threads));
}

void LinearArgs(benchmark::internal::Benchmark* b) {
  // (tokens, hidden, out, bf16, threads): a 384-hidden small encoder and roberta-large's 1024.
  for (int64_t bf16 : {0, 1}) {
    for (int64_t threads : {1, 2}) {
      b->Args({2048, 384, 1536, bf16, threads});
      b->Args({2048, 1024, 4096, bf16, threads});
    }
  }
}

BENCHMARK(BM_Linear)->Apply(LinearArgs)->Unit(benchmark::kMillisecond)->UseRealTime();

void set_blas_threads(int n) {
  using Fn = void (*)(int);
  if (auto f = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

// fp32 Linear with all parallelism in LibTorch's pool: rows split across its threads, each slice one
// single-threaded OpenBLAS GEMM. strategy 0: LibTorch 1 thread + OpenBLAS 2 (the eager default);
// 1: rows split over 2 LibTorch threads, OpenBLAS 1; 2: both at 2 (oversubscribed, for reference).
void BM_LinearStrategy(benchmark::State& state) {
  const int64_t tokens = state.range(0), hidden = state.range(1), out = state.range(2);
  const int strategy = static_cast<int>(state.range(3));
  at::set_num_threads(strategy == 0 ? 1 : 2);
  set_blas_threads(strategy == 1 || strategy == 3 ? 1 : 2);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({tokens, hidden});
  auto w = torch::randn({out, hidden});
  auto b = torch::randn({out});
  for (auto _ : state) {
    torch::Tensor y;
    if (strategy == 3) {
      y = at::mkldnn_linear(x.to_mkldnn(), w, b).to_dense();
    } else if (strategy == 1) {
      y = torch::empty({tokens, out});
      at::parallel_for(0, tokens, 64, [&](int64_t r0, int64_t r1) {
        auto ys = y.narrow(0, r0, r1 - r0);
        at::addmm_out(ys, b, x.narrow(0, r0, r1 - r0), w.t());
      });
    } else {
      y = torch::addmm(b, x, w.t());
    }
    benchmark::DoNotOptimize(y.data_ptr());
  }
  set_blas_threads(2);
  const double flops = 2.0 * tokens * hidden * out;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  static const char* kNames[] = {"torch1+blas2", "split: torch2+blas1", "torch2+blas2", "oneDNN: torch2+blas1"};
  state.SetLabel(kNames[strategy]);
}
BENCHMARK(BM_LinearStrategy)
    ->ArgsProduct({{512, 2048}, {384}, {1152, 1536}, {0, 1, 2, 3}})
    ->ArgsProduct({{512, 2048}, {768}, {2304, 3072}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
