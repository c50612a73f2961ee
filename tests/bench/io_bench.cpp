// I/O primitives on the checkpoint path: content hashing and safetensors writing/reading, in MB/s.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sentbench/io.hpp"

namespace {

void BM_HashBytes(benchmark::State& state) {
  const std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(sentbench::hash_bytes(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_HashBytes)->Arg(64 << 20);

// Write then map and touch every tensor of a ~64 MB model-like file.
void BM_SafetensorsRoundTrip(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "sentbench-bench.safetensors";
  std::vector<float> weights(1 << 22, 0.5f);  // 16 MB per tensor
  std::map<std::string, sentbench::TensorView> tensors;
  for (int i = 0; i < 4; ++i) {
    tensors["layer." + std::to_string(i)] = {sentbench::DType::kF32, {1 << 11, 1 << 11},
                                             reinterpret_cast<const std::byte*>(weights.data()), weights.size() * 4};
  }
  for (auto _ : state) {
    sentbench::write_safetensors(path, tensors);
    const auto file = sentbench::SafetensorsFile::open(path);
    float sum = 0;
    for (const auto& [name, view] : file.tensors()) sum += reinterpret_cast<const float*>(view.data)[view.numel() - 1];
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 4 * (1 << 24));
  std::filesystem::remove(path);
}
BENCHMARK(BM_SafetensorsRoundTrip)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
