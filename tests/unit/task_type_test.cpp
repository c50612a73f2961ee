// Task types as a registry: the fixture type of fixture_task_type.cpp registers itself from its own
// file, and the suite, validation, results.json and the reports handle it by its metadata alone. Also:
// every task's data is loaded before anything is encoded, and a task failing at run time is recorded
// as failed while the others' results are kept.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bag_encoder.hpp"
#include "recipe_schema.hpp"
#include "report.hpp"
#include "sentbench/errors.hpp"
#include "suite.hpp"
#include "test_util.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;
using sentbench::test::TempDir;
using testing::HasSubstr;

namespace sentbench {
namespace {

// Two groups of texts that share words within a group: the bag encoder finds each text's group.
void write_groups(const fs::path& file) {
  std::ofstream out(file);
  for (int i = 0; i < 6; ++i) out << "apple pear fruit " << i << "\tfruit\n";
  for (int i = 0; i < 6; ++i) out << "engine wheel car " << i << "\tcar\n";
}

Config recipe_with(const TempDir& tmp, const std::string& evals) {
  return Config::parse("[encoder]\nplugin = \"bag\"\n" + evals, (tmp / "recipe.toml").string());
}

SuiteOptions options_for(const TempDir& tmp) {
  SuiteOptions o;
  o.output_dir = tmp / "out";
  o.use_cache = false;
  return o;
}

TEST(TaskTypes, TheFixtureTypeRegistersFromItsOwnFile) {
  const TaskTypeSpec* spec = find_task_type("nearest_neighbour");
  ASSERT_NE(spec, nullptr) << "tests/unit/fixture_task_type.cpp registers it; nothing else names it";
  EXPECT_EQ(spec->info.main_metric, "nn_accuracy");
  const auto types = task_types();
  for (const char* builtin : {"retrieval", "sts", "clustering", "nearest_neighbour"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), builtin), types.end()) << builtin;
  }
  // Its keys take part in recipe validation.
  TempDir tmp;
  write_groups(tmp / "groups.tsv");
  const Config bad = recipe_with(tmp, "[[eval]]\ntype = \"nearest_neighbour\"\npath = \"groups.tsv\"\nk = 3\n");
  const auto problems = validate_recipe(bad, nullptr);
  ASSERT_FALSE(problems.empty());
  // 'k' is not one of its keys; the message lists the keys the fixture type declared.
  bool named = false;
  for (const auto& p : problems) {
    named = named || (p.message.find("unknown key 'eval[0].k'") != std::string::npos &&
                      p.message.find("fail_while_scoring") != std::string::npos);
  }
  EXPECT_TRUE(named) << problems.front().str();
}

TEST(TaskTypes, TheSuiteScoresItAndTheReportsRenderItFromItsMetadata) {
  TempDir tmp;
  write_groups(tmp / "groups.tsv");
  const Config recipe = recipe_with(tmp, "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"groups\"\npath = \"groups.tsv\"\n");
  torch::manual_seed(1);
  test::BagEncoder encoder;
  const std::vector<TaskResult> results = run_suite(recipe, encoder, options_for(tmp));
  ASSERT_EQ(results.size(), 1u);
  const TaskResult& r = results[0];
  ASSERT_TRUE(r.ran()) << r.why_not_run();
  EXPECT_EQ(r.main_metric, "nn_accuracy");
  EXPECT_EQ(r.items, 12);
  EXPECT_DOUBLE_EQ(r.model.main_score, 1.0) << "texts of a group share three words; the groups share none";
  EXPECT_EQ(r.model.per_item.scores.size(), 12u);
  EXPECT_TRUE(r.metric("texts").is_count);
  EXPECT_EQ(r.baselines.count("random-init"), 0u) << "the bag encoder has no random-init form";
  EXPECT_EQ(r.notes.at("lexical"), "the task type has no lexical baseline");
  ASSERT_TRUE(r.model.peak_rss_bytes.has_value());
  EXPECT_GT(*r.model.peak_rss_bytes, 0);

  // results.json round trip, then a report: the metric and the item noun come from the metadata.
  const std::vector<TaskResult> back = results_from_json(results_to_json(results), "results.json");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(task_result_to_json(back[0]), task_result_to_json(r));
  Report report;
  report.run_name = "fixture";
  report.tasks = back;
  const std::string md = render_markdown(report);
  EXPECT_THAT(md, HasSubstr("### groups (nearest_neighbour, 12 texts)"));
  EXPECT_THAT(md, testing::ContainsRegex("\\| texts +\\| +12 \\|"));  // a count: no decimals
}

TEST(TaskTypes, EveryTasksDataIsCheckedBeforeAnythingIsEncoded) {
  TempDir tmp;
  write_groups(tmp / "groups.tsv");
  std::ofstream(tmp / "bad.tsv") << "apple\tfruit\nno tab here\n";
  const Config recipe = recipe_with(tmp, "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"a\"\npath = \"groups.tsv\"\n"
                                         "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"b\"\npath = \"groups.tsv\"\n"
                                         "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"c\"\npath = \"bad.tsv\"\n");
  try {
    prepare_suite(recipe);
    ADD_FAILURE() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.tsv:2"));
  }
  // Through run_suite too: the encoder is never called.
  test::BagEncoder encoder;
  EXPECT_THROW(run_suite(recipe, encoder, options_for(tmp)), DataError);
  EXPECT_TRUE(encoder.modes.empty() && !encoder.grad_in_forward);
}

TEST(TaskTypes, ATaskFailingWhileScoringIsRecordedAndTheOthersKept) {
  TempDir tmp;
  write_groups(tmp / "groups.tsv");
  const Config recipe = recipe_with(tmp, "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"first\"\npath = \"groups.tsv\"\n"
                                         "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"broken\"\npath = \"groups.tsv\"\n"
                                         "fail_while_scoring = true\n"
                                         "[[eval]]\ntype = \"nearest_neighbour\"\nname = \"last\"\npath = \"groups.tsv\"\n");
  test::BagEncoder encoder;
  const std::vector<TaskResult> results = run_suite(recipe, encoder, options_for(tmp));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ran());
  EXPECT_FALSE(results[1].ran());
  EXPECT_THAT(results[1].failed, HasSubstr("the fixture was asked to fail"));
  EXPECT_TRUE(results[2].ran());
  EXPECT_TRUE(suite_failed(results));
  const auto j = nlohmann::json::parse(results_to_json(results));
  EXPECT_EQ(j["tasks"][1]["failed"], results[1].failed);
  EXPECT_FALSE(j["tasks"][1].contains("model"));
  Report report;
  report.tasks = results;
  EXPECT_THAT(render_markdown(report), HasSubstr("- broken: FAILED ("));
}

}  // namespace
}  // namespace sentbench
