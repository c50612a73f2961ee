// Config: typed getters, located messages, includes, --set overrides and the resolved-recipe output.
#include "sentbench/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::closest_match;
using sentbench::Config;
using sentbench::ConfigError;
using sentbench::SourceLocation;
using sentbench::ValueType;

namespace {

using Lines = std::vector<std::string>;

using sentbench::test::has_substr;
const auto fixture = sentbench::test::recipe_fixture;

// The message of the ConfigError `fn` throws ("" and a test failure when it throws nothing).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

}  // namespace

// ---- typed getters ------------------------------------------------------------------------------------

TEST(ConfigGetters, ReadEveryTypeFromAFile) {
  const Config recipe = Config::load(fixture("basic.toml"));
  EXPECT_EQ(recipe.get_string("run.name"), "basic");
  EXPECT_EQ(recipe.get_int("run.seed"), 7);
  EXPECT_TRUE(recipe.get_bool("run.deterministic"));
  EXPECT_DOUBLE_EQ(recipe.get_double("train.lr"), 2e-5);
  EXPECT_EQ(recipe.get_strings("run.plugin_dirs"), (Lines{"plugins", "/opt/sentbench/plugins"}));
  EXPECT_EQ(recipe.get_ints("train.steps"), (std::vector<std::int64_t>{10, 20}));
  // Integers are accepted where floats are expected, in arrays too.
  EXPECT_EQ(recipe.get_doubles("train.temperatures"), (std::vector<double>{0.05, 1.0}));
  EXPECT_DOUBLE_EQ(recipe.get_double("train.warmup"), 100.0);
}

TEST(ConfigGetters, DottedKeysWalkSubTablesAndArrays) {
  const Config recipe = Config::load(fixture("basic.toml"));
  EXPECT_EQ(recipe.get_int("encoder.init.hidden"), 64);
  const Config encoder = recipe.table("encoder");
  EXPECT_EQ(encoder.path(), "encoder");
  EXPECT_EQ(encoder.get_int("init.layers"), 2);
  EXPECT_EQ(encoder.table("init").path(), "encoder.init");
  EXPECT_EQ(recipe.get_string("eval[1].type"), "toy_retrieval");
  EXPECT_DOUBLE_EQ(recipe.get_double("report.tolerance.main_score"), 0.005);
}

TEST(ConfigGetters, WrongTypeNamesFileLineColumnKeyAndBothTypes) {
  const Config recipe = Config::parse("[train]\nlr = \"2e-5\"\n", "recipe.toml");
  EXPECT_EQ(error_of([&] { recipe.get_double("train.lr"); }),
            "recipe.toml:2:6: key 'train.lr': expected a float, found a string (\"2e-5\")");
  // The same through a section view: the key is still the full dotted key.
  EXPECT_EQ(error_of([&] { recipe.table("train").get_int("lr"); }),
            "recipe.toml:2:6: key 'train.lr': expected an integer, found a string (\"2e-5\")");
}

TEST(ConfigGetters, WrongTypeInAFileNamesThatFile) {
  const Config recipe = Config::load(fixture("wrong_type.toml"));
  const std::string file = fixture("wrong_type.toml").string();
  EXPECT_EQ(error_of([&] { recipe.get_int("train.batch_size"); }),
            file + ":4:14: key 'train.batch_size': expected an integer, found a float (3.5)");
  EXPECT_EQ(error_of([&] { recipe.get_double("train.lr"); }),
            file + ":5:6: key 'train.lr': expected a float, found a string (\"2e-5\")");
  // An array element is named with its index and located at the element itself.
  EXPECT_EQ(error_of([&] { recipe.get_ints("train.steps"); }),
            file + ":6:14: key 'train.steps[1]': expected an integer, found a string (\"twenty\")");
  EXPECT_EQ(error_of([&] { recipe.get_strings("train.plugin"); }),
            file + ":3:10: key 'train.plugin': expected an array of strings, found a string (\"contrastive\")");
}

TEST(ConfigGetters, OtherTypeMismatches) {
  const Config recipe = Config::parse("flag = 1\nname = true\nlist = [1, 2]\nsub = { a = 1 }\n", "r.toml");
  EXPECT_EQ(error_of([&] { recipe.get_bool("flag"); }),
            "r.toml:1:8: key 'flag': expected a boolean, found an integer (1)");
  EXPECT_EQ(error_of([&] { recipe.get_string("name"); }),
            "r.toml:2:8: key 'name': expected a string, found a boolean (true)");
  EXPECT_EQ(error_of([&] { recipe.get_path("list"); }),
            "r.toml:3:8: key 'list': expected a path (string), found an array of 2 item(s)");
  EXPECT_EQ(error_of([&] { recipe.get_int("sub"); }), "r.toml:4:7: key 'sub': expected an integer, found a table");
  EXPECT_EQ(error_of([&] { recipe.table("flag"); }), "r.toml:1:8: key 'flag': expected a table, found an integer (1)");
  EXPECT_TRUE(has_substr(error_of([&] { recipe.get_doubles("list[0]"); }), "expected an array of floats"));
}

TEST(ConfigGetters, LongStringsAreShortenedInMessages) {
  const Config recipe = Config::parse("x = \"" + std::string(100, 'a') + "\"\n", "r.toml");
  const std::string message = error_of([&] { recipe.get_int("x"); });
  EXPECT_TRUE(has_substr(message, "found a string (\"" + std::string(40, 'a') + "\"...)"));
}

TEST(ConfigGetters, MissingKeyNamesTheTableAndSuggestsTheClosestKey) {
  const Config recipe = Config::parse("[run]\nseed = 1\n\n[train]\nlearning_rte = 1e-4\nwarmup = 5\n", "recipe.toml");
  EXPECT_EQ(error_of([&] { recipe.get_double("train.learning_rate"); }),
            "recipe.toml:4:1: key 'train.learning_rate' is missing from [train]; did you mean 'train.learning_rte'?");
  // Nothing similar: no suggestion.
  EXPECT_EQ(error_of([&] { recipe.table("train").get_int("batch_size"); }),
            "recipe.toml:4:1: key 'train.batch_size' is missing from [train]");
  // A missing section is named at the top level of the file.
  EXPECT_EQ(error_of([&] { recipe.get_string("encoder.plugin"); }),
            "recipe.toml:1:1: key 'encoder.plugin' is missing from the top level");
  EXPECT_EQ(error_of([&] { recipe.table("trian"); }),
            "recipe.toml:1:1: key 'trian' is missing from the top level; did you mean 'train'?");
}

TEST(ConfigGetters, MissingInsideANestedTableNamesTheDeepestTableReached) {
  const Config recipe = Config::parse("[encoder]\nplugin = \"x\"\ninit.hiden = 3\n", "recipe.toml");
  EXPECT_EQ(error_of([&] { recipe.get_int("encoder.init.hidden"); }),
            "recipe.toml:3:1: key 'encoder.init.hidden' is missing from [encoder.init]; did you mean "
            "'encoder.init.hiden'?");
  EXPECT_EQ(error_of([&] { recipe.table("encoder").get_int("shape.hidden"); }),
            "recipe.toml:1:1: key 'encoder.shape.hidden' is missing from [encoder]");
}

TEST(ConfigGetters, AValueInTheWayOfADottedKeyIsNamed) {
  const Config recipe = Config::parse("[encoder]\ninit = 3\n", "recipe.toml");
  EXPECT_EQ(error_of([&] { recipe.get_int("encoder.init.hidden"); }),
            "recipe.toml:2:8: key 'encoder.init.hidden': 'encoder.init' is an integer (3), not a table");
  EXPECT_FALSE(recipe.contains("encoder.init.hidden"));
}

TEST(ConfigGetters, OptionalGettersFallBackOnlyWhenAbsent) {
  const Config recipe = Config::parse("[run]\nseed = \"x\"\nthreads = 2\n", "recipe.toml");
  const Config run = recipe.table("run");
  EXPECT_EQ(run.get_int("threads", 8), 2);
  EXPECT_EQ(run.get_int("missing", 8), 8);
  EXPECT_EQ(run.get_string("name", "default"), "default");
  EXPECT_DOUBLE_EQ(run.get_double("threads", 0.5), 2.0);
  EXPECT_DOUBLE_EQ(run.get_double("rate", 0.5), 0.5);
  EXPECT_TRUE(run.get_bool("deterministic", true));
  EXPECT_EQ(run.get_path("output_dir", "runs"), fs::path("runs"));
  EXPECT_EQ(error_of([&] { run.get_int("seed", 42); }),
            "recipe.toml:2:8: key 'run.seed': expected an integer, found a string (\"x\")");
  EXPECT_EQ(error_of([&] { run.get_bool("threads", false); }),
            "recipe.toml:3:11: key 'run.threads': expected a boolean, found an integer (2)");
}

TEST(ConfigGetters, ArraysOfTablesAreNamedWithTheirIndex) {
  const Config recipe = Config::parse(
      "[[eval]]\ntype = \"sts\"\npath = \"a\"\n\n[[eval]]\ntype = \"x\"\n\n[[eval]]\ntype = \"y\"\npath = 3\n",
      "recipe.toml");
  const std::vector<Config> evals = recipe.tables("eval");
  ASSERT_EQ(evals.size(), 3u);
  EXPECT_EQ(evals[1].path(), "eval[1]");
  EXPECT_EQ(evals[1].where().str(), "recipe.toml:5:1");
  EXPECT_EQ(error_of([&] { evals[2].get_string("path"); }),
            "recipe.toml:10:8: key 'eval[2].path': expected a string, found an integer (3)");
  EXPECT_EQ(error_of([&] { evals[1].get_string("path"); }),
            "recipe.toml:5:1: key 'eval[1].path' is missing from table 'eval[1]'");
  EXPECT_EQ(error_of([&] { recipe.get_string("eval[3].path"); }),
            "recipe.toml:1:1: key 'eval[3].path': 'eval' has only 3 item(s)");
  EXPECT_TRUE(recipe.tables("missing").empty());
  EXPECT_EQ(
      error_of([&] { recipe.tables("eval[0].type"); }),
      "recipe.toml:2:8: key 'eval[0].type': expected an array of tables ([[eval[0].type]]), found a string (\"sts\")");
}

TEST(ConfigGetters, TableOrEmptyGivesAnEmptyViewWhenAbsent) {
  const Config recipe = Config::parse("[run]\nseed = 1\n", "recipe.toml");
  const Config report = recipe.table_or_empty("report");
  EXPECT_TRUE(report.keys().empty());
  EXPECT_EQ(report.path(), "report");
  EXPECT_EQ(report.get_string("title", "t"), "t");
  EXPECT_EQ(recipe.table_or_empty("run").get_int("seed"), 1);
  EXPECT_TRUE(
      has_substr(error_of([&] { recipe.table_or_empty("run.seed"); }), "expected a table, found an integer (1)"));
}

TEST(ConfigGetters, KeysComeInDocumentOrder) {
  const Config recipe = Config::parse("[t]\nzeta = 1\nalpha = 2\nmid = 3\n[a]\n", "recipe.toml");
  EXPECT_EQ(recipe.keys(), (Lines{"t", "a"}));
  EXPECT_EQ(recipe.table("t").keys(), (Lines{"zeta", "alpha", "mid"}));
}

TEST(ConfigGetters, TypeOfContainsAndDescribe) {
  const Config recipe =
      Config::parse("s = \"x\"\ni = 1\nf = 1.5\nb = false\na = []\nt = {}\nd = 2024-01-02\n", "r.toml");
  EXPECT_EQ(recipe.type_of("s"), ValueType::kString);
  EXPECT_EQ(recipe.type_of("i"), ValueType::kInteger);
  EXPECT_EQ(recipe.type_of("f"), ValueType::kFloat);
  EXPECT_EQ(recipe.type_of("b"), ValueType::kBoolean);
  EXPECT_EQ(recipe.type_of("a"), ValueType::kArray);
  EXPECT_EQ(recipe.type_of("t"), ValueType::kTable);
  EXPECT_EQ(recipe.type_of("d"), ValueType::kAny);
  EXPECT_EQ(recipe.type_of("nope"), std::nullopt);
  EXPECT_TRUE(recipe.contains("t"));
  EXPECT_FALSE(recipe.contains("t.x"));
  EXPECT_FALSE(recipe.contains(""));
  EXPECT_EQ(recipe.describe("f"), "a float (1.5)");
  EXPECT_EQ(recipe.describe("d"), "a date (2024-01-02)");
  EXPECT_EQ(recipe.describe("nope"), "");
}

TEST(ConfigGetters, FailPrefixesLocationAndKey) {
  const Config recipe = Config::parse("[train]\nlr = -1.0\n", "recipe.toml");
  EXPECT_EQ(error_of([&] { recipe.table("train").fail("lr", "must be positive"); }),
            "recipe.toml:2:6: key 'train.lr': must be positive");
  // An absent key is located at its table.
  EXPECT_EQ(error_of([&] { recipe.table("train").fail("steps", "is needed when epochs is not set"); }),
            "recipe.toml:1:1: key 'train.steps': is needed when epochs is not set");
}

TEST(ConfigGetters, DefaultConfigIsEmpty) {
  const Config empty;
  EXPECT_TRUE(empty.keys().empty());
  EXPECT_EQ(empty.path(), "");
  EXPECT_EQ(empty.to_toml(), "");
  EXPECT_EQ(empty.get_int("x", 3), 3);
  EXPECT_THROW(empty.get_int("x"), ConfigError);
}

// ---- paths ------------------------------------------------------------------------------------------

TEST(ConfigPaths, RelativePathsResolveAgainstTheFileThatSetThem) {
  const Config recipe = Config::load(fixture("include_top.toml"));
  const fs::path dir = fixture("");
  // Set in base/common.toml: relative to base/.
  EXPECT_EQ(recipe.get_path("encoder.model"), (dir / "base" / "models" / "base").lexically_normal());
  // Set in include_top.toml itself.
  EXPECT_EQ(recipe.get_path("eval[0].path"), (dir / "data" / "top-sts.tsv").lexically_normal());
}

TEST(ConfigPaths, AbsoluteAndHomePathsPassThrough) {
  const Config recipe = Config::parse("a = \"/data/x\"\nh = \"~/models\"\nr = \"data/y\"\n", "configs/recipe.toml");
  EXPECT_EQ(recipe.get_path("a"), fs::path("/data/x"));
  const char* home = std::getenv("HOME");
  if (home && *home) {
    EXPECT_EQ(recipe.get_path("h"), fs::path(home) / "models");
  }
  EXPECT_EQ(recipe.get_path("r"), fs::path("configs/data/y"));
}

TEST(ConfigPaths, OverriddenPathsAreRelativeToTheWorkingDirectory) {
  const Config recipe = Config::load(fixture("basic.toml"), {"encoder.model=models/other"});
  EXPECT_EQ(recipe.get_path("encoder.model"), fs::path("models/other"));
}

// ---- parse errors -------------------------------------------------------------------------------------

TEST(ConfigParse, SyntaxErrorNamesFileLineColumnAndTheParsersDescription) {
  EXPECT_EQ(error_of([] { Config::parse("[train]\nlr = \n", "recipe.toml"); }),
            "recipe.toml:2:6: invalid TOML: Error while parsing key-value pair: expected value, saw '\\n'");
  const std::string file = fixture("syntax_error.toml").string();
  const std::string message = error_of([] { Config::load(fixture("syntax_error.toml")); });
  EXPECT_TRUE(has_substr(message, file + ":3:5: invalid TOML: "));
  EXPECT_TRUE(has_substr(message, "expected value"));
  const std::string duplicate = error_of([] { Config::parse("a = 1\na = 2\n", "dup.toml"); });
  EXPECT_TRUE(has_substr(duplicate, "dup.toml:2:"));
  EXPECT_TRUE(has_substr(duplicate, "invalid TOML: Error while parsing key-value pair: cannot redefine existing"));
}

TEST(ConfigParse, MissingRecipeFileIsAConfigError) {
  EXPECT_EQ(error_of([] { Config::load("/nonexistent/recipe.toml"); }),
            "cannot read recipe '/nonexistent/recipe.toml' (no such file)");
}

// ---- includes -----------------------------------------------------------------------------------------

TEST(ConfigInclude, ChainMergesWithTheIncludingFileWinning) {
  const Config recipe = Config::load(fixture("include_top.toml"));
  EXPECT_EQ(recipe.get_string("run.name"), "top");              // top wins
  EXPECT_EQ(recipe.get_int("run.seed"), 1);                     // only in common
  EXPECT_DOUBLE_EQ(recipe.get_double("train.lr"), 5e-5);        // middle wins over common
  EXPECT_EQ(recipe.get_int("train.warmup"), 10);                // only in middle
  EXPECT_EQ(recipe.get_string("train.plugin"), "contrastive");  // common
  EXPECT_EQ(recipe.get_int("encoder.max_length"), 128);         // top wins
  EXPECT_EQ(recipe.get_int("encoder.init.hidden"), 32);         // sub-tables merge key by key
  EXPECT_EQ(recipe.get_int("encoder.init.layers"), 2);
  EXPECT_FALSE(recipe.contains("include"));  // consumed, not part of the recipe
  // [[eval]] of the including file replaces the base's list instead of appending to it.
  const auto evals = recipe.tables("eval");
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_EQ(evals[0].get_string("path"), "data/top-sts.tsv");
}

TEST(ConfigInclude, KeysKeepTheFileTheyCameFrom) {
  const Config recipe = Config::load(fixture("include_top.toml"));
  const std::string common = fixture("base/common.toml").lexically_normal().string();
  EXPECT_EQ(error_of([&] { recipe.get_int("train.batch_size"); }),
            common + ":16:14: key 'train.batch_size': expected an integer, found a string (\"sixteen\")");
  EXPECT_EQ(recipe.where("train.lr").str(), fixture("base/middle.toml").lexically_normal().string() + ":5:6");
  EXPECT_EQ(recipe.where("run.name").str(), fixture("include_top.toml").string() + ":5:8");
  // Base keys list before the including file's in a merged table.
  EXPECT_EQ(recipe.table("encoder").keys(), (Lines{"plugin", "model", "max_length", "init"}));
  EXPECT_EQ(recipe.table("train").keys(), (Lines{"plugin", "batch_size", "lr", "warmup"}));
}

TEST(ConfigInclude, LaterIncludesWinOverEarlierOnes) {
  const Config recipe = Config::load(fixture("include_list.toml"));
  EXPECT_EQ(recipe.get_string("run.name"), "extra");
  EXPECT_EQ(recipe.get_int("run.seed"), 1);
  EXPECT_DOUBLE_EQ(recipe.get_double("train.lr"), 3e-4);
  EXPECT_EQ(recipe.get_int("train.batch_size"), 64);
  EXPECT_EQ(recipe.tables("eval").size(), 2u);
}

TEST(ConfigInclude, CyclesAreDetected) {
  const std::string a = fixture("cycle_a.toml").string();
  const std::string b = fixture("cycle_b.toml").string();
  EXPECT_EQ(error_of([] { Config::load(fixture("cycle_a.toml")); }),
            b + ":2:11: include cycle: " + a + " -> " + b + " -> " + a);
  const std::string self = fixture("cycle_self.toml").string();
  EXPECT_EQ(error_of([] { Config::load(fixture("cycle_self.toml")); }),
            self + ":2:11: include cycle: " + self + " -> " + self);
}

TEST(ConfigInclude, MissingAndMistypedIncludesAreLocated) {
  const std::string file = fixture("include_missing.toml").string();
  EXPECT_EQ(error_of([] { Config::load(fixture("include_missing.toml")); }),
            file + ":2:11: cannot read included file '" + fixture("no_such_base.toml").string() + "' (no such file)");
  EXPECT_EQ(
      error_of([] { Config::load(fixture("include_bad_type.toml")); }),
      fixture("include_bad_type.toml").string() +
          ":2:11: key 'include': expected a string (a file to include) or an array of strings, found an integer (3)");
}

TEST(ConfigInclude, ParsedTextIncludesRelativeToItsOrigin) {
  const Config recipe =
      Config::parse("include = \"list_extra.toml\"\n[run]\nseed = 5\n", fixture("inline.toml").string());
  EXPECT_EQ(recipe.get_string("run.name"), "extra");
  EXPECT_EQ(recipe.get_int("run.seed"), 5);
}

// ---- overrides ----------------------------------------------------------------------------------------

TEST(ConfigOverride, ValuesAreTomlAndWinOverTheRecipe) {
  const Config recipe = Config::load(fixture("include_top.toml"),
                                     {"train.lr=3e-5", "run.name=\"quoted\"", "train.batch_size = 8",
                                      "run.deterministic=true", "train.steps=[1, 2]", "encoder.init={ hidden = 16 }"});
  EXPECT_DOUBLE_EQ(recipe.get_double("train.lr"), 3e-5);
  EXPECT_EQ(recipe.get_string("run.name"), "quoted");
  EXPECT_EQ(recipe.get_int("train.batch_size"), 8);
  EXPECT_TRUE(recipe.get_bool("run.deterministic"));
  EXPECT_EQ(recipe.get_ints("train.steps"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(recipe.get_int("encoder.init.hidden"), 16);
  EXPECT_FALSE(recipe.contains("encoder.init.layers"));  // an override replaces, it does not merge
}

TEST(ConfigOverride, BareWordsAreStrings) {
  const Config recipe =
      Config::load(fixture("basic.toml"), {"run.name=foo", "encoder.dtype=bf16", "train.note=two words"});
  EXPECT_EQ(recipe.get_string("run.name"), "foo");
  EXPECT_EQ(recipe.get_string("encoder.dtype"), "bf16");
  EXPECT_EQ(recipe.get_string("train.note"), "two words");
}

TEST(ConfigOverride, ValuesThatParseKeepTheirTomlType) {
  // run.name=2024 is the integer 2024 (validation will say so); quoting keeps it a string.
  const Config recipe = Config::load(fixture("basic.toml"), {"run.name=2024", "run.title=\"2024\""});
  EXPECT_EQ(recipe.type_of("run.name"), ValueType::kInteger);
  EXPECT_EQ(recipe.get_string("run.title"), "2024");
}

TEST(ConfigOverride, LocationReadsTheOverride) {
  const Config recipe = Config::load(fixture("basic.toml"), {"train.lr=\"fast\""});
  EXPECT_EQ(recipe.where("train.lr").str(), "--set train.lr=\"fast\"");
  EXPECT_EQ(error_of([&] { recipe.get_double("train.lr"); }),
            "--set train.lr=\"fast\": key 'train.lr': expected a float, found a string (\"fast\")");
}

TEST(ConfigOverride, NewKeysAndTablesAreCreated) {
  const Config recipe = Config::parse("[run]\nseed = 1\n", "recipe.toml", {"report.tolerance.main_score=0.01"});
  EXPECT_DOUBLE_EQ(recipe.get_double("report.tolerance.main_score"), 0.01);
  EXPECT_EQ(recipe.where("report").str(), "--set report.tolerance.main_score=0.01");
}

TEST(ConfigOverride, ArrayElementsCanBeSet) {
  const Config recipe = Config::load(fixture("basic.toml"), {"eval[0].path=data/other.tsv", "train.steps[1]=30",
                                                             "eval[2]={ type = \"toy_sts\", path = \"x\" }"});
  EXPECT_EQ(recipe.get_string("eval[0].path"), "data/other.tsv");
  EXPECT_EQ(recipe.get_string("eval[0].name"), "sts-dev");
  EXPECT_EQ(recipe.get_ints("train.steps"), (std::vector<std::int64_t>{10, 30}));
  ASSERT_EQ(recipe.tables("eval").size(), 3u);
  EXPECT_EQ(recipe.get_string("eval[2].path"), "x");
  EXPECT_EQ(error_of([] { Config::load(fixture("basic.toml"), {"eval[5].path=x"}); }),
            "--set eval[5].path=x: cannot set 'eval[5].path': 'eval' has 2 item(s)");
  EXPECT_EQ(error_of([] { Config::load(fixture("basic.toml"), {"run[0]=x"}); }),
            "--set run[0]=x: cannot set 'run[0]': 'run' is a table, not an array");
}

TEST(ConfigOverride, MalformedOverridesAreNamed) {
  EXPECT_EQ(error_of([] { Config::parse("", "r.toml", {"train.lr"}); }),
            "malformed override '--set train.lr': expected key=value, e.g. --set train.lr=3e-5");
  EXPECT_EQ(error_of([] { Config::parse("", "r.toml", {"=3"}); }),
            "malformed override '--set =3': expected key=value, e.g. --set train.lr=3e-5");
  EXPECT_EQ(error_of([] { Config::parse("", "r.toml", {"train..lr=3"}); }),
            "malformed override '--set train..lr=3': 'train..lr' is not a dotted key such as train.lr or eval[0].path");
  EXPECT_EQ(error_of([] { Config::parse("[run]\nseed = 1\n", "r.toml", {"run.seed.x=3"}); }),
            "--set run.seed.x=3: cannot set 'run.seed.x': 'run.seed' is an integer (1), not a table");
}

// ---- output -------------------------------------------------------------------------------------------

TEST(ConfigOutput, ToTomlRoundTripsTheResolvedRecipe) {
  const Config recipe = Config::load(fixture("include_top.toml"), {"train.lr=3e-5", "run.tag=x"});
  const std::string text = recipe.to_toml();
  const Config again = Config::parse(text, "resolved.toml");
  EXPECT_EQ(nlohmann::json::parse(again.to_json()), nlohmann::json::parse(recipe.to_json()));
  EXPECT_EQ(again.get_string("train.batch_size"), "sixteen");
  EXPECT_DOUBLE_EQ(again.get_double("train.lr"), 3e-5);
  // Readable: shortest float text, no include, document order.
  EXPECT_TRUE(has_substr(text, "lr = 3e-05\n"));
  EXPECT_FALSE(has_substr(text, "include"));
  EXPECT_LT(text.find("[run]"), text.find("[encoder]"));
  EXPECT_TRUE(has_substr(text, "[[eval]]\ntype = \"toy_sts\"\npath = \"data/top-sts.tsv\"\n"));
}

TEST(ConfigOutput, ToTomlRoundTripsAwkwardValues) {
  const std::string source =
      "title = \"quote \\\" backslash \\\\ tab \\t newline \\n bell \\u0007\"\n"
      "\"odd key\" = 1\n"
      "floats = [0.1, 1e300, -0.0, 2.0, inf, nan]\n"
      "mixed = [[1, 2], [\"a\"], { x = 1 }]\n"
      "when = 2024-01-02T03:04:05Z\n"
      "empty = {}\n"
      "[deep.er.est]\n"
      "k = 1\n"
      "[[a.list]]\n"
      "v = 1\n"
      "[a.list.sub]\n"
      "w = 2\n"
      "[[a.list]]\n";
  const Config recipe = Config::parse(source, "awkward.toml");
  const std::string text = recipe.to_toml();
  const Config again = Config::parse(text, "again.toml");
  EXPECT_EQ(nlohmann::json::parse(again.to_json()), nlohmann::json::parse(recipe.to_json())) << text;
  EXPECT_EQ(again.get_string("title"), recipe.get_string("title"));
  EXPECT_EQ(again.keys(), recipe.keys());
  EXPECT_EQ(again.get_int("a.list[0].sub.w"), 2);
  EXPECT_EQ(again.tables("a.list").size(), 2u);
  EXPECT_TRUE(has_substr(text, "[deep.er.est]\nk = 1\n"));
  EXPECT_FALSE(has_substr(text, "[deep]"));
}

TEST(ConfigOutput, SectionViewsWriteTheirOwnTable) {
  const Config recipe = Config::load(fixture("basic.toml"));
  EXPECT_EQ(recipe.table("encoder").to_toml(),
            "plugin = \"roberta\"\nmodel = \"models/tiny\"\nmax_length = 128\n\n[init]\nhidden = 64\nlayers = 2\n");
}

TEST(ConfigOutput, ToJsonKeepsTypesAndOrder) {
  const Config recipe = Config::load(fixture("basic.toml"));
  const auto json = nlohmann::ordered_json::parse(recipe.to_json());
  EXPECT_EQ(json["run"]["seed"], 7);
  EXPECT_EQ(json["run"]["deterministic"], true);
  EXPECT_DOUBLE_EQ(json["train"]["lr"].get<double>(), 2e-5);
  EXPECT_EQ(json["eval"][1]["type"], "toy_retrieval");
  EXPECT_EQ(json["report"]["formats"][1], "md");
  EXPECT_EQ(json.begin().key(), "run");
  const auto when = nlohmann::json::parse(Config::parse("d = 2024-01-02\n").to_json());
  EXPECT_EQ(when["d"], "2024-01-02");
}

// ---- small pieces -------------------------------------------------------------------------------------

TEST(ClosestMatch, SuggestsWithinTheEditDistanceLimit) {
  const std::vector<std::string> keys = {"batch_size", "learning_rate", "warmup", "lr", "seed"};
  EXPECT_EQ(closest_match("batch_szie", keys), "batch_size");  // a transposition is one edit
  EXPECT_EQ(closest_match("learnig_rat", keys), "learning_rate");
  EXPECT_EQ(closest_match("sede", keys), "seed");
  EXPECT_EQ(closest_match("Warmup", keys), "warmup");  // case does not count
  EXPECT_EQ(closest_match("rl", keys), "lr");
  EXPECT_EQ(closest_match("temperature", keys), "");
  EXPECT_EQ(closest_match("wd", keys), "");  // replacing every letter is not a typo
  EXPECT_EQ(closest_match("x", {}), "");
  // The limit is max(2, len/3): 12 letters allow 4 edits, not 5.
  EXPECT_EQ(closest_match("abcdefghijkl", {"abcdefghWXYZ"}), "abcdefghWXYZ");
  EXPECT_EQ(closest_match("abcdefghijkl", {"abcdefgVWXYZ"}), "");
}

TEST(SourceLocationStr, FormatsWhatIsKnown) {
  EXPECT_EQ((SourceLocation{"r.toml", 3, 7}).str(), "r.toml:3:7");
  EXPECT_EQ((SourceLocation{"--set a=1", 0, 0}).str(), "--set a=1");
  EXPECT_EQ((SourceLocation{}).str(), "");
}

TEST(ValueTypes, NamesAndAcceptance) {
  using sentbench::accepts;
  EXPECT_STREQ(sentbench::to_string(ValueType::kFloat), "float");
  EXPECT_EQ(sentbench::type_phrase(ValueType::kInteger), "an integer");
  EXPECT_TRUE(accepts(ValueType::kFloat, ValueType::kInteger));
  EXPECT_FALSE(accepts(ValueType::kInteger, ValueType::kFloat));
  EXPECT_TRUE(accepts(ValueType::kPath, ValueType::kString));
  EXPECT_TRUE(accepts(ValueType::kAny, ValueType::kTable));
  EXPECT_FALSE(accepts(ValueType::kTable, ValueType::kArray));
}

namespace {

TEST(ConfigEnv, PathsExpandEnvironmentVariablesWithFallbacks) {
  ::setenv("SENTBENCH_TEST_DATA", "/srv/data", 1);
  ::unsetenv("SENTBENCH_TEST_UNSET");
  const Config c = Config::parse(
      "a = \"${SENTBENCH_TEST_DATA}/stsb\"\nb = \"${SENTBENCH_TEST_UNSET:-/fallback}/x\"\nc = \"${SENTBENCH_TEST_UNSET}/y\"\n",
      "env.toml");
  EXPECT_EQ(c.get_path("a"), fs::path("/srv/data/stsb"));
  EXPECT_EQ(c.get_path("b"), fs::path("/fallback/x"));
  try {
    c.get_path("c");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(has_substr(e.what(), "SENTBENCH_TEST_UNSET is not set"));
    EXPECT_TRUE(has_substr(e.what(), "env.toml:3"));
  }
}

}  // namespace
