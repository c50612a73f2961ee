// What machine and libraries a run used, recorded in every report.
#pragma once

#include <string>

namespace sentbench {

struct SystemInfo {
  std::string sentbench_version;
  std::string git_commit;
  std::string cpu_model;
  int cores = 0;
  bool avx512_bf16 = false;
  std::string torch_version;
  int torch_threads = 0;
  std::string blas;  // where libblas.so.3 points
  std::string hostname;
};

SystemInfo system_info();
// Sets LibTorch's intra-op threads; 0 means the measured default (1: OpenBLAS threads the matmuls).
// Returns the count in effect.
int apply_threads(int threads);

}  // namespace sentbench
