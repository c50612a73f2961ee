// Gradient all-reduce between 2 Gloo ranks over loopback (two threads of this process, each its own
// rank): 64 MiB of float32 gradients in 64 tensors, averaged per tensor (bucket 0) or packed into buckets
// of 1, 4, 25 (the default) or 64 MiB. Bytes/s is the gradient volume averaged per second, side by side.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <map>
#include <mutex>

#include "sentbench/distributed.hpp"

namespace {

// One port per benchmark argument, shared by the two threads that form its ranks.
int port_for(std::int64_t arg) {
  static std::mutex mutex;
  static std::map<std::int64_t, int> ports;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = ports.find(arg);
  if (it == ports.end()) it = ports.emplace(arg, sentbench::free_local_port()).first;
  return it->second;
}

void BM_GradientAllReduce(benchmark::State& state) {
  at::set_num_threads(1);
  sentbench::DistEnv env;
  env.rank = state.thread_index();
  env.world_size = state.threads();
  env.master_port = port_for(state.range(0));
  sentbench::DistOptions options;
  options.bucket_bytes = static_cast<std::size_t>(state.range(0)) << 20;
  options.timeout = std::chrono::milliseconds(60'000);
  auto group = sentbench::init_process_group(env, options);
  std::vector<at::Tensor> grads;
  for (int i = 0; i < 64; ++i) grads.push_back(torch::full({256 * 1024}, static_cast<float>(env.rank + i)));
  for (auto _ : state) {
    group->all_reduce_mean(grads);
    benchmark::DoNotOptimize(grads.front().data_ptr());
  }
  if (state.thread_index() == 0) {
    state.SetBytesProcessed(state.iterations() * 64 * 256 * 1024 * static_cast<std::int64_t>(sizeof(float)));
    state.counters["buckets_MiB"] = static_cast<double>(state.range(0));
  }
  group->barrier();  // neither rank leaves while the other still reduces
}
// Fixed iterations: each argument runs once per thread, so the two ranks rendezvous exactly once.
BENCHMARK(BM_GradientAllReduce)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(25)->Arg(64)->Threads(2)->Iterations(10)
    ->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
