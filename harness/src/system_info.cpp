// Machine facts for reports: CPU, cores, BLAS behind libblas.so.3, LibTorch version and threads.
#include "system_info.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "sentbench/threads.hpp"
#include "sentbench/version.hpp"

namespace sentbench {

const char* build_git_commit();  // generated at build time (cmake/git_commit.cmake)

SystemInfo system_info() {
  SystemInfo info;
  info.sentbench_version = kVersion;
  info.git_commit = build_git_commit();
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
  info.torch_threads = cores_to_use();  // cores the run uses; each kind of work splits them (threads.hpp)
  std::error_code ec;
  const auto blas = std::filesystem::canonical("/usr/lib/x86_64-linux-gnu/libblas.so.3", ec);
  info.blas = ec ? "unknown" : blas.string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  info.hostname = host;
  return info;
}

int apply_threads(int threads) {
  // [run].threads is how many cores to use (0: all). Each kind of work then sets LibTorch's and
  // OpenBLAS's pools itself (ComputeThreads in sentbench/threads.hpp: the encoder, the training
  // loop); outside those scopes one LibTorch thread, with OpenBLAS threading the matmuls of search
  // and k-means, as both pools at full width oversubscribe the cores.
  set_thread_setting(threads);
  at::set_num_threads(1);
  return cores_to_use();
}

}  // namespace sentbench
