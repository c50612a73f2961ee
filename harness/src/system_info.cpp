// Machine facts for reports: CPU, cores, BLAS behind libblas.so.3, LibTorch version and threads.
#include "system_info.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "sentbench/version.hpp"

#ifndef SENTBENCH_GIT_COMMIT
#define SENTBENCH_GIT_COMMIT "unknown"
#endif

namespace sentbench {

SystemInfo system_info() {
  SystemInfo info;
  info.sentbench_version = kVersion;
  info.git_commit = SENTBENCH_GIT_COMMIT;
  info.cores = static_cast<int>(std::thread::hardware_concurrency());
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (info.cpu_model.empty() && line.rfind("model name", 0) == 0) {
      info.cpu_model = line.substr(line.find(':') + 2);
    } else if (line.rfind("flags", 0) == 0 && line.find("avx512_bf16") != std::string::npos) {
      info.avx512_bf16 = true;
    }
  }
  info.torch_version = TORCH_VERSION;
  info.torch_threads = at::get_num_threads();
  std::error_code ec;
  const auto blas = std::filesystem::canonical("/usr/lib/x86_64-linux-gnu/libblas.so.3", ec);
  info.blas = ec ? "unknown" : blas.string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  info.hostname = host;
  return info;
}

int apply_threads(int threads) {
  // Default: one LibTorch intra-op thread. Matmuls still use every core through OpenBLAS's own threads;
  // running both pools at full width oversubscribes the cores (measured here, BM_RobertaEncode fp32:
  // 1.00k tokens/s at 1 LibTorch thread vs 0.79k at 2; BM_Linear 78-92 vs 41-56 GFLOP/s).
  if (threads <= 0) threads = 1;
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace sentbench
