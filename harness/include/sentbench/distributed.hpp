// The process group a recipe trains with: PyTorch's c10d engine (Gloo on CPU) behind a small interface
// that names the failing rank instead of hanging. World size 1 is a group of one: every call is free.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "sentbench/errors.hpp"
#include "sentbench/export.hpp"

namespace sentbench {

// A collective failed: another rank died, hung past the timeout, or reported an error. The message names
// the rank(s) at fault and what this rank was doing.
class SENTBENCH_API DistributedError : public Error {
 public:
  using Error::Error;
  ~DistributedError() override;
};

// Where this process sits among the ranks of a run, as torchrun, Slurm (srun) or `sentbench train
// --nproc N` describe it: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (Slurm's SLURM_PROCID,
// SLURM_NTASKS and SLURM_LOCALID stand in for the first three when RANK is not set).
struct SENTBENCH_API DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun's agent already serves the store at MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True): every
  // rank joins it as a client, under a prefix per restart attempt (TORCHELASTIC_RESTART_COUNT).
  bool agent_store = false;
  std::string store_prefix = "sentbench/";
  // Reads the environment; world size 1 when nothing is set. Throws ConfigError for malformed or
  // inconsistent values (naming the variable).
  static DistEnv from_environment();
};

struct DistOptions {
  std::string backend = "auto";                  // "gloo", or "auto" (Gloo: this LibTorch has no CUDA)
  std::chrono::milliseconds timeout{300'000};     // a collective waits at most this long
  std::chrono::milliseconds join_timeout{0};       // the rendezvous waits at most this long (0: `timeout`)
  // Gradient all-reduce bucket. BM_GradientAllReduce (64 MiB of gradients, 2 ranks, loopback, this 2-core
  // machine): 4 MiB buckets 83–167 ms, 25 MiB (PyTorch DDP's default) 149–194 ms, one 64 MiB bucket
  // 258–267 ms — smaller buckets keep Gloo's two worker threads busy and the copies in cache.
  std::size_t bucket_bytes = 4u << 20;
  std::chrono::milliseconds heartbeat{1000};     // how often each rank says it is alive
};

class SENTBENCH_API ProcessGroup {
 public:
  virtual ~ProcessGroup();
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  bool distributed() const { return world_size() > 1; }
  bool is_main() const { return rank() == 0; }

  // Averages the tensors over all ranks, in place. Tensors are packed into flat buckets of about
  // DistOptions::bucket_bytes (one all-reduce per bucket, all buckets in flight together).
  virtual void all_reduce_mean(const std::vector<at::Tensor>& tensors) = 0;
  // Sums a (small) tensor over all ranks, in place.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  // Copies root's tensors into every rank's, in place (parameters at the start of training).
  virtual void broadcast(const std::vector<at::Tensor>& tensors, int root = 0) = 0;
  // Every rank's `local` [n, ...] (same shape on all ranks) concatenated along dim 0 in rank order.
  // Gradient-correct: backward sums the gathered tensor's gradient over all ranks and hands each rank
  // its own slice, so a loss over gathered embeddings trains each rank's encoder as one big batch would.
  virtual at::Tensor all_gather(const at::Tensor& local) = 0;
  virtual void barrier() = 0;

  // Diagnostics: the step this rank is at (an error names ranks that are behind), and this rank's own
  // failure, published so the others can say why they stopped.
  virtual void set_step(std::int64_t step) = 0;
  virtual void report_failure(const std::string& what) = 0;
};

// A TCP port on 127.0.0.1 that the kernel says is free now (for a local rendezvous: --nproc, tests).
SENTBENCH_API int free_local_port();

// A group of one (rank 0 of 1): collectives return at once.
SENTBENCH_API std::shared_ptr<ProcessGroup> single_process_group();

// Joins the ranks described by `env` through a TCPStore at MASTER_ADDR:MASTER_PORT (rank 0 hosts it) and
// builds a Gloo process group. Fails after options.timeout naming the ranks that never joined.
SENTBENCH_API std::shared_ptr<ProcessGroup> init_process_group(const DistEnv& env, const DistOptions& options);

}  // namespace sentbench
