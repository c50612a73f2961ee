// RunFolder (harness/src/run_folder.hpp): the lock, stale temporaries, the identity rules, and the list
// of changed training settings.
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "run_folder.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::error_of;
using sentbench::test::has_substr;
using sentbench::test::TempDir;

namespace sentbench {
namespace {

Config recipe(const std::string& lr = "1e-3") {
  return Config::parse("[run]\nseed = 3\n[encoder]\nplugin = 'hashing'\n[train]\nplugin = 'contrastive'\nlr = " + lr +
                       "\nsteps = 10\n");
}

RunFolderOptions training(bool resume = false) {
  RunFolderOptions o;
  o.trains = true;
  o.resume = resume;
  return o;
}

TEST(RunFolder, StaleTemporariesOfAKilledRunAreRemovedAtStart) {
  TempDir tmp;
  const fs::path run = tmp / "run";
  fs::create_directories(run / "checkpoints" / ".step-00000005.tmp-123-abc" / "model");
  std::ofstream(run / "checkpoints" / ".step-00000005.tmp-123-abc" / "params.safetensors") << "half written";
  std::ofstream(run / ".run.json.tmp-99-f00") << "{";
  fs::create_directories(run / "checkpoints" / "step-00000004");  // a finished checkpoint stays
  {
    RunFolder f = RunFolder::open(run, recipe(), RunFolderOptions{});
  }
  EXPECT_FALSE(fs::exists(run / "checkpoints" / ".step-00000005.tmp-123-abc"));
  EXPECT_FALSE(fs::exists(run / ".run.json.tmp-99-f00"));
  EXPECT_TRUE(fs::exists(run / "checkpoints" / "step-00000004"));
}

TEST(RunFolder, TheLockIsExclusiveAndNamesItsHolder) {
  TempDir tmp;
  {
    RunFolder first = RunFolder::open(tmp / "run", recipe(), RunFolderOptions{});
    const std::string message = error_of<ConfigError>([&] { RunFolder::open(tmp / "run", recipe(), RunFolderOptions{}); });
    EXPECT_TRUE(has_substr(message, "in use by another sentbench"));
    EXPECT_TRUE(has_substr(message, "pid " + std::to_string(::getpid())));
  }
  // Released with the first holder.
  EXPECT_NO_THROW(RunFolder::open(tmp / "run", recipe(), RunFolderOptions{}));
}

TEST(RunFolder, IdentityIsKeptOnResumeAndChangedSettingsAreListed) {
  log::set_level(log::Level::kError);
  TempDir tmp;
  const fs::path run = tmp / "run";
  std::string id;
  {
    RunFolder f = RunFolder::open(run, recipe(), training());
    id = f.run_id();
  }
  ASSERT_FALSE(id.empty());
  fs::create_directories(run / "checkpoints" / "step-00000002");
  // A fresh run over it is refused; resuming with the same settings keeps the id.
  EXPECT_THROW(RunFolder::open(run, recipe(), training()), ConfigError);
  EXPECT_EQ(RunFolder::open(run, recipe(), training(true)).run_id(), id);
  const std::string message = error_of<ConfigError>([&] { RunFolder::open(run, recipe("2e-3"), training(true)); });
  EXPECT_TRUE(has_substr(message, "train.lr: 0.001 → 0.002"));
  RunFolderOptions forced = training(true);
  forced.force_resume = true;
  EXPECT_EQ(RunFolder::open(run, recipe("2e-3"), forced).run_id(), id);
  // --overwrite starts a new run with a new id, the old files moved aside.
  RunFolderOptions overwrite = training();
  overwrite.overwrite = true;
  const std::string fresh = RunFolder::open(run, recipe(), overwrite).run_id();
  EXPECT_NE(fresh, id);
  EXPECT_FALSE(fs::exists(run / "checkpoints"));
  log::set_level(log::Level::kInfo);
}

TEST(RunFolder, SettingsDifferencesNameDottedKeys) {
  const auto diff = settings_differences(R"({"train":{"lr":0.001,"scale":20},"seed":3})",
                                         R"({"train":{"lr":0.002,"symmetric":true},"seed":3})");
  ASSERT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff[0], "train.lr: 0.001 → 0.002");
  EXPECT_EQ(diff[1], "train.scale: 20 → (not set)");
  EXPECT_EQ(diff[2], "train.symmetric: (not set) → true");
  // What a resumed run may change is not part of the identity.
  EXPECT_EQ(training_settings_json(recipe()), training_settings_json(Config::parse(
      "[run]\nseed = 3\n[encoder]\nplugin = 'hashing'\n[train]\nplugin = 'contrastive'\nlr = 1e-3\nsteps = 99\n")));
}

Config staged(const std::string& second_lr = "1e-3", const std::string& extra = "") {
  return Config::parse("[run]\nseed = 3\n[encoder]\nplugin = 'hashing'\n[[stage]]\nplugin = 'mlm'\nlr = 5e-4\n"
                       "steps = 10\n[[stage]]\nplugin = 'contrastive'\nlr = " + second_lr + "\nsteps = 10\n" + extra);
}

// A staged recipe's identity covers every stage; what a resumed run may change (steps, checkpoints, the
// evaluation during training) is left out of it, as for [train].
TEST(RunFolder, StagedRecipesAreIdentifiedByEveryStagesSettings) {
  EXPECT_EQ(training_settings_json(staged()),
            training_settings_json(staged("1e-3", "eval_every = 5\neval_tasks = ['a']\neval_max_items = 0\n")));
  EXPECT_NE(training_settings_json(staged()), training_settings_json(staged("2e-3")));
  const auto diff = settings_differences(training_settings_json(staged()), training_settings_json(staged("2e-3")));
  EXPECT_EQ(diff, std::vector<std::string>{"stage[1].lr: 0.001 → 0.002"});
  // [train] recipes keep the identity they had before stages existed, evaluation keys aside.
  EXPECT_EQ(training_settings_json(recipe()),
            training_settings_json(Config::parse("[run]\nseed = 3\n[encoder]\nplugin = 'hashing'\n[train]\nplugin = "
                                                 "'contrastive'\nlr = 1e-3\nsteps = 10\neval_every = 100\n")));
  EXPECT_EQ(training_settings_json(recipe()),
            R"({"encoder":{"plugin":"hashing"},"seed":3,"train":{"lr":0.001,"plugin":"contrastive"}})");
}

TEST(RunFolder, StagesCheckpointsBelongToTheRunAndMoveAsideWithIt) {
  log::set_level(log::Level::kError);
  TempDir tmp;
  const fs::path run = tmp / "run";
  { RunFolder f = RunFolder::open(run, staged(), training()); }
  fs::create_directories(run / "stages" / "2-contrastive" / "checkpoints" / "step-00000003");
  fs::create_directories(run / "stages" / "2-contrastive" / "checkpoints" / ".step-00000004.tmp-1-a");
  const std::string message = error_of<ConfigError>([&] { RunFolder::open(run, staged(), training()); });
  EXPECT_TRUE(has_substr(message, "holds 1 checkpoint"));
  EXPECT_TRUE(has_substr(message, "stages/2-contrastive/checkpoints/step-00000003"));
  EXPECT_FALSE(fs::exists(run / "stages" / "2-contrastive" / "checkpoints" / ".step-00000004.tmp-1-a"))
      << "a stage's half-written checkpoint is removed too";
  RunFolderOptions overwrite = training();
  overwrite.overwrite = true;
  { RunFolder f = RunFolder::open(run, staged(), overwrite); }
  EXPECT_FALSE(fs::exists(run / "stages"));
  bool moved = false;
  for (const auto& e : fs::directory_iterator(run)) {
    moved |= fs::exists(e.path() / "stages" / "2-contrastive" / "checkpoints" / "step-00000003");
  }
  EXPECT_TRUE(moved);
  log::set_level(log::Level::kInfo);
}

}  // namespace
}  // namespace sentbench
