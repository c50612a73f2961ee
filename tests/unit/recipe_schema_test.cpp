// validate_recipe / validate_table: every problem at once, each located and actionable.
#include "recipe_schema.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "plugin_host.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::Config;
using sentbench::KeySpec;
using sentbench::PluginHost;
using sentbench::RecipeProblem;
using sentbench::ValueType;

namespace {

using Lines = std::vector<std::string>;

using sentbench::test::has_substr;
const auto fixture = sentbench::test::recipe_fixture;

// Stand-ins for the real task types, which live in another library; names that no real task uses.
void register_toy_types() {
  sentbench::register_eval_type(
      "toy_sts", {{"path", ValueType::kPath, true, "STS file"}, {"split", ValueType::kString, false, "which split"}});
  sentbench::register_eval_type("toy_retrieval", {{"path", ValueType::kPath, true, "BEIR folder"},
                                                  {"split", ValueType::kString, false, "qrels split"},
                                                  {"k", ValueType::kArray, false, "cut-offs"}});
}

std::vector<std::string> strs(const std::vector<RecipeProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.str());
  return out;
}

std::vector<std::string> validate(const std::string& text, const PluginHost* host = nullptr) {
  register_toy_types();
  return strs(sentbench::validate_recipe(Config::parse(text, "r.toml"), host));
}

}  // namespace

TEST(RecipeSchema, AValidRecipeHasNoProblems) {
  register_toy_types();
  const Config recipe = Config::load(fixture("basic.toml"));
  EXPECT_EQ(strs(sentbench::validate_recipe(recipe, nullptr)), Lines{});
}

TEST(RecipeSchema, CollectsEveryProblemAtOnce) {
  register_toy_types();
  const std::string f = fixture("invalid.toml").string();
  const Config recipe = Config::load(fixture("invalid.toml"));
  const std::vector<std::string> problems = strs(sentbench::validate_recipe(recipe, nullptr));
  EXPECT_EQ(problems,
            (Lines{f + ":2:8: unknown top-level key 'seed'; did you mean to put it under [run]?",
                   f + ":7:11: key 'run.threads': expected an integer, found a string (\"four\")",
                   f + ":6:8: unknown key 'run.sede'; did you mean 'run.seed'?",
                   f + ":9:1: missing required key 'encoder.plugin' in [encoder] (a string: the encoder plugin "
                       "to load, e.g. \"roberta\" (see `sentbench plugins`))",
                   f + ":13:10: key 'train.plugin': expected a string, found an integer (42)",
                   f + ":16:8: unknown eval type 'toy_retreival'; did you mean 'toy_retrieval'?",
                   f + ":19:1: missing required key 'eval[1].type' in table 'eval[1]' (a string: the task "
                       "type, e.g. \"retrieval\", \"sts\" or \"clustering\")",
                   f + ":22:1: unknown section [reprot]; did you mean [report]?"}));
}

TEST(RecipeSchema, ProblemsFromAnOverrideNameTheOverride) {
  register_toy_types();
  const Config recipe = Config::load(fixture("include_top.toml"), {"run.threads=\"many\""});
  const std::vector<std::string> problems = strs(sentbench::validate_recipe(recipe, nullptr));
  EXPECT_EQ(problems, (Lines{"--set run.threads=\"many\": key 'run.threads': expected an integer, found a "
                             "string (\"many\")"}));
}

TEST(RecipeSchema, UnknownSectionsAndTopLevelKeys) {
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[zzz]\na = 1\n"),
            (Lines{"r.toml:3:1: unknown section [zzz] (valid sections: [run], [encoder], [train], [[stage]], "
                   "[[eval]], [report])"}));
  EXPECT_EQ(validate("foo = 1\ntitle = \"t\"\n[encoder]\nplugin = \"x\"\n"),
            (Lines{"r.toml:1:7: unknown top-level key 'foo'; every key belongs to a section such as [run] or "
                   "[encoder]",
                   "r.toml:2:9: unknown top-level key 'title'; did you mean to put it under [report]?"}));
  EXPECT_EQ(validate("plugin = \"x\"\n[encoder]\nplugin = \"x\"\n"),
            (Lines{"r.toml:1:10: unknown top-level key 'plugin'; did you mean to put it under [encoder]?"}));
  EXPECT_EQ(validate("[encodr]\nplugin = \"x\"\n"),
            (Lines{"r.toml:1:1: unknown section [encodr]; did you mean [encoder]?",
                   "r.toml:1:1: missing section [encoder]: every recipe names an encoder plugin (plugin = "
                   "\"...\")"}));
}

TEST(RecipeSchema, SectionsMustBeTables) {
  EXPECT_EQ(validate("run = 3\n[encoder]\nplugin = \"x\"\n"),
            (Lines{"r.toml:1:7: key 'run': expected a table ([run]), found an integer (3)"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[eval]\ntype = \"toy_sts\"\n"),
            (Lines{"r.toml:3:1: key 'eval': expected an array of tables ([[eval]]), found a table; write "
                   "[[eval]] (one per task) instead of [eval]"}));
  EXPECT_EQ(validate("eval = [1]\n[encoder]\nplugin = \"x\"\n"),
            (Lines{"r.toml:1:9: key 'eval[0]': expected a table, found an integer (1)"}));
}

TEST(RecipeSchema, EvalTablesUseTheirTypesKeys) {
  const std::string text =
      "[encoder]\nplugin = \"x\"\n"
      "[[eval]]\ntype = \"toy_sts\"\npath = \"a\"\nsplti = \"dev\"\n"  // lines 3-6
      "[[eval]]\ntype = \"toy_sts\"\nname = \"a\"\npath = 3\n"         // lines 7-10
      "[[eval]]\ntype = \"toy_retrieval\"\nname = \"a\"\n"             // lines 11-13
      "[[eval]]\ntype = \"nothing_like_it\"\nwhatever = 1\n";          // lines 14-16
  const std::vector<std::string> problems = validate(text);
  ASSERT_EQ(problems.size(), 5u) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems[0], "r.toml:6:9: unknown key 'eval[0].splti'; did you mean 'eval[0].split'?");
  EXPECT_EQ(problems[1], "r.toml:10:8: key 'eval[1].path': expected a path (string), found an integer (3)");
  EXPECT_EQ(problems[2],
            "r.toml:11:1: missing required key 'eval[2].path' in table 'eval[2]' (a path (string): BEIR folder)");
  EXPECT_EQ(problems[3], "r.toml:13:8: duplicate eval name 'a' (also used at r.toml:9:8); names must be unique");
  EXPECT_TRUE(has_substr(problems[4], "r.toml:15:8: unknown eval type 'nothing_like_it' (known types: "));
  EXPECT_TRUE(has_substr(problems[4], "toy_retrieval, toy_sts"));
}

TEST(RecipeSchema, ReportTolerancesAreASubTable) {
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[report]\nformats = \"json\"\ntolerance.main_score = \"x\"\n"
                     "tolerance.throughpt = 0.1\n"),
            (Lines{"r.toml:4:11: key 'report.formats': expected an array, found a string (\"json\")",
                   "r.toml:5:24: key 'report.tolerance.main_score': expected a float, found a string (\"x\")",
                   "r.toml:6:23: unknown key 'report.tolerance.throughpt'; did you mean "
                   "'report.tolerance.throughput'?"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[report]\ntolerance = 0.1\n"),
            (Lines{"r.toml:4:13: key 'report.tolerance': expected a table, found a float (0.1)"}));
}

TEST(RecipeSchema, WithoutAHostPluginKeysAreNotJudged) {
  EXPECT_EQ(validate("[encoder]\nplugin = \"anything\"\nwhatever = 1\n[train]\nplugin = \"y\"\nlr = \"fast\"\n"),
            Lines{});
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[train]\nlr = 1\n"),
            (Lines{"r.toml:3:1: missing required key 'train.plugin' in [train] (a string: the training recipe "
                   "plugin, e.g. \"contrastive\" (see `sentbench plugins`))"}));
}

TEST(RecipeSchema, UnknownPluginsAreReportedByTheHost) {
  const PluginHost host;  // scanned nothing: no plugin is known
  EXPECT_EQ(validate("[encoder]\nplugin = \"roberta\"\nwhatever = 1\n[train]\nplugin = \"contrastive\"\n", &host),
            (Lines{"r.toml:2:10: unknown encoder plugin 'roberta'; no encoder plugins were found (see "
                   "`sentbench plugins`, [run].plugin_dirs and $SENTBENCH_PLUGIN_PATH)",
                   "r.toml:5:10: unknown recipe plugin 'contrastive'; no recipe plugins were found (see "
                   "`sentbench plugins`, [run].plugin_dirs and $SENTBENCH_PLUGIN_PATH)"}));
}

// Loads the fixture plugins test_encoder and test_recipe when they are built (they are in a full build;
// harness_unit_tests alone does not build them); false when they are not.
namespace {
bool load_fixture_plugins(PluginHost& host) {
  const fs::path dir = SENTBENCH_TEST_PLUGIN_DIR;
  const fs::path encoder = dir / "sentbench-test_encoder.so";
  const fs::path recipe = dir / "sentbench-test_recipe.so";
  if (!fs::exists(encoder) || !fs::exists(recipe)) return false;
  host.load(encoder);
  host.load(recipe);
  return true;
}
}  // namespace

TEST(RecipeSchema, PluginSectionsAreCheckedAgainstThePluginsKeys) {
  PluginHost host;
  if (!load_fixture_plugins(host)) GTEST_SKIP() << "fixture plugins not built in " << SENTBENCH_TEST_PLUGIN_DIR;
  EXPECT_EQ(validate("[encoder]\nplugin = \"test_encoder\"\ndim = 8\n", &host), Lines{});
  EXPECT_EQ(validate("[encoder]\nplugin = \"test_encoder\"\ndim = \"8\"\ndimm = 3\n", &host),
            (Lines{"r.toml:3:7: key 'encoder.dim': expected an integer, found a string (\"8\")",
                   "r.toml:4:8: unknown key 'encoder.dimm'; did you mean 'encoder.dim'?"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"test_encodr\"\n", &host),
            (Lines{"r.toml:2:10: unknown encoder plugin 'test_encodr'; did you mean 'test_encoder'?"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"test_encoder\"\n[train]\nplugin = \"test_encoder\"\n", &host),
            (Lines{"r.toml:4:10: 'test_encoder' is an encoder plugin, not a recipe plugin"}));
}

// [[stage]] tables: each checked against its own plugin's keys, named for its folder, never beside [train].
TEST(RecipeSchema, StagesAreCheckedOneByOneAgainstTheirPlugins) {
  PluginHost host;
  if (!load_fixture_plugins(host)) GTEST_SKIP() << "fixture plugins not built in " << SENTBENCH_TEST_PLUGIN_DIR;
  const std::string head = "[encoder]\nplugin = \"test_encoder\"\n";
  EXPECT_EQ(validate(head + "[[stage]]\nplugin = \"test_recipe\"\nsteps = 2\n[[stage]]\nplugin = \"test_recipe\"\n"
                            "name = \"fine-tune\"\nsteps = 3\n",
                     &host),
            Lines{});
  // An unknown key in stage 2 names its line and the closest key; stage 1 is fine.
  EXPECT_EQ(validate(head + "[[stage]]\nplugin = \"test_recipe\"\nsteps = 2\n[[stage]]\nplugin = \"test_recipe\"\n"
                            "stepz = 3\n",
                     &host),
            (Lines{"r.toml:8:9: unknown key 'stage[1].stepz'; did you mean 'stage[1].steps'?"}));
  EXPECT_EQ(validate(head + "[[stage]]\nplugin = \"test_recipee\"\n", &host),
            (Lines{"r.toml:4:10: unknown recipe plugin 'test_recipee'; did you mean 'test_recipe'?"}));
}

TEST(RecipeSchema, StagesAndTrainDoNotMix) {
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[train]\nplugin = \"a\"\n[[stage]]\nplugin = \"a\"\n"),
            (Lines{"r.toml:5:1: the recipe has both [train] (at r.toml:3:1) and [[stage]] tables; a recipe trains "
                   "either in one [train] table or in [[stage]] tables run in order: turn [train] into the first "
                   "[[stage]] (same keys), or remove the [[stage]] tables"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[stage]\nplugin = \"a\"\n"),
            (Lines{"r.toml:3:1: key 'stage': expected an array of tables ([[stage]]), found a table; write [[stage]] "
                   "(one per training stage) instead of [stage]"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[[stage]]\nname = \"pre\"\n"),
            (Lines{"r.toml:3:1: missing required key 'stage[0].plugin' in table 'stage[0]' (a string: the training "
                   "recipe plugin of this stage, e.g. \"mlm\" or \"contrastive\" (see `sentbench plugins`))"}));
}

TEST(RecipeSchema, StageNamesAreUniqueFolderNames) {
  // Default names are "<index>-<plugin>"; an explicit name may not take one that is already used.
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[[stage]]\nplugin = \"a\"\n[[stage]]\nplugin = \"a\"\n"
                     "name = \"1-a\"\n[[stage]]\nplugin = \"b\"\nname = \"../up\"\n"),
            (Lines{"r.toml:7:8: duplicate stage name '1-a' (also used at r.toml:3:1); give each [[stage]] its own "
                   "name = \"...\"",
                   "r.toml:10:8: stage name '../up' cannot be a folder name (stages/<name>/): use letters, digits, "
                   "'-', '_' or '.', without '/'"}));
  EXPECT_EQ(sentbench::stage_name(Config::parse("plugin = \"mlm\"\n"), 0), "1-mlm");
  EXPECT_EQ(sentbench::stage_name(Config::parse("plugin = \"mlm\"\nname = \"pre\"\n"), 3), "pre");
}

TEST(RecipeSchema, EvalTasksNameTheRecipesEvalTasks) {
  register_toy_types();
  const std::string evals = "[[eval]]\ntype = \"toy_sts\"\nname = \"stsb\"\npath = \"a\"\n"
                            "[[eval]]\ntype = \"toy_retrieval\"\npath = \"b\"\n";
  // By name, or by type for a table without a name.
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[train]\nplugin = \"a\"\neval_tasks = [\"stsb\", \"toy_retrieval\"]\n" +
                     evals),
            Lines{});
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[train]\nplugin = \"a\"\neval_tasks = [\"stbs\", 3]\n"
                     "eval_max_items = -1\n" + evals),
            (Lines{"r.toml:5:15: key 'train.eval_tasks': no [[eval]] task is named 'stbs'; did you mean 'stsb'?",
                   "r.toml:5:23: key 'train.eval_tasks[1]': expected the name of an [[eval]] task (a string), found "
                   "an integer (3)",
                   "r.toml:6:18: key 'train.eval_max_items': must be 0 (the whole task) or a positive number of "
                   "items, found -1"}));
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[[stage]]\nplugin = \"a\"\n[[stage]]\nplugin = \"a\"\n"
                     "eval_tasks = [\"zzz\"]\n"),
            (Lines{"r.toml:7:15: key 'stage[1].eval_tasks': no [[eval]] task is named 'zzz'; the recipe has no "
                   "[[eval]] tasks (add them, or remove eval_tasks)"}));
}

TEST(ValidateTable, DottedSpecsDeclareSubTables) {
  static const std::vector<KeySpec> keys = {
      {"plugin", ValueType::kString, true, "plugin name"}, {"model", ValueType::kPath, false, "model folder"},
      {"init.hidden", ValueType::kInteger, true, "width"}, {"init.layers", ValueType::kInteger, false, "depth"},
      {"extra", ValueType::kAny, false, "anything"},       {"list", ValueType::kArray, false, "any array"},
      {"opts", ValueType::kTable, false, "free-form"},     {"rate", ValueType::kFloat, false, "a rate"},
  };
  auto check = [](const std::string& text) {
    std::vector<RecipeProblem> out;
    sentbench::validate_table(Config::parse(text, "r.toml").table("encoder"), keys, out);
    return strs(out);
  };
  // kAny takes anything, kArray any array, kTable any table (unchecked inside), integers pass for floats.
  EXPECT_EQ(check("[encoder]\nplugin = \"x\"\nmodel = \"m\"\nextra = [1]\nlist = [1, \"a\"]\nopts = { a = 1 }\n"
                  "rate = 1\ninit.hidden = 3\n"),
            Lines{});
  // A required key inside an absent sub-table is not demanded.
  EXPECT_EQ(check("[encoder]\nplugin = \"x\"\n"), Lines{});
  EXPECT_EQ(check("[encoder]\nplugin = \"x\"\ninit.hiden = 3\ninit.layers = \"2\"\nrate = \"fast\"\nmodel = 3\n"
                  "list = {}\nopts = []\n"),
            (Lines{"r.toml:6:9: key 'encoder.model': expected a path (string), found an integer (3)",
                   "r.toml:7:8: key 'encoder.list': expected an array, found a table",
                   "r.toml:8:8: key 'encoder.opts': expected a table, found an array of 0 item(s)",
                   "r.toml:5:8: key 'encoder.rate': expected a float, found a string (\"fast\")",
                   "r.toml:3:1: missing required key 'encoder.init.hidden' in [encoder.init] (an integer: width)",
                   "r.toml:4:15: key 'encoder.init.layers': expected an integer, found a string (\"2\")",
                   "r.toml:3:14: unknown key 'encoder.init.hiden'; did you mean 'encoder.init.hidden'?"}));
  EXPECT_EQ(check("[encoder]\ninit = 3\nzzz = 1\n"),
            (Lines{"r.toml:1:1: missing required key 'encoder.plugin' in [encoder] (a string: plugin name)",
                   "r.toml:2:8: key 'encoder.init': expected a table, found an integer (3)",
                   "r.toml:3:7: unknown key 'encoder.zzz' (valid keys in [encoder]: plugin, model, extra, list, "
                   "opts, rate, init)"}));
}

TEST(EvalRegistry, RegisteredTypesAreListedAndReplaceable) {
  register_toy_types();
  const std::vector<std::string> types = sentbench::eval_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "toy_sts"), types.end());
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  sentbench::register_eval_type("toy_replaced", {{"a", ValueType::kString, false, ""}});
  sentbench::register_eval_type("toy_replaced", {{"b", ValueType::kString, false, ""}});
  EXPECT_EQ(validate("[encoder]\nplugin = \"x\"\n[[eval]]\ntype = \"toy_replaced\"\nb = \"ok\"\n"), Lines{});
}

TEST(RecipeSchema, HarnessKeysAreDeclared) {
  auto names = [](const std::vector<KeySpec>& keys) {
    std::vector<std::string> out;
    for (const auto& k : keys) out.emplace_back(k.name);
    return out;
  };
  EXPECT_EQ(names(sentbench::run_keys()),
            (Lines{"name", "output_dir", "seed", "threads", "plugin_dirs", "deterministic", "dist_backend", "dist_timeout", "dist_bucket_mb"}));
  EXPECT_EQ(names(sentbench::encoder_keys()), (Lines{"plugin"}));
  EXPECT_EQ(names(sentbench::train_keys()), (Lines{"plugin"}));
  EXPECT_EQ(names(sentbench::stage_keys()), (Lines{"plugin", "name"}));
  EXPECT_EQ(names(sentbench::eval_keys()), (Lines{"type", "name", "baselines", "optional"}));
  EXPECT_EQ(names(sentbench::report_keys()),
            (Lines{"formats", "title", "tolerance", "tolerance.main_score", "tolerance.throughput",
                   "tolerance.significance", "tolerance.min_drop", "tolerance.alpha"}));
  for (const auto* keys : {&sentbench::run_keys(), &sentbench::encoder_keys(), &sentbench::train_keys(),
                           &sentbench::stage_keys(), &sentbench::eval_keys(), &sentbench::report_keys()}) {
    for (const auto& k : *keys) EXPECT_GT(std::string(k.help).size(), 5u) << k.name;
  }
}

TEST(RecipeProblemStr, PrefixesTheLocation) {
  EXPECT_EQ((RecipeProblem{{"r.toml", 3, 4}, "bad"}).str(), "r.toml:3:4: bad");
  EXPECT_EQ((RecipeProblem{{"--set a=1", 0, 0}, "bad"}).str(), "--set a=1: bad");
  EXPECT_EQ((RecipeProblem{{}, "bad"}).str(), "bad");
}
