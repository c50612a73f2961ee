// Thread pools per kind of work (see sentbench/threads.hpp).
#include "sentbench/threads.hpp"

#include <dlfcn.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

namespace sentbench {

namespace {
std::atomic<int> g_setting{0};

// OpenBLAS is reached through libblas.so.3 (LibTorch links it); looked up at run time so another
// BLAS behind the alternative is not an error.
using SetFn = void (*)(int);
using GetFn = int (*)();
SetFn blas_set() {
  static const auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return fn;
}
GetFn blas_get() {
  static const auto fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn;
}
}  // namespace

void set_thread_setting(int threads) { g_setting = threads < 0 ? 0 : threads; }
int thread_setting() { return g_setting; }

int usable_cores() {
  // `--nproc` ranks share the machine: the launcher gives each its part in $SENTBENCH_CORES.
  if (const char* env = std::getenv("SENTBENCH_CORES")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

void set_blas_threads(int threads) {
  if (SetFn f = blas_set()) f(threads < 1 ? 1 : threads);
}

int blas_threads() {
  GetFn f = blas_get();
  return f ? f() : -1;
}

int cores_to_use() {
  const int setting = g_setting;
  return setting > 0 ? setting : usable_cores();
}

ComputeThreads::ComputeThreads(Work kind) : torch_(at::get_num_threads()), blas_(blas_threads()) {
  const int cores = cores_to_use();
  const bool blas_pool = kind == Work::kBlas;
  at::set_num_threads(blas_pool ? 1 : cores);
  set_blas_threads(blas_pool ? cores : 1);
}

ComputeThreads::~ComputeThreads() {
  if (at::get_num_threads() != torch_) at::set_num_threads(torch_);
  if (blas_ > 0 && blas_threads() != blas_) set_blas_threads(blas_);
}

}  // namespace sentbench
