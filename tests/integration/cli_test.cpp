// The sentbench executable end to end: help, exit codes, validate messages, plugins, a whole run.
#include <filesystem>

#include <gtest/gtest.h>

#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::run_cli;
using sentbench::test::TempDir;

namespace {

const std::string kRecipes = std::string(SENTBENCH_SOURCE_DIR) + "/tests/fixtures/recipes/";

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(Cli, HelpListsEverySubcommand) {
  const auto r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* cmd : {"run", "train", "eval", "validate", "plugins", "version"}) {
    EXPECT_TRUE(contains(r.output, cmd)) << cmd << " missing from:\n" << r.output;
  }
  const auto sub = run_cli("validate --help");
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_TRUE(contains(sub.output, "--set")) << sub.output;
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("frobnicate").exit_code, 2);
  EXPECT_EQ(run_cli("validate /no/such/recipe.toml").exit_code, 2);
}

// The commit in `version` (and in every report) is taken at build time: it once came from CMake's configure
// step, so a build tree rebuilt after new commits kept reporting the commit it was configured at.
TEST(Cli, VersionNamesTheCommitTheBinaryWasBuiltFrom) {
  const auto head = sentbench::test::run_command("git -C " + std::string(SENTBENCH_SOURCE_DIR) +
                                                 " rev-parse --short=12 HEAD");
  if (head.exit_code != 0) GTEST_SKIP() << "the source tree is not a git checkout: " << head.output;
  const std::string commit = head.output.substr(0, 12);
  const auto r = run_cli("version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // "-dirty" follows when tracked files differ from the commit.
  EXPECT_TRUE(contains(r.output, "(commit " + commit + ")") || contains(r.output, "(commit " + commit + "-dirty)"))
      << "HEAD is " << commit << "; rebuild after committing. Output:\n" << r.output;
}

TEST(Cli, ValidateGoodRecipePrintsResolvedRecipe) {
  const auto r = run_cli("validate " + kRecipes + "cli_good.toml --set encoder.dim=128");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "dim = 128")) << r.output;
  EXPECT_TRUE(contains(r.output, "hashing")) << r.output;
}

TEST(Cli, ValidateNamesFileLineKeySuggestionAndType) {
  const auto r = run_cli("validate " + kRecipes + "cli_misspelled.toml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "cli_misspelled.toml:4:")) << r.output;   // seeed is on line 4
  EXPECT_TRUE(contains(r.output, "seeed")) << r.output;
  EXPECT_TRUE(contains(r.output, "did you mean 'run.seed'")) << r.output;
  EXPECT_TRUE(contains(r.output, "cli_misspelled.toml:5:")) << r.output;   // threads = "two"
  EXPECT_TRUE(contains(r.output, "integer")) << r.output;
}

TEST(Cli, PluginsListsTheExample) {
  const auto r = run_cli("plugins");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "hashing")) << r.output;
  EXPECT_TRUE(contains(r.output, "encoder")) << r.output;
}

TEST(Cli, RunWritesResolvedRecipeAndSummary) {
  TempDir tmp;
  const auto r = run_cli("run " + kRecipes + "cli_good.toml -o " + tmp.path().string() + " --set run.seed=11");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(fs::exists(tmp / "run.json")) << r.output;
  const std::string recipe = sentbench::read_file(tmp / "recipe.toml");
  EXPECT_TRUE(contains(recipe, "seed = 11")) << recipe;
  const std::string summary = sentbench::read_file(tmp / "run.json");
  EXPECT_TRUE(contains(summary, "\"dim\": 64")) << summary;
  EXPECT_TRUE(contains(summary, "paraphrase_cosine")) << summary;
}

TEST(Cli, UnknownPluginIsARecipeError) {
  TempDir tmp;
  const auto r = run_cli("validate " + kRecipes + "cli_good.toml --set encoder.plugin=hasing");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "hasing")) << r.output;
  EXPECT_TRUE(contains(r.output, "hashing")) << r.output;  // suggestion or list of known plugins
}

}  // namespace

namespace {

// The reference 1B-pairs recipe validates and dry-runs with the tiny masked-LM checkpoint standing in
// for roberta-large (and without the 1B pairs, whose absence the dry run reports).
TEST(Cli, ReferenceRecipeValidatesAndDryRuns) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta-mlm/model.safetensors");
  const std::string recipe = std::string(SENTBENCH_SOURCE_DIR) + "/configs/roberta-large-1b.toml";
  const std::string model = " --set encoder.model=\"" + (sentbench::test::shared_data() / "tiny-roberta-mlm").string() + "\"";
  const auto valid = run_cli("validate " + recipe + model);
  ASSERT_EQ(valid.exit_code, 0) << valid.output;
  EXPECT_TRUE(contains(valid.output, "steps = 540000")) << valid.output;
  EXPECT_TRUE(contains(valid.output, "batch_size = 1024")) << valid.output;
  sentbench::test::TempDir tmp;
  const auto dry = run_cli("train " + recipe + model + " --dry-run -o " + tmp.path().string() +
                           " --set train.batch_size=64 --set run.threads=1");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_TRUE(contains(dry.output, "dry run of 540000 steps")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "FLOPs per step")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "memory, GradCache")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "estimated run time")) << dry.output;
  EXPECT_FALSE(std::filesystem::exists(tmp / "checkpoints")) << "a dry run trains nothing";
}

}  // namespace
