// Distributed training through the sentbench executable, with real processes over loopback Gloo:
// 2 ranks end K steps with the losses and parameters of 1 rank on the same global batch (plain and
// GradCache steps), rank 0 alone writes, resume refuses another world size unless allowed, and a rank
// that is killed or frozen makes the other fail within the timeout, naming it.
#include <signal.h>

#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "distributed_test_util.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/io.hpp"

namespace fs = std::filesystem;
using namespace sentbench::test;

namespace sentbench {
namespace {

TEST(DistributedCli, TwoRanksTrainLikeOneOnTheSameGlobalBatch) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  const auto one = run_cli("-q train " + recipe.string() + " -o " + (tmp / "one").string());
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = run_cli("train --nproc 2 " + recipe.string() + " -o " + (tmp / "two").string());
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_TRUE(has_substr(two.output, "starting 2 local ranks"));
  expect_same_training(tmp / "one", tmp / "two", 5);
  // Rank 0 alone wrote the run folder: one log line per step (checked in losses()), one model.
  EXPECT_TRUE(fs::exists(tmp / "two" / "model" / "config.json"));
  const auto run = nlohmann::json::parse(read_file(tmp / "two" / "run.json"));
  EXPECT_EQ(run.at("train").at("world_size").get<int>(), 2);
}

TEST(DistributedCli, GradCacheOnTwoRanksTrainsLikeOnePlainRank) {
  TempDir tmp;
  const fs::path plain = write_recipe(tmp);
  const auto one = run_cli("-q train " + plain.string() + " -o " + (tmp / "one").string());
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = run_cli("-q train --nproc 2 " + plain.string() + " --set train.mini_batch=3 -o " + (tmp / "two").string());
  ASSERT_EQ(two.exit_code, 0) << two.output;
  expect_same_training(tmp / "one", tmp / "two", 5);
}

TEST(DistributedCli, BatchThatDoesNotSplitIsAConfigError) {
  TempDir tmp;
  const auto r = run_cli("-q train --nproc 2 " + write_recipe(tmp).string() + " --set train.batch_size=7 -o " +
                         (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(has_substr(r.output, "must split evenly between the 2 ranks"));
}

TEST(DistributedCli, ResumeRefusesAnotherWorldSizeUnlessAllowed) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  const std::string out = " -o " + (tmp / "run").string();
  const auto first = run_cli("-q train " + recipe.string() + " --set train.steps=3" + out);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto refused = run_cli("-q train --nproc 2 --resume " + recipe.string() + out);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(has_substr(refused.output, "was written by 1 rank, this run has 2"));
  EXPECT_TRUE(has_substr(refused.output, "--allow-world-size-change"));
  const auto allowed = run_cli("train --nproc 2 --resume --allow-world-size-change " + recipe.string() + out);
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_TRUE(has_substr(allowed.output, "resumed from"));
  const auto l = losses(tmp / "run");
  EXPECT_EQ(l.size(), 5u);
}

// Resume at the same world size replays exactly: drop the last checkpoint of a 2-rank run and resume it
// on 2 ranks; the re-run step has the same loss and ends at the same parameters.
TEST(DistributedCli, ResumeOnTheSameRanksReplaysTheLostSteps) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp, "checkpoint_every = 2\n");
  const std::string args = recipe.string() + " --set train.keep_checkpoints=3 -o " + (tmp / "run").string();
  const auto straight = run_cli("-q train --nproc 2 " + args);
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const auto before = losses(tmp / "run");
  ASSERT_EQ(before.size(), 5u);
  fs::copy_file(final_params(tmp / "run", 5), tmp / "params-5.safetensors");
  fs::remove_all(final_params(tmp / "run", 5).parent_path());  // as if the run died during step 5
  const auto resumed = run_cli("train --nproc 2 --resume " + args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(has_substr(resumed.output, "(step 4)"));
  const auto after = losses(tmp / "run");
  ASSERT_EQ(after.size(), 5u);
  for (const auto& [step, loss] : before) EXPECT_NEAR(after.at(step), loss, 1e-6) << "step " << step;
  EXPECT_LE(max_param_diff(tmp / "params-5.safetensors", final_params(tmp / "run", 5)), 1e-6);
}

// --- failures: two ranks started the torchrun way (environment variables), one of them then killed ----

// Two ranks on a long run; once rank 0 has logged 2 steps, `fault` is sent to rank 1. Returns rank 0's
// exit code, its output and how long it took to exit after the fault.
struct FaultResult {
  int exit_code = -1;
  std::string output;
  std::chrono::steady_clock::duration took{};
};
FaultResult fault_rank_1(int fault_signal, double timeout_s) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp, "", "dist_timeout = " + std::to_string(timeout_s) + "\n");
  const int port = free_local_port();
  const std::vector<std::string> args = {"train", recipe.string(), "--set", "train.steps=100000", "-o",
                                         (tmp / "run").string()};
  const pid_t r0 = start_rank(0, 2, port, args, tmp / "rank0.log");
  const pid_t r1 = start_rank(1, 2, port, args, tmp / "rank1.log");
  FaultResult result;
  EXPECT_TRUE(wait_for_logged_steps(tmp / "run", 2, std::chrono::seconds(120)))
      << "rank 0 never logged 2 steps:\n" << read_file(tmp / "rank0.log");
  ::kill(r1, fault_signal);
  result.exit_code = wait_exit(r0, std::chrono::seconds(static_cast<int>(timeout_s) + 60), &result.took);
  if (result.exit_code == -1) ::kill(r0, SIGKILL), wait_exit(r0, std::chrono::seconds(10));
  ::kill(r1, SIGKILL);
  wait_exit(r1, std::chrono::seconds(10));
  result.output = read_file(tmp / "rank0.log");
  return result;
}

TEST(DistributedCli, KilledRankMakesTheOtherFailNamingIt) {
  const FaultResult r = fault_rank_1(SIGKILL, 30.0);
  ASSERT_NE(r.exit_code, -1) << "rank 0 hung after rank 1 was killed:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "rank 1 stopped responding")) << r.output;
  // A dead peer closes its sockets: no need to wait for the 30 s timeout.
  EXPECT_LT(r.took, std::chrono::seconds(25));
}

TEST(DistributedCli, FrozenRankMakesTheOtherFailWithinTheTimeout) {
  const FaultResult r = fault_rank_1(SIGSTOP, 4.0);
  ASSERT_NE(r.exit_code, -1) << "rank 0 hung after rank 1 froze:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "rank 1 stopped responding")) << r.output;
  EXPECT_LT(r.took, std::chrono::seconds(4 + 20));
}

}  // namespace
}  // namespace sentbench
