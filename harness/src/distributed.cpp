// ProcessGroup over c10d: a TCPStore for rendezvous (rank 0 hosts it), ProcessGroupGloo for collectives,
// and per-rank heartbeats in the store so a failed collective can name the rank that died or hung.
#include "sentbench/distributed.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "sentbench/log.hpp"

namespace sentbench {

DistributedError::~DistributedError() = default;
ProcessGroup::~ProcessGroup() = default;

namespace {

std::optional<std::string> env_var(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int env_int(const char* name, const std::string& value) {
  std::size_t used = 0;
  int out = 0;
  try {
    out = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    throw ConfigError(fmt::format("environment variable {}='{}' is not an integer", name, value));
  }
  return out;
}

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:g} s", static_cast<double>(ms.count()) / 1000.0); }

// One rank's group. All collectives are called from one thread (the training loop and its backward).
class GlooGroup final : public ProcessGroup {
 public:
  GlooGroup(const DistEnv& env, const DistOptions& options);
  ~GlooGroup() override;
  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }
  void all_reduce_mean(const std::vector<at::Tensor>& tensors) override;
  void all_reduce_sum(at::Tensor& tensor) override;
  void broadcast(const std::vector<at::Tensor>& tensors, int root) override;
  at::Tensor all_gather(const at::Tensor& local) override;
  void barrier() override;
  void set_step(std::int64_t step) override { step_.store(step); }
  void report_failure(const std::string& what) override;

  at::Tensor gather_raw(const at::Tensor& local);

 private:
  c10::intrusive_ptr<c10d::TCPStore> client(std::chrono::milliseconds timeout) const;
  void wait(const std::string& what, const std::vector<c10::intrusive_ptr<c10d::Work>>& work);
  void await_all_joined();
  std::string diagnose();
  void heartbeat_loop();
  std::string key(const char* what, int rank) const { return fmt::format("{}{}/{}", env_.store_prefix, what, rank); }

  DistEnv env_;
  DistOptions options_;
  c10::intrusive_ptr<c10d::TCPStore> store_;      // rank 0: also the server
  c10::intrusive_ptr<c10d::TCPStore> side_store_;  // heartbeats and failure reports, off the main connection
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  std::atomic<std::int64_t> step_{0};
  std::atomic<std::int64_t> collectives_{0};  // collectives this rank has entered, published with the heartbeat
  std::mutex hb_mutex_;
  std::condition_variable hb_cv_;
  bool hb_stop_ = false;
  std::thread heartbeat_;
};


GlooGroup::GlooGroup(const DistEnv& env, const DistOptions& options) : env_(env), options_(options) {
  if (options_.join_timeout.count() <= 0) options_.join_timeout = options_.timeout;
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = env.rank == 0 && !env.agent_store;
  so.numWorkers = static_cast<std::size_t>(env.world_size);
  so.waitWorkers = false;
  so.timeout = options_.join_timeout;
  try {
    store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format(
        "rank {}: could not {} the rendezvous store at {}:{} within {}: {}\n  {}", env.rank,
        so.isServer ? "open" : "reach", env.master_addr, env.master_port, seconds(options_.join_timeout), e.what(),
        so.isServer ? "is MASTER_PORT free on this machine? Pick another port, or let `sentbench train --nproc N` choose one"
                      : "is rank 0 running, and do all ranks use the same MASTER_ADDR and MASTER_PORT?"));
  }
  side_store_ = client(std::chrono::milliseconds(10'000));
  store_->set(key("joined", env.rank), bytes("1"));
  await_all_joined();

  auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
  if (auto ifname = env_var("GLOO_SOCKET_IFNAME")) {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
  } else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  try {
    pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>(env.store_prefix + "gloo", store_),
                                                      env.rank, env.world_size, gloo_options);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: connecting the Gloo process group failed: {}", env.rank, e.what()));
  }
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
  log::debug("rank {}/{} joined through {}:{} (Gloo, timeout {})", env.rank, env.world_size, env.master_addr,
             env.master_port, seconds(options.timeout));
}

GlooGroup::~GlooGroup() {
  {
    std::lock_guard<std::mutex> lock(hb_mutex_);
    hb_stop_ = true;
  }
  hb_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  pg_.reset();
  side_store_.reset();
  store_.reset();
}

// A second connection to the store. The rank that hosts it connects over loopback (the server listens on
// every address): MASTER_ADDR may be an address of a link that is down or gone, and this rank must still
// read the others' heartbeats to say which of them it lost.
c10::intrusive_ptr<c10d::TCPStore> GlooGroup::client(std::chrono::milliseconds timeout) const {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env_.master_port);
  so.isServer = false;
  so.waitWorkers = false;
  so.timeout = timeout;
  const bool hosting = env_.rank == 0 && !env_.agent_store;
  return c10::make_intrusive<c10d::TCPStore>(hosting ? std::string("127.0.0.1") : env_.master_addr, so);
}

void GlooGroup::await_all_joined() {
  const auto deadline = std::chrono::steady_clock::now() + options_.join_timeout;
  while (true) {
    std::vector<int> missing;
    for (int r = 0; r < env_.world_size; ++r) {
      if (!store_->check({key("joined", r)})) missing.push_back(r);
    }
    if (missing.empty()) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw DistributedError(fmt::format(
          "rank {}: rank{} {} did not join within {} (WORLD_SIZE={}, rendezvous at {}:{}); start every rank with "
          "the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE, or raise [run].dist_timeout",
          env_.rank, missing.size() == 1 ? "" : "s", fmt::join(missing, ", "), seconds(options_.join_timeout),
          env_.world_size, env_.master_addr, env_.master_port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void GlooGroup::heartbeat_loop() {
  std::int64_t beat = 0;
  std::unique_lock<std::mutex> lock(hb_mutex_);
  while (!hb_stop_) {
    lock.unlock();
    try {
      side_store_->set(key("heartbeat", env_.rank),
                       bytes(fmt::format("{} {} {}", ++beat, step_.load(), collectives_.load())));
    } catch (const std::exception&) {
      return;  // the store is gone (rank 0 ended); collectives will say so if it matters
    }
    lock.lock();
    hb_cv_.wait_for(lock, options_.heartbeat, [&] { return hb_stop_; });
  }
}

void GlooGroup::report_failure(const std::string& what) {
  try {
    side_store_->set(key("failed", env_.rank), bytes(what));
  } catch (const std::exception&) {
  }
}

// Which rank made a collective fail: one that reported its own error, one whose heartbeat stopped (died
// or frozen), or one still at an earlier step (stuck outside collectives).
std::string GlooGroup::diagnose() {
  std::vector<std::string> blame;
  try {
    auto store = client(std::chrono::milliseconds(5'000));
    auto failures = [&] {
      for (int r = 0; r < env_.world_size; ++r) {
        if (r != env_.rank && store->check({key("failed", r)})) {
          blame.push_back(fmt::format("rank {} failed: {}", r, text(store->get(key("failed", r)))));
        }
      }
    };
    struct Beat {
      std::int64_t beat = -1, step = -1, collectives = -1;
    };
    auto beats = [&] {
      std::vector<Beat> out(static_cast<std::size_t>(env_.world_size));
      for (int r = 0; r < env_.world_size; ++r) {
        if (!store->check({key("heartbeat", r)})) continue;
        const std::string v = text(store->get(key("heartbeat", r)));
        Beat& b = out[static_cast<std::size_t>(r)];
        std::sscanf(v.c_str(), "%ld %ld %ld", &b.beat, &b.step, &b.collectives);
      }
      return out;
    };
    failures();
    if (blame.empty()) {
      const auto before = beats();
      const auto pause = options_.heartbeat * 5 / 2;
      std::this_thread::sleep_for(pause);
      failures();
      const auto after = beats();
      for (int r = 0; blame.empty() && r < env_.world_size; ++r) {
        if (r == env_.rank) continue;
        const auto i = static_cast<std::size_t>(r);
        if (after[i].beat == before[i].beat) {
          blame.push_back(fmt::format("rank {} stopped responding (no heartbeat for {}; last seen at step {}): its "
                                      "process died or is frozen, or the network to it is down",
                                      r, seconds(std::chrono::duration_cast<std::chrono::milliseconds>(pause)),
                                      after[i].step));
        }
      }
      // Alive but behind: it has not entered this collective (busy or stuck in its own work).
      const std::int64_t mine = collectives_.load();
      for (int r = 0; blame.empty() && r < env_.world_size; ++r) {
        const auto i = static_cast<std::size_t>(r);
        if (r != env_.rank && after[i].collectives >= 0 && after[i].collectives < mine) {
          blame.push_back(fmt::format("rank {} is still at step {}, {} collective{} behind this one (alive, but busy "
                                      "or stuck outside the collective)",
                                      r, after[i].step, mine - after[i].collectives,
                                      mine - after[i].collectives == 1 ? "" : "s"));
        }
      }
    }
  } catch (const std::exception&) {
    if (env_.agent_store) {
      blame.push_back(fmt::format("the torchrun agent's store at {}:{} is gone or not responding", env_.master_addr,
                                  env_.master_port));
    } else if (env_.rank != 0) {
      blame.push_back(fmt::format("rank 0 (which hosts the rendezvous store at {}:{}) is gone or not responding",
                                  env_.master_addr, env_.master_port));
    }
  }
  if (blame.empty()) return "no other rank reported an error or stopped its heartbeat";
  return fmt::format("{}", fmt::join(blame, "; "));
}

void GlooGroup::wait(const std::string& what, const std::vector<c10::intrusive_ptr<c10d::Work>>& work) {
  collectives_.fetch_add(1);
  try {
    for (const auto& w : work) w->wait();
  } catch (const std::exception& e) {
    const std::string culprit = diagnose();
    throw DistributedError(fmt::format("rank {} of {}, step {}: {} failed: {}\n  (Gloo: {})", env_.rank,
                                       env_.world_size, step_.load(), what, culprit, e.what()));
  }
}

void GlooGroup::all_reduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> t{tensor};
  wait("all-reduce", {pg_->allreduce(t)});
}

void GlooGroup::all_reduce_mean(const std::vector<at::Tensor>& tensors) {
  // Buckets of consecutive tensors of one dtype, flattened; all reduced concurrently, then copied back.
  struct Bucket {
    std::vector<at::Tensor> members;
    at::Tensor flat;
  };
  std::vector<Bucket> buckets;
  std::size_t bytes_in_bucket = 0;
  for (const auto& t : tensors) {
    const std::size_t n = static_cast<std::size_t>(t.numel()) * t.element_size();
    if (buckets.empty() || buckets.back().members.front().scalar_type() != t.scalar_type() ||
        bytes_in_bucket + n > options_.bucket_bytes) {
      buckets.emplace_back();
      bytes_in_bucket = 0;
    }
    buckets.back().members.push_back(t);
    bytes_in_bucket += n;
  }
  std::vector<c10::intrusive_ptr<c10d::Work>> work;
  for (auto& b : buckets) {
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : b.members) flat_parts.push_back(t.detach().reshape({-1}));
    b.flat = torch::cat(flat_parts);
    std::vector<at::Tensor> one{b.flat};
    work.push_back(pg_->allreduce(one));
  }
  wait(fmt::format("gradient all-reduce ({} bucket{})", buckets.size(), buckets.size() == 1 ? "" : "s"), work);
  torch::NoGradGuard no_grad;
  for (auto& b : buckets) {
    b.flat.div_(env_.world_size);
    std::int64_t offset = 0;
    for (auto& t : b.members) {
      t.copy_(b.flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

void GlooGroup::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  torch::NoGradGuard no_grad;
  std::vector<c10::intrusive_ptr<c10d::Work>> work;
  std::vector<at::Tensor> staged;
  for (const auto& t : tensors) {
    staged.push_back(t.detach().contiguous());
    std::vector<at::Tensor> one{staged.back()};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    work.push_back(pg_->broadcast(one, o));
  }
  wait("broadcast", work);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!staged[i].is_same(tensors[i])) tensors[i].detach().copy_(staged[i]);
  }
}

void GlooGroup::barrier() { wait("barrier", {pg_->barrier()}); }

at::Tensor GlooGroup::gather_raw(const at::Tensor& local) {
  const at::Tensor in = local.detach().contiguous();
  std::vector<at::Tensor> inputs{in};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < env_.world_size; ++r) outputs[0].push_back(torch::empty_like(in));
  wait("all-gather", {pg_->allgather(outputs, inputs)});
  return torch::cat(outputs[0]);
}

// all_gather with the gradient of the whole: backward sums each slice's gradient over the ranks.
struct GatherFunction : torch::autograd::Function<GatherFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, GlooGroup* group) {
    ctx->saved_data["group"] = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(group));
    ctx->saved_data["rows"] = local.size(0);
    return group->gather_raw(local);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<GlooGroup*>(static_cast<std::intptr_t>(ctx->saved_data["group"].toInt()));
    const std::int64_t rows = ctx->saved_data["rows"].toInt();
    at::Tensor total = grads[0].contiguous().clone();
    group->all_reduce_sum(total);
    return {total.narrow(0, group->rank() * rows, rows), at::Tensor()};
  }
};

at::Tensor GlooGroup::all_gather(const at::Tensor& local) { return GatherFunction::apply(local, this); }

class SingleGroup final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_mean(const std::vector<at::Tensor>&) override {}
  void all_reduce_sum(at::Tensor&) override {}
  void broadcast(const std::vector<at::Tensor>&, int) override {}
  at::Tensor all_gather(const at::Tensor& local) override { return local; }
  void barrier() override {}
  void set_step(std::int64_t) override {}
  void report_failure(const std::string&) override {}
};

}  // namespace

DistEnv DistEnv::from_environment() {
  DistEnv env;
  auto rank = env_var("RANK"), world = env_var("WORLD_SIZE"), local = env_var("LOCAL_RANK");
  const char* rank_name = "RANK";
  const char* world_name = "WORLD_SIZE";
  const char* local_name = "LOCAL_RANK";
  if (!rank && !world && env_var("SLURM_PROCID") && env_var("SLURM_NTASKS")) {
    rank = env_var("SLURM_PROCID");
    world = env_var("SLURM_NTASKS");
    local = env_var("SLURM_LOCALID");
    rank_name = "SLURM_PROCID";
    world_name = "SLURM_NTASKS";
    local_name = "SLURM_LOCALID";
  }
  if (!world) return env;
  env.world_size = env_int(world_name, *world);
  if (env.world_size < 1) throw ConfigError(fmt::format("{}={} must be at least 1", world_name, env.world_size));
  if (env.world_size == 1) return env;
  if (!rank) throw ConfigError(fmt::format("{}={} is set but RANK is not; set both (torchrun does)", world_name, *world));
  env.rank = env_int(rank_name, *rank);
  if (env.rank < 0 || env.rank >= env.world_size) {
    throw ConfigError(fmt::format("{}={} is outside 0..{} ({}={})", rank_name, env.rank, env.world_size - 1, world_name,
                                  env.world_size));
  }
  env.local_rank = local ? env_int(local_name, *local) : env.rank;
  if (auto addr = env_var("MASTER_ADDR")) {
    env.master_addr = *addr;
  } else if (std::string(world_name) == "SLURM_NTASKS") {
    throw ConfigError("running under Slurm with several tasks but MASTER_ADDR is not set: export MASTER_ADDR=$(scontrol "
                      "show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1) and MASTER_PORT before srun");
  }
  if (auto port = env_var("MASTER_PORT")) env.master_port = env_int("MASTER_PORT", *port);
  if (auto agent = env_var("TORCHELASTIC_USE_AGENT_STORE")) env.agent_store = *agent == "True" || *agent == "1";
  if (auto attempt = env_var("TORCHELASTIC_RESTART_COUNT")) env.store_prefix = fmt::format("sentbench/attempt_{}/", *attempt);
  if (env.master_port < 1 || env.master_port > 65535) {
    throw ConfigError(fmt::format("MASTER_PORT={} is not a TCP port (1..65535)", env.master_port));
  }
  return env;
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(fmt::format("cannot create a socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw Error(fmt::format("cannot find a free port on 127.0.0.1: {}", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::shared_ptr<ProcessGroup> single_process_group() { return std::make_shared<SingleGroup>(); }

std::shared_ptr<ProcessGroup> init_process_group(const DistEnv& env, const DistOptions& options) {
  if (env.world_size <= 1) return single_process_group();
  if (options.backend != "auto" && options.backend != "gloo") {
    throw ConfigError(fmt::format(
        "distributed backend '{}' is not available: this LibTorch ({}) has no CUDA, so no NCCL; use \"gloo\" or \"auto\"",
        options.backend, TORCH_VERSION));
  }
  return std::make_shared<GlooGroup>(env, options);
}

}  // namespace sentbench
