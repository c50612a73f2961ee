// `sentbench sweep`'s plan and report (reports/sweep_report.hpp): --grid parsing and its errors, the
// Cartesian product with seeds, run names (short labels, safe characters, collisions), and the report
// (mean ± std over seeds, sorting, the bootstrap against the best, highlighted grid values, the files).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report_fixtures.hpp"
#include "sentbench/errors.hpp"
#include "sweep_report.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sentbench {
namespace {

std::vector<std::string> names(const SweepPlan& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan.runs) out.push_back(r.name);
  return out;
}

TEST(SweepGrid, ParsesKeyAndValues) {
  const GridAxis a = parse_grid_axis("stage[1].lr=1e-3, 3e-3 ,1e-2");
  EXPECT_EQ(a.key, "stage[1].lr");
  EXPECT_EQ(a.values, (std::vector<std::string>{"1e-3", "3e-3", "1e-2"}));
  EXPECT_EQ(a.label, "lr");
}

TEST(SweepGrid, CommasInsideBracketsAndQuotesDoNotSplit) {
  const GridAxis a = parse_grid_axis("report.formats=[\"json\",\"md\"],[\"html\"]");
  EXPECT_EQ(a.values, (std::vector<std::string>{"[\"json\",\"md\"]", "[\"html\"]"}));
  const GridAxis b = parse_grid_axis("run.name=\"a,b\",c");
  EXPECT_EQ(b.values, (std::vector<std::string>{"\"a,b\"", "c"}));
}

TEST(SweepGrid, BadGridsSayWhatAndHowToFix) {
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr"); }), HasSubstr("no '='"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr"); }), HasSubstr("--grid KEY=V1,V2"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("=1,2"); }), HasSubstr("key before '=' is empty"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr="); }), HasSubstr("no values"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr=1,,2"); }), HasSubstr("value 2 is empty"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr=1,2,"); }), HasSubstr("value 3 is empty"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train.lr=1,1"); }), HasSubstr("given twice"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("train lr=1"); }), HasSubstr("not a recipe key"));
  EXPECT_THAT(test::error_of<UsageError>([] { parse_grid_axis("a.b=[1,2"); }), HasSubstr("unclosed bracket"));
}

TEST(SweepPlan, CartesianProductFirstAxisSlowestTimesSeeds) {
  const SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1e-3,2e-3"), parse_grid_axis("train.batch_size=32,64")}, 2, 42);
  ASSERT_EQ(plan.configs.size(), 4u);
  ASSERT_EQ(plan.runs.size(), 8u);
  EXPECT_EQ(plan.seeds, (std::vector<std::int64_t>{42, 43}));
  EXPECT_EQ(names(plan), (std::vector<std::string>{
                             "lr=1e-3,batch_size=32,seed=42", "lr=1e-3,batch_size=32,seed=43",
                             "lr=1e-3,batch_size=64,seed=42", "lr=1e-3,batch_size=64,seed=43",
                             "lr=2e-3,batch_size=32,seed=42", "lr=2e-3,batch_size=32,seed=43",
                             "lr=2e-3,batch_size=64,seed=42", "lr=2e-3,batch_size=64,seed=43"}));
  EXPECT_EQ(plan.runs[3].overrides(),
            (std::vector<std::string>{"train.lr=1e-3", "train.batch_size=64", "run.seed=43"}));
  EXPECT_EQ(plan.runs[3].config, 1u);
  EXPECT_EQ(plan.runs[3].config_name, "lr=1e-3,batch_size=64");
  EXPECT_EQ(plan.configs[1].runs, (std::vector<std::size_t>{2, 3}));
}

TEST(SweepPlan, OneSeedKeepsTheRecipeSeedAndLeavesItOutOfNames) {
  const SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1e-3,2e-3")}, 1, 7);
  EXPECT_TRUE(plan.seeds.empty());
  EXPECT_EQ(names(plan), (std::vector<std::string>{"lr=1e-3", "lr=2e-3"}));
  EXPECT_EQ(plan.runs[0].overrides(), (std::vector<std::string>{"train.lr=1e-3"}));
}

TEST(SweepPlan, SharedLastComponentsUseTheWholeKey) {
  const SweepPlan plan = plan_sweep({parse_grid_axis("stage[0].lr=1,2"), parse_grid_axis("stage[1].lr=3")}, 1, 42);
  EXPECT_EQ(plan.axes[0].label, "stage0.lr");
  EXPECT_EQ(plan.runs[0].name, "stage0.lr=1,stage1.lr=3");
  // A key whose last component is "seed" would be confused with the added seeds.
  const SweepPlan seeded = plan_sweep({parse_grid_axis("data.seed=1,2")}, 2, 42);
  EXPECT_EQ(seeded.runs[0].name, "data.seed=1,seed=42");
}

TEST(SweepPlan, ValuesBecomeSafeNamesAndCollisionsGetAHash) {
  EXPECT_EQ(name_safe_value("\"mean\""), "mean");
  EXPECT_EQ(name_safe_value("../data/a b.jsonl"), ".._data_a_b.jsonl");
  EXPECT_EQ(name_safe_value("[1, 2]"), "_1__2_");
  EXPECT_EQ(name_safe_value("\"\""), "_");
  const SweepPlan plan = plan_sweep({parse_grid_axis("encoder.pooling=\"a/b\",\"a_b\"")}, 1, 42);
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_NE(plan.runs[0].name, plan.runs[1].name);
  EXPECT_THAT(plan.runs[0].name, ::testing::StartsWith("pooling=a_b-"));
  EXPECT_EQ(plan.runs[0].name.size(), std::string("pooling=a_b-").size() + 8);
  // Very long names are cut and keep a hash of the whole settings.
  const SweepPlan longer = plan_sweep({parse_grid_axis("run.name=" + std::string(200, 'x'))}, 1, 42);
  EXPECT_LE(longer.runs[0].name.size(), 120u);
}

TEST(SweepPlan, RejectsRepeatedKeysAndSeedsTwice) {
  EXPECT_THAT(test::error_of<UsageError>([] { plan_sweep({parse_grid_axis("a.b=1"), parse_grid_axis("a.b=2")}, 1, 42); }),
              HasSubstr("a.b is given twice"));
  EXPECT_THAT(test::error_of<UsageError>([] { plan_sweep({parse_grid_axis("run.seed=1,2")}, 2, 42); }),
              HasSubstr("drop --seeds"));
  EXPECT_THAT(test::error_of<UsageError>([] { plan_sweep({}, 1, 42); }), HasSubstr("at least one --grid"));
}

// Outcomes for a 3 × 2 sweep on constructed reports: lr=2 is best by a wide margin on every item.
struct SweepFixture {
  SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1,2,3")}, 2, 42);
  std::vector<SweepRunOutcome> outcomes{plan.runs.size()};
  SweepFixture() {
    const double shift[] = {0.0, 0.2, 0.05};
    for (std::size_t r = 0; r < plan.runs.size(); ++r) {
      std::vector<double> items = test::query_scores(60, 7);
      const std::vector<double> noise = test::query_scores(60, 100 + static_cast<unsigned>(plan.runs[r].config));
      const double jitter = plan.runs[r].seed == 43 ? 0.01 : 0.0;
      for (std::size_t i = 0; i < items.size(); ++i) {
        items[i] = items[i] * 0.5 + 0.1 * noise[i] + shift[plan.runs[r].config] + jitter;
      }
      outcomes[r].status = "done";
      outcomes[r].report = test::constructed_report(plan.runs[r].name, items, 4.0, 1000.0 * (1 + plan.runs[r].config));
    }
  }
};

TEST(SweepReport, AggregatesSeedsSortsAndTestsAgainstTheBest) {
  SweepFixture f;
  f.outcomes[5].report.reset();  // lr=3, seed 43 did not finish
  f.outcomes[5].status = "failed (exit 1)";
  const SweepSummary s = summarize_sweep(f.plan, f.outcomes);
  ASSERT_EQ(s.tasks.size(), 1u);
  EXPECT_EQ(s.tasks[0].name, "nfcorpus-mini");
  EXPECT_EQ(s.finished, 5u);
  ASSERT_EQ(s.configs.size(), 3u);
  EXPECT_EQ(s.configs[0].name, "lr=2");
  EXPECT_EQ(s.configs[1].name, "lr=3");
  EXPECT_EQ(s.configs[2].name, "lr=1");
  const SweepScore& best = s.configs[0].scores[0];
  EXPECT_EQ(best.runs, 2u);
  EXPECT_NEAR(best.values[1] - best.values[0], 0.01, 1e-9);
  EXPECT_NEAR(best.std, 0.01 / std::sqrt(2.0), 1e-9);
  EXPECT_EQ(s.configs[1].scores[0].runs, 1u);
  EXPECT_EQ(s.configs[1].finished, 1u);
  EXPECT_DOUBLE_EQ(s.configs[2].train_tokens_per_s, 1000.0);
  EXPECT_DOUBLE_EQ(s.configs[0].train_seconds, 60.0);
  EXPECT_FALSE(s.configs[0].vs_best);
  ASSERT_TRUE(s.configs[2].vs_best);
  EXPECT_NEAR(s.configs[2].vs_best->delta, -0.2, 0.02);
  EXPECT_LT(s.configs[2].vs_best->low, s.configs[2].vs_best->high);
  EXPECT_TRUE(s.configs[2].vs_best->excludes_zero());
  EXPECT_EQ(s.configs[2].vs_best_seed, "seed 42");
  // With seeds, Δ best is Welch's t interval over the seed means: both sides have two runs whose scores
  // differ by 0.01, so s = 0.01/√2 a side, se = √(2·s²/2) = 0.01/√2, df = 2, t(0.975, 2) = 4.302653.
  ASSERT_TRUE(s.configs[2].vs_best_seeds);
  const SeedTest& t = *s.configs[2].vs_best_seeds;
  EXPECT_NEAR(t.delta, s.configs[2].scores[0].mean - best.mean, 1e-12);
  EXPECT_NEAR(t.df, 2.0, 1e-9);
  EXPECT_NEAR(t.high - t.low, 2 * 4.302653 * 0.01 / std::sqrt(2.0), 1e-5);
  EXPECT_TRUE(t.excludes_zero());
  // lr=3 finished one seed: that side is assumed to vary as the best does (df = 2 - 1).
  ASSERT_TRUE(s.configs[1].vs_best_seeds);
  EXPECT_NEAR(s.configs[1].vs_best_seeds->df, 1.0, 1e-12);
  EXPECT_THAT(s.notes, ::testing::Contains("lr=3,seed=43: failed (exit 1)"));
}

TEST(SweepReport, WithoutSeedsDeltaBestIsTheItemBootstrapAndSaysSo) {
  const SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1,2")}, 1, 42);
  std::vector<SweepRunOutcome> outcomes(plan.runs.size());
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    std::vector<double> items = test::query_scores(60, 7);
    for (double& x : items) x = x * 0.5 + 0.1 * static_cast<double>(r);
    outcomes[r].status = "done";
    outcomes[r].report = test::constructed_report(plan.runs[r].name, items, 4.0, 1000.0);
  }
  const SweepSummary s = summarize_sweep(plan, outcomes);
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_FALSE(s.configs[1].vs_best_seeds);
  ASSERT_TRUE(s.configs[1].vs_best);
  EXPECT_NEAR(s.configs[1].vs_best->delta, -0.1, 1e-9);
  EXPECT_THAT(render_sweep_markdown(s), HasSubstr("not another seed's"));
}

TEST(SweepReport, SortByAnotherTaskAndUnknownTask) {
  SweepFixture f;
  EXPECT_THAT(test::error_of<ConfigError>([&] {
                SweepReportOptions o;
                o.sort_task = "nope";
                summarize_sweep(f.plan, f.outcomes, o);
              }),
              HasSubstr("the tasks are: nfcorpus-mini"));
}

TEST(SweepReport, WritesMarkdownHtmlAndJson) {
  SweepFixture f;
  SweepReportOptions options;
  options.title = "Sweep of test.toml over train.lr";
  options.recipe = "test.toml";
  const SweepSummary s = summarize_sweep(f.plan, f.outcomes, options);
  test::TempDir tmp;
  const auto files = write_sweep_report(s, tmp.path());
  ASSERT_EQ(files.size(), 3u);
  for (const char* name : {"sweep.json", "sweep.md", "sweep.html"}) EXPECT_TRUE(fs::exists(tmp / name)) << name;

  const std::string md = read_file(tmp / "sweep.md");
  EXPECT_THAT(md, HasSubstr("3 configurations × 2 seeds = 6 runs, 6 finished"));
  EXPECT_THAT(md, HasSubstr("nfcorpus-mini ndcg@10"));
  EXPECT_THAT(md, HasSubstr(" ± "));
  EXPECT_THAT(md, HasSubstr(" best |"));
  EXPECT_THAT(md, HasSubstr("**1**"));  // lr=1 differs from the best (lr=2): highlighted
  EXPECT_THAT(md, ::testing::Not(HasSubstr("**2**")));
  EXPECT_LT(md.find(" best |"), md.find("| **3** |")) << md;
  EXPECT_LT(md.find("| **3** |"), md.find("| **1** |")) << md;

  const std::string html = read_file(tmp / "sweep.html");
  EXPECT_THAT(html, HasSubstr("<td class=\"diff\">1</td>"));
  EXPECT_THAT(html, HasSubstr("main score against train.lr"));
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script")));

  const auto j = nlohmann::json::parse(read_file(tmp / "sweep.json"));
  EXPECT_EQ(j["schema"], "sentbench.sweep/1");
  ASSERT_EQ(j["configurations"].size(), 3u);
  EXPECT_EQ(j["configurations"][0]["name"], "lr=2");
  EXPECT_EQ(j["configurations"][0]["best"], true);
  EXPECT_EQ(j["configurations"][0]["runs"].size(), 2u);
  EXPECT_EQ(j["configurations"][0]["settings"]["train.lr"], "2");
  EXPECT_EQ(j["configurations"][0]["scores"]["nfcorpus-mini"]["runs"], 2);
  EXPECT_LT(j["configurations"][2]["vs_best"]["high"].get<double>(), 0.0);
  EXPECT_LT(j["configurations"][2]["vs_best"]["seeds"]["high"].get<double>(), 0.0);
  EXPECT_EQ(j["configurations"][2]["vs_best"]["seeds"]["runs"], 2);
  EXPECT_THAT(md, HasSubstr("Welch t interval from the between-seed spread"));
  EXPECT_EQ(j["sort_task"], "nfcorpus-mini");
}

TEST(SweepReport, NothingFinishedStillWritesAReport) {
  const SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1,2")}, 1, 42);
  const SweepSummary s = summarize_sweep(plan, std::vector<SweepRunOutcome>(plan.runs.size()));
  EXPECT_TRUE(s.tasks.empty());
  EXPECT_THAT(render_sweep_markdown(s), HasSubstr("2 configurations = 2 runs, 0 finished"));
  EXPECT_THAT(render_sweep_html(s), HasSubstr("No finished run to plot yet."));
}

}  // namespace
}  // namespace sentbench
