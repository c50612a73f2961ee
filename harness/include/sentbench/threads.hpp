// CPU thread pools: LibTorch's intra-op pool (OpenMP, which oneDNN's bf16 GEMMs also use) and
// OpenBLAS's own threads (fp32 GEMMs). Both at full width oversubscribe the cores, so the harness
// chooses per kind of work, from measurements documented in the README ("Performance notes").
#pragma once

#include "sentbench/export.hpp"

namespace sentbench {

// Where a scope's GEMMs run: that library gets the cores, the other pool one thread.
enum class Work {
  kBlas,    // GEMMs in OpenBLAS (LibTorch's fp32 default): OpenBLAS threads them, LibTorch's pool at 1
  kOneDnn,  // GEMMs in oneDNN (bf16, or fp32 via mkldnn_linear) on LibTorch's pool; OpenBLAS at 1
};

// The user's setting ([run].threads, --threads): how many cores to use; 0 = all this process may use.
SENTBENCH_API void set_thread_setting(int threads);
SENTBENCH_API int thread_setting();
// Cores this process may run on (sched affinity).
SENTBENCH_API int usable_cores();
// OpenBLAS's thread count when libblas.so.3 is OpenBLAS; otherwise a no-op and -1.
SENTBENCH_API void set_blas_threads(int threads);
SENTBENCH_API int blas_threads();

// The number of cores the setting means (usable_cores() when 0).
SENTBENCH_API int cores_to_use();

// Sets both pools for a scope of work of one kind (per Work above, over cores_to_use() cores) and
// restores the previous counts after.
class SENTBENCH_API ComputeThreads {
 public:
  explicit ComputeThreads(Work kind);
  ~ComputeThreads();
  ComputeThreads(const ComputeThreads&) = delete;
  ComputeThreads& operator=(const ComputeThreads&) = delete;

 private:
  int torch_ = 0;
  int blas_ = -1;
};

}  // namespace sentbench
