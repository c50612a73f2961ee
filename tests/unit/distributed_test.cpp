// The c10d process group with real Gloo ranks over loopback, run as threads of this test: the environment
// contract (torchrun / Slurm variables), bucketed all-reduce, broadcast, the gradient-correct all-gather
// (the distributed MNRL loss gives the one-process gradients), and failures that name the rank at fault.

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "losses.hpp"
#include "rank_threads.hpp"
#include "sentbench/distributed.hpp"
#include "test_util.hpp"

namespace sentbench {
namespace {

using sentbench::test::has_substr;
using sentbench::test::quick;
using sentbench::test::run_ranks;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
                             "SLURM_NTASKS", "SLURM_LOCALID", "TORCHELASTIC_USE_AGENT_STORE",
                             "TORCHELASTIC_RESTART_COUNT"}) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      ::unsetenv(name);
    }
    for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
    set_ = std::move(vars);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : set_) ::unsetenv(k.c_str());
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_, set_;
};

TEST(DistEnv, NothingSetIsOneProcess) {
  ScopedEnv env(std::vector<std::pair<std::string, std::string>>{});
  const DistEnv d = DistEnv::from_environment();
  EXPECT_EQ(d.world_size, 1);
  EXPECT_EQ(d.rank, 0);
}

TEST(DistEnv, ReadsTorchrunVariables) {
  ScopedEnv env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29611"}});
  const DistEnv d = DistEnv::from_environment();
  EXPECT_EQ(d.rank, 3);
  EXPECT_EQ(d.world_size, 4);
  EXPECT_EQ(d.local_rank, 1);
  EXPECT_EQ(d.master_addr, "node7");
  EXPECT_EQ(d.master_port, 29611);
}

TEST(DistEnv, SlurmStandsInForTorchrun) {
  ScopedEnv env({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}, {"MASTER_ADDR", "n1"}});
  const DistEnv d = DistEnv::from_environment();
  EXPECT_EQ(d.rank, 1);
  EXPECT_EQ(d.world_size, 2);
  EXPECT_EQ(d.master_port, 29500);
}

TEST(DistEnv, TorchrunAgentStoreAndRestartAttempt) {
  ScopedEnv env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                 {"TORCHELASTIC_RESTART_COUNT", "2"}});
  const DistEnv d = DistEnv::from_environment();
  EXPECT_TRUE(d.agent_store);
  EXPECT_EQ(d.store_prefix, "sentbench/attempt_2/");
}

TEST(DistEnv, BadValuesNameTheVariable) {
  {
    ScopedEnv env({{"RANK", "two"}, {"WORLD_SIZE", "2"}});
    EXPECT_TRUE(has_substr(test::error_of<ConfigError>([] { DistEnv::from_environment(); }), "RANK='two'"));
  }
  {
    ScopedEnv env({{"RANK", "2"}, {"WORLD_SIZE", "2"}});
    EXPECT_TRUE(has_substr(test::error_of<ConfigError>([] { DistEnv::from_environment(); }), "outside 0..1"));
  }
  {
    ScopedEnv env({{"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}});
    EXPECT_TRUE(has_substr(test::error_of<ConfigError>([] { DistEnv::from_environment(); }), "RANK is not"));
  }
  {
    ScopedEnv env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}});
    EXPECT_TRUE(has_substr(test::error_of<ConfigError>([] { DistEnv::from_environment(); }), "MASTER_ADDR"));
  }
  {
    ScopedEnv env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}});
    EXPECT_TRUE(has_substr(test::error_of<ConfigError>([] { DistEnv::from_environment(); }), "MASTER_PORT=70000"));
  }
}

TEST(ProcessGroup, SingleGroupIsANoOp) {
  auto g = single_process_group();
  EXPECT_FALSE(g->distributed());
  at::Tensor t = torch::ones({3});
  g->all_reduce_mean({t});
  EXPECT_TRUE(g->all_gather(t).equal(t));
  EXPECT_EQ(t.sum().item<double>(), 3.0);
}

TEST(ProcessGroup, BucketedAllReduceAveragesEveryTensor) {
  DistOptions o = quick();
  o.bucket_bytes = 64;  // forces many buckets, and tensors larger than a bucket
  const auto errors = run_ranks(3, o, [](int rank, ProcessGroup& g) {
    std::vector<at::Tensor> ts = {torch::full({5}, rank, torch::kFloat32), torch::full({40}, 10.0 * rank),
                                  torch::full({2, 3}, rank * 2.0, torch::kFloat64), torch::full({1}, 1.0 + rank)};
    g.all_reduce_mean(ts);
    EXPECT_TRUE(ts[0].allclose(torch::full({5}, 1.0)));
    EXPECT_TRUE(ts[1].allclose(torch::full({40}, 10.0)));
    EXPECT_TRUE(ts[2].allclose(torch::full({2, 3}, 2.0, torch::kFloat64)));
    EXPECT_EQ(ts[2].scalar_type(), torch::kFloat64);
    EXPECT_TRUE(ts[3].allclose(torch::full({1}, 2.0)));
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
}

TEST(ProcessGroup, BroadcastCopiesRootTensors) {
  const auto errors = run_ranks(2, quick(), [](int rank, ProcessGroup& g) {
    at::Tensor w = torch::full({4, 4}, rank + 1.0).requires_grad_(true);  // like a parameter
    g.broadcast({w}, 0);
    EXPECT_TRUE(w.allclose(torch::full({4, 4}, 1.0)));
    EXPECT_TRUE(w.requires_grad());
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
}

// The heart of the distributed loss: each rank holds half of a batch's embeddings; its loss is MNRL of
// its anchors against the gathered candidates. After averaging, the gradient of each rank's rows equals
// the one-process gradient of the whole batch, and the mean loss equals the whole batch's loss.
TEST(ProcessGroup, GatheredMnrlGivesTheOneProcessLossAndGradients) {
  torch::manual_seed(5);
  const int world = 2, rows = 4, dim = 6;
  const at::Tensor anchors = torch::randn({world * rows, dim});
  const at::Tensor positives = torch::randn({world * rows, dim});
  const at::Tensor negatives = torch::randn({world * rows, dim});
  at::Tensor a = anchors.clone().requires_grad_(true), p = positives.clone().requires_grad_(true),
             n = negatives.clone().requires_grad_(true);
  const at::Tensor whole = contrastive::mnrl_loss(a, torch::cat({p, n}), 20.0, true);
  whole.backward();

  std::vector<double> losses(world);
  std::vector<std::array<at::Tensor, 3>> grads(world);
  const auto errors = run_ranks(world, quick(), [&](int rank, ProcessGroup& g) {
    auto mine = [&](const at::Tensor& t) { return t.narrow(0, rank * rows, rows).clone().requires_grad_(true); };
    at::Tensor la = mine(anchors), lp = mine(positives), ln = mine(negatives);
    const at::Tensor candidates = torch::cat({g.all_gather(lp), g.all_gather(ln)});
    const at::Tensor loss =
        contrastive::mnrl_loss(la, candidates, 20.0, true, rank * rows, g.all_gather(la));
    loss.backward();
    std::vector<at::Tensor> gs = {la.grad(), lp.grad(), ln.grad()};
    // Each rank's rows are only its own, so "averaging" is the division a DDP all-reduce would do.
    for (auto& t : gs) t.div_(world);
    at::Tensor value = loss.detach().clone();
    g.all_reduce_sum(value);
    losses[static_cast<std::size_t>(rank)] = value.item<double>() / world;
    grads[static_cast<std::size_t>(rank)] = {gs[0], gs[1], gs[2]};
  });
  for (const auto& e : errors) ASSERT_EQ(e, "");
  for (int r = 0; r < world; ++r) {
    EXPECT_NEAR(losses[static_cast<std::size_t>(r)], whole.item<double>(), 1e-6);
    const auto& g = grads[static_cast<std::size_t>(r)];
    EXPECT_LE((g[0] - a.grad().narrow(0, r * rows, rows)).abs().max().item<double>(), 1e-6) << "anchors, rank " << r;
    EXPECT_LE((g[1] - p.grad().narrow(0, r * rows, rows)).abs().max().item<double>(), 1e-6) << "positives, rank " << r;
    EXPECT_LE((g[2] - n.grad().narrow(0, r * rows, rows)).abs().max().item<double>(), 1e-6) << "negatives, rank " << r;
  }
}

// Under torchrun the agent already serves the store at MASTER_PORT: rank 0 must join it, not open it.
TEST(ProcessGroup, RanksJoinTorchrunsAgentStoreAsClients) {
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  c10d::TCPStore agent("127.0.0.1", so);
  const auto errors = run_ranks(
      2, quick(),
      [](int rank, ProcessGroup& g) {
        at::Tensor t = torch::full({2}, rank + 1.0);
        g.all_reduce_sum(t);
        EXPECT_TRUE(t.allclose(torch::full({2}, 3.0)));
      },
      [](DistEnv& env) {
        env.agent_store = true;
        env.store_prefix = "sentbench/attempt_0/";
      },
      agent.getPort());
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_TRUE(agent.check({"sentbench/attempt_0/joined/1"}));
}

TEST(ProcessGroup, MissingRankFailsTheRendezvousNamingIt) {
  DistEnv env;
  env.rank = 0;
  env.world_size = 3;
  env.master_port = free_local_port();
  const auto start = std::chrono::steady_clock::now();
  DistOptions options = quick();
  options.join_timeout = std::chrono::milliseconds(1000);
  const std::string message = test::error_of<DistributedError>([&] { init_process_group(env, options); });
  EXPECT_TRUE(has_substr(message, "ranks 1, 2 did not join within 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ProcessGroup, ARankThatFailsIsNamedWithItsReason) {
  const auto errors = run_ranks(2, quick(), [](int rank, ProcessGroup& g) {
    g.set_step(3);
    if (rank == 1) {
      g.report_failure("data file pairs.jsonl: line 7 is not JSON");
      return;  // leaves: its group closes its connections
    }
    at::Tensor t = torch::ones({4});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    g.all_reduce_sum(t);
  });
  EXPECT_EQ(errors[1], "");
  EXPECT_TRUE(has_substr(errors[0], "rank 0 of 2, step 3: all-reduce failed: rank 1 failed: data file pairs.jsonl"));
}

TEST(ProcessGroup, AHungRankFailsTheOthersWithinTheTimeoutNamingIt) {
  std::chrono::steady_clock::duration waited{};
  const auto errors = run_ranks(2, quick(2.0), [&](int rank, ProcessGroup& g) {
    if (rank == 1) {
      g.set_step(4);
      std::this_thread::sleep_for(std::chrono::seconds(6));  // stuck outside the collective, heartbeat alive
      return;
    }
    g.set_step(5);
    const auto start = std::chrono::steady_clock::now();
    at::Tensor t = torch::ones({4});
    try {
      g.all_reduce_sum(t);
    } catch (...) {
      waited = std::chrono::steady_clock::now() - start;
      throw;
    }
  });
  EXPECT_TRUE(has_substr(errors[0], "rank 1 is still at step 4")) << errors[0];
  EXPECT_GE(waited, std::chrono::milliseconds(1900));
  EXPECT_LT(waited, std::chrono::seconds(6));  // the 2 s timeout plus the diagnosis, not the 6 s hang
}

// A rank that never reaches a collective at the same step (stuck before it, e.g. reading data) is named by
// the collectives it has entered.
TEST(ProcessGroup, ARankStuckBeforeTheFirstCollectiveIsNamed) {
  const auto errors = run_ranks(2, quick(1.5), [&](int rank, ProcessGroup& g) {
    if (rank == 1) {
      std::this_thread::sleep_for(std::chrono::seconds(4));
      return;
    }
    at::Tensor t = torch::ones({4});
    g.all_reduce_sum(t);
  });
  EXPECT_TRUE(has_substr(errors[0], "rank 1 is still at step 0, 1 collective behind this one")) << errors[0];
}

}  // namespace
}  // namespace sentbench
