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
