// Run folders that cannot be mixed up, and signals honoured by the whole command (issue 13): a fresh run
// refuses a folder holding another run's checkpoints (--overwrite moves them aside), --resume refuses
// changed training settings (--force-resume accepts them), a second process on a locked folder is told
// who holds it, and Ctrl-C / SIGTERM stop training with a checkpoint and evaluation at a task boundary,
// keeping the finished tasks, with exit codes 130 / 143.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "distributed_test_util.hpp"
#include "run_folder.hpp"
#include "sentbench/io.hpp"

namespace fs = std::filesystem;
using namespace sentbench::test;

namespace sentbench {
namespace {

std::vector<std::string> checkpoint_names(const fs::path& run) {
  std::vector<std::string> out;
  if (!fs::exists(run / "checkpoints")) return out;
  for (const auto& e : fs::directory_iterator(run / "checkpoints")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RunFolderCli, FreshRunRefusesAnotherRunsCheckpointsAndOverwriteMovesThemAside) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  const std::string out = " -o " + (tmp / "run").string();
  const auto first = run_cli("-q train " + recipe.string() + " --set train.lr=2e-3 --set train.steps=3" + out);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_EQ(checkpoint_names(tmp / "run"), std::vector<std::string>{"step-00000003"});

  // Before: the new run started, and pruning deleted its own checkpoints or the old run's at random.
  const auto refused = run_cli("-q train " + recipe.string() + out);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(has_substr(refused.output, "holds 1 checkpoint"));
  EXPECT_TRUE(has_substr(refused.output, "--overwrite"));
  EXPECT_TRUE(has_substr(refused.output, "--resume"));
  EXPECT_EQ(checkpoint_names(tmp / "run"), std::vector<std::string>{"step-00000003"}) << "nothing touched";

  // --resume with other settings (lr) is refused, naming the key; the old run is still intact.
  const auto changed = run_cli("-q train --resume " + recipe.string() + out);
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  EXPECT_TRUE(has_substr(changed.output, "train.lr: 0.002 → 0.001"));
  EXPECT_TRUE(has_substr(changed.output, "--force-resume"));

  const auto overwritten = run_cli("train --overwrite " + recipe.string() + out);
  ASSERT_EQ(overwritten.exit_code, 0) << overwritten.output;
  EXPECT_TRUE(has_substr(overwritten.output, "superseded-"));
  EXPECT_EQ(checkpoint_names(tmp / "run"), std::vector<std::string>{"step-00000005"});
  int superseded = 0;
  for (const auto& e : fs::directory_iterator(tmp / "run")) {
    if (e.path().filename().string().rfind("superseded-", 0) != 0) continue;
    ++superseded;
    EXPECT_TRUE(fs::exists(e.path() / "checkpoints" / "step-00000003" / "manifest.json"));
  }
  EXPECT_EQ(superseded, 1);
  EXPECT_EQ(losses(tmp / "run").size(), 5u) << "the new run's log only";
}

TEST(RunFolderCli, ResumeAcceptsLongerTrainingAndForcedChanges) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  const std::string out = " -o " + (tmp / "run").string();
  ASSERT_EQ(run_cli("-q train " + recipe.string() + " --set train.steps=3" + out).exit_code, 0);
  const std::string id = recorded_run_id(tmp / "run");
  ASSERT_FALSE(id.empty());
  // More steps is the same run continued.
  const auto longer = run_cli("train --resume " + recipe.string() + " --set train.steps=4" + out);
  ASSERT_EQ(longer.exit_code, 0) << longer.output;
  EXPECT_TRUE(has_substr(longer.output, "resumed from"));
  EXPECT_EQ(recorded_run_id(tmp / "run"), id);
  const auto forced = run_cli("train --resume --force-resume " + recipe.string() + " --set train.lr=5e-4" + out);
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(has_substr(forced.output, "train.lr: 0.001 → 0.0005"));
  EXPECT_EQ(losses(tmp / "run").size(), 5u);
  EXPECT_EQ(run_cli("train --force-resume " + recipe.string() + out).exit_code, 2) << "--force-resume needs --resume";
}

TEST(RunFolderCli, SecondProcessOnALockedFolderIsToldWhoHoldsIt) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  // This test process holds the folder as a running `train` would.
  RunFolder held = RunFolder::open(tmp / "run", Config::load(recipe), RunFolderOptions{});
  const auto second = run_cli("-q train " + recipe.string() + " -o " + (tmp / "run").string());
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_TRUE(has_substr(second.output, "is in use by another sentbench"));
  EXPECT_TRUE(has_substr(second.output, "pid " + std::to_string(::getpid())));
  EXPECT_FALSE(fs::exists(tmp / "run" / "train_log.jsonl")) << "the second process wrote nothing";
}

// Starts `sentbench args...` alone (world size 1) with its output in `log`.
pid_t start_cli(const std::vector<std::string>& args, const fs::path& log) {
  RankLaunch launch;
  launch.world = 1;
  return start_rank(launch, args, log);
}

bool wait_for_text(const fs::path& file, const std::string& text, std::chrono::seconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (fs::exists(file) && read_file(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(RunFolderCli, SigtermDuringTrainingCheckpointsAndExits143) {
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp);
  RankProcesses procs;
  const pid_t pid = start_cli({"train", recipe.string(), "--set", "train.steps=100000", "-o", (tmp / "run").string()},
                              tmp / "log.txt");
  procs.add(pid);
  ASSERT_TRUE(wait_for_logged_steps(tmp / "run", 2, std::chrono::seconds(120))) << read_file(tmp / "log.txt");
  ::kill(pid, SIGTERM);
  const auto codes = procs.wait_all(std::chrono::seconds(60));
  EXPECT_EQ(codes[0], 143) << read_file(tmp / "log.txt");
  EXPECT_TRUE(has_substr(read_file(tmp / "log.txt"), "continue with --resume"));
  EXPECT_EQ(checkpoint_names(tmp / "run").size(), 1u) << "the stop wrote a checkpoint";
}

// An STS file large enough that encoding it takes a while on the tiny model.
fs::path write_sts(const fs::path& dir) {
  const fs::path file = dir / "sts.tsv";
  std::ofstream out(file);
  out << "sentence1\tsentence2\tscore\n";
  for (int i = 0; i < 3000; ++i) {
    out << "package number " << i << " installs a library for parsing documents and network traffic " << i % 17
        << "\tthe tool " << i * 7 << " reads files and writes reports about packages " << i % 13 << '\t' << i % 6
        << '\n';
  }
  return file;
}

// An evaluation recipe of three STS tasks on a model big enough that each task takes seconds.
fs::path write_eval_recipe(const TempDir& tmp) {
  const fs::path sts = write_sts(tmp.path());
  const fs::path recipe = write_recipe(tmp);
  std::ofstream out(recipe, std::ios::app);
  for (const char* name : {"first", "second", "third"}) {
    out << "[[eval]]\ntype = 'sts'\nname = '" << name << "'\npath = '" << sts.string()
        << "'\nformat = 'tsv'\nbaselines = []\n";
  }
  return recipe;
}

// Starts `sentbench eval` on write_eval_recipe's tasks (a model big enough that each takes seconds) and
// waits until the first task has started; its pid, or -1.
pid_t start_eval_in_first_task(const TempDir& tmp, RankProcesses& procs) {
  const fs::path recipe = write_eval_recipe(tmp);
  const pid_t pid = start_cli({"eval", recipe.string(), "--no-cache", "--set", "encoder.init.hidden=256", "--set",
                               "encoder.init.ffn=1024", "--set", "encoder.init.layers=4", "--set",
                               "encoder.init.heads=4", "-o", (tmp / "run").string()},
                              tmp / "log.txt");
  procs.add(pid);
  if (!wait_for_text(tmp / "log.txt", "task first", std::chrono::seconds(120))) {
    ADD_FAILURE() << read_file(tmp / "log.txt");
    return -1;
  }
  return pid;
}

TEST(RunFolderCli, CtrlCDuringEvaluationKeepsFinishedTasksAndExits130) {
  TempDir tmp;
  RankProcesses procs;
  // Before: `sentbench run` ignored the signal after training, evaluated everything and exited 0.
  const pid_t pid = start_eval_in_first_task(tmp, procs);
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGINT);
  const auto codes = procs.wait_all(std::chrono::seconds(120));
  const std::string log = read_file(tmp / "log.txt");
  EXPECT_EQ(codes[0], 130) << log;
  ASSERT_TRUE(fs::exists(tmp / "run" / "results.json")) << log;
  const auto results = nlohmann::json::parse(read_file(tmp / "run" / "results.json"));
  ASSERT_EQ(results.at("tasks").size(), 3u);
  // The task running when the signal came finished and is kept; the ones after it were not started.
  EXPECT_TRUE(results["tasks"][0].contains("model")) << results.dump(1);
  EXPECT_TRUE(has_substr(results["tasks"][2].value("skipped", ""), "interrupted")) << results.dump(1);
  EXPECT_TRUE(has_substr(log, "sentbench report"));
}

TEST(RunFolderCli, SecondCtrlCExitsAtOnce) {
  TempDir tmp;
  RankProcesses procs;
  const pid_t pid = start_eval_in_first_task(tmp, procs);
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGINT);
  ASSERT_TRUE(wait_for_text(tmp / "log.txt", "stopping at the next safe point", std::chrono::seconds(10)));
  ::kill(pid, SIGINT);
  std::vector<std::chrono::steady_clock::duration> took;
  const auto codes = procs.wait_all(std::chrono::seconds(30), &took);
  EXPECT_EQ(codes[0], 130);
  EXPECT_LT(took[0], std::chrono::seconds(2)) << "did not wait for the task to end";
  EXPECT_TRUE(has_substr(read_file(tmp / "log.txt"), "second signal, exiting now"));
  EXPECT_FALSE(fs::exists(tmp / "run" / "results.json"));
}

}  // namespace
}  // namespace sentbench
