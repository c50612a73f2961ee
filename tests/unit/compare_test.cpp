// Paired bootstrap on cases with known answers, `compare` tables, and the regression gate on constructed
// reports: a real regression is caught, a noise-level difference is not, throughput drops are caught.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <fmt/format.h>

#include "bootstrap.hpp"
#include "compare.hpp"
#include "report_fixtures.hpp"
#include "sentbench/errors.hpp"

using ::testing::HasSubstr;

namespace sentbench {
namespace {

PairedItems mean_items(std::vector<double> a, std::vector<double> b) {
  PairedItems p;
  p.a = std::move(a);
  p.b = std::move(b);
  return p;
}

// ---- bootstrap ------------------------------------------------------------------------------------

TEST(Bootstrap, IdenticalRunsGiveExactlyZero) {
  const auto a = test::query_scores(200, 1);
  const BootstrapResult r = paired_bootstrap(mean_items(a, a));
  EXPECT_EQ(r.delta, 0.0);
  EXPECT_EQ(r.low, 0.0);
  EXPECT_EQ(r.high, 0.0);
  EXPECT_FALSE(r.excludes_zero());
  EXPECT_EQ(r.resamples, 1000);
  EXPECT_EQ(r.items, 200u);
}

TEST(Bootstrap, AConstantShiftOfEveryItemIsTheWholeInterval) {
  const auto a = test::query_scores(150, 2);
  std::vector<double> b = a;
  for (auto& v : b) v += 0.1;
  const BootstrapResult r = paired_bootstrap(mean_items(a, b));
  EXPECT_NEAR(r.delta, 0.1, 1e-12);
  EXPECT_NEAR(r.low, 0.1, 1e-12);
  EXPECT_NEAR(r.high, 0.1, 1e-12);
  EXPECT_TRUE(r.excludes_zero());
}

TEST(Bootstrap, IntervalMatchesTheNormalApproximationForAMean) {
  // Differences with mean 0.05 and standard deviation 0.2 over 400 items: the 95% interval of the mean
  // is about 0.05 ± 1.96 · 0.2 / 20 = [0.0304, 0.0696].
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.05, 0.2);
  std::vector<double> a(400), b(400);
  double sum = 0, sumsq = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = 0.5;
    b[i] = 0.5 + noise(rng);
    sum += b[i] - a[i];
    sumsq += (b[i] - a[i]) * (b[i] - a[i]);
  }
  const double mean = sum / 400, sd = std::sqrt(sumsq / 400 - mean * mean);
  const BootstrapResult r = paired_bootstrap(mean_items(a, b), {5000, 11, 0.05});
  EXPECT_NEAR(r.delta, mean, 1e-12);
  const double half = 1.96 * sd / std::sqrt(400.0);
  EXPECT_NEAR(r.low, mean - half, 0.15 * half);
  EXPECT_NEAR(r.high, mean + half, 0.15 * half);
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOtherInterval) {
  const auto a = test::query_scores(100, 3);
  const auto b = test::query_scores(100, 4);
  const BootstrapResult r1 = paired_bootstrap(mean_items(a, b), {1000, 42, 0.05});
  const BootstrapResult r2 = paired_bootstrap(mean_items(a, b), {1000, 42, 0.05});
  const BootstrapResult r3 = paired_bootstrap(mean_items(a, b), {1000, 43, 0.05});
  EXPECT_EQ(r1.low, r2.low);
  EXPECT_EQ(r1.high, r2.high);
  EXPECT_NE(r1.low, r3.low);
  EXPECT_EQ(r1.delta, r3.delta);
}

TEST(Bootstrap, SeedIsPinnedAcrossBuilds) {
  // std::mt19937_64 is fully specified and the index mapping is our own, so this value must not move
  // with the compiler or standard library. If it does, intervals in old reports are no longer reproducible.
  const std::vector<double> a = {0.1, 0.2, 0.3, 0.4, 0.5};
  const std::vector<double> b = {0.3, 0.1, 0.6, 0.4, 0.9};
  const BootstrapResult r = paired_bootstrap(mean_items(a, b), {10, 7, 0.2});
  EXPECT_NEAR(r.delta, 0.16, 1e-12);
  EXPECT_NEAR(r.low, 0.09, 1e-12);
  EXPECT_NEAR(r.high, 0.204, 1e-12);
  std::mt19937_64 standard;  // [rand.predef]: the 10000th output of a default-constructed engine
  standard.discard(9999);
  EXPECT_EQ(standard(), 9981545732273789042ull);
}

TEST(Bootstrap, SpearmanStatisticResamplesPairs) {
  // STS-like: gold values, a run with noisy predictions, and one that ranks every pair right.
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0, 0.8);
  PairedItems p;
  p.statistic = ItemStatistic::kSpearman;
  for (int i = 0; i < 120; ++i) {
    const double gold = (i % 21) * 0.25;
    p.reference.push_back(gold);
    p.a.push_back(gold + noise(rng));
    p.b.push_back(gold * 0.2);
  }
  std::vector<std::size_t> all(120);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  EXPECT_NEAR(item_statistic(ItemStatistic::kSpearman, p.b, p.reference, all), 1.0, 1e-12);
  const BootstrapResult r = paired_bootstrap(p);
  EXPECT_NEAR(r.delta, 1.0 - item_statistic(ItemStatistic::kSpearman, p.a, p.reference, all), 1e-12);
  EXPECT_GT(r.low, 0);
  EXPECT_TRUE(r.excludes_zero());

  PairedItems same = p;
  same.b = same.a;
  const BootstrapResult zero = paired_bootstrap(same);
  EXPECT_EQ(zero.low, 0.0);
  EXPECT_EQ(zero.high, 0.0);
}

TEST(Bootstrap, PairsItemsByIdThenByPosition) {
  TaskResult a, b;
  a.model.per_item.ids = {"q1", "q2", "q3"};
  a.model.per_item.scores = {0.1, 0.2, 0.3};
  b.model.per_item.ids = {"q3", "q9", "q1"};
  b.model.per_item.scores = {0.33, 0.9, 0.11};
  auto p = pair_items(a, b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->a, (std::vector<double>{0.1, 0.3}));
  EXPECT_EQ(p->b, (std::vector<double>{0.11, 0.33}));

  a.model.per_item.ids.clear();
  b.model.per_item.ids.clear();
  p = pair_items(a, b);  // without ids, by position
  ASSERT_TRUE(p);
  EXPECT_EQ(p->b, (std::vector<double>{0.33, 0.9, 0.11}));
  std::string why;
  b.model.per_item.scores.push_back(0.5);
  EXPECT_FALSE(pair_items(a, b, &why));
  EXPECT_THAT(why, HasSubstr("different item counts (3 and 4)"));
  b.model.per_item.scores.clear();
  EXPECT_FALSE(pair_items(a, b, &why));
  EXPECT_THAT(why, HasSubstr("no per-item scores"));
}

TEST(Bootstrap, RejectsEmptyInput) { EXPECT_THROW(paired_bootstrap(PairedItems{}), ConfigError); }

// ---- compare --------------------------------------------------------------------------------------

TEST(Compare, SideBySideWithDeltasAndBootstrap) {
  const auto base = test::query_scores(300, 21);
  std::vector<double> better = base;
  for (auto& v : better) v = std::min(1.0, v + 0.03);
  const Report a = test::constructed_report("baseline", base);
  const Report b = test::constructed_report("better", better, 2.0);
  const Report c = test::constructed_report("same", base);
  const Comparison cmp = compare_reports({a, b, c}, {"a.json", "b.json", "c.json"});
  ASSERT_EQ(cmp.tasks.size(), 1u);
  const TaskComparison& t = cmp.tasks[0];
  ASSERT_TRUE(t.bootstrap[1]);
  EXPECT_TRUE(t.bootstrap[1]->excludes_zero());
  EXPECT_GT(t.bootstrap[1]->low, 0.02);
  ASSERT_TRUE(t.bootstrap[2]);
  EXPECT_FALSE(t.bootstrap[2]->excludes_zero());
  const std::string text = render_comparison(cmp);
  EXPECT_THAT(text, AllOf(HasSubstr("| metric "), HasSubstr(" B − A |"), HasSubstr(" C − A |"), HasSubstr("| ndcg@10 ")));
  EXPECT_THAT(text, HasSubstr("B − A: +0.0"));
  EXPECT_THAT(text, HasSubstr("excludes 0: significant"));
  EXPECT_THAT(text, HasSubstr("C − A: 0.0000 [0.0000, 0.0000], includes 0: not significant"));
  EXPECT_THAT(text, HasSubstr("+100.0%"));  // B encodes twice as fast
  const auto j = comparison_json(cmp);
  EXPECT_EQ(j["tasks"][0]["bootstrap"][0]["report"], "B");
  EXPECT_EQ(j["tasks"][0]["bootstrap"][0]["excludes_zero"], true);
}

TEST(Compare, NotesTasksThatAreNotInEveryReportAndChangedData) {
  const auto base = test::query_scores(50, 22);
  const Report a = test::constructed_report("baseline", base);
  Report b = test::constructed_report("other", base);
  b.tasks[0].dataset_hash = "ffffffffffffffff";
  TaskResult extra = b.tasks[0];
  extra.name = "only-in-b";
  b.tasks.push_back(extra);
  const Comparison cmp = compare_reports({a, b}, {"a", "b"});
  ASSERT_EQ(cmp.tasks.size(), 1u);
  EXPECT_FALSE(cmp.tasks[0].bootstrap[1]);
  EXPECT_THAT(render_comparison(cmp), AllOf(HasSubstr("dataset hash ffffffffffffffff differs"), HasSubstr("task only-in-b is only in B")));
  EXPECT_THROW(compare_reports({a}, {"a"}), UsageError);
}

TEST(Compare, FixtureAgainstItself) {
  const Report r = test::fixture_report();
  const Comparison cmp = compare_reports({r, r}, {"x", "y"});
  EXPECT_EQ(cmp.tasks.size(), 3u);  // the skipped task is not compared
  for (const auto& t : cmp.tasks) {
    ASSERT_TRUE(t.bootstrap[1]) << t.name;
    EXPECT_EQ(t.bootstrap[1]->low, 0.0);
    EXPECT_EQ(t.bootstrap[1]->high, 0.0);
  }
}

// ---- regress --------------------------------------------------------------------------------------

const RegressionFinding* finding(const RegressionReport& r, const std::string& what) {
  for (const auto& f : r.findings) {
    if (f.what == what) return &f;
  }
  return nullptr;
}

TEST(Regress, CatchesARealDropAndNamesTaskAndSize) {
  const auto base = test::query_scores(300, 31);
  std::vector<double> worse = base;
  for (auto& v : worse) v -= 0.05;
  const RegressionReport r = check_regressions(test::constructed_report("baseline", base), test::constructed_report("current", worse), {});
  EXPECT_TRUE(r.regressed());
  const RegressionFinding* f = finding(r, "ndcg@10");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->regressed);
  EXPECT_NEAR(f->change, -0.05, 1e-9);
  const std::string text = render_regressions(r, "base.json", "cur.json");
  EXPECT_THAT(text, HasSubstr("REGRESSED"));
  EXPECT_THAT(text, HasSubstr("nfcorpus-mini"));
  EXPECT_THAT(text, HasSubstr("−0.0500"));
  EXPECT_THAT(text, HasSubstr("dropped 0.0500 > tolerance 0.0100"));
  EXPECT_THAT(text, HasSubstr("FAIL: 1 of"));
}

TEST(Regress, NoiseLevelDifferenceIsNotFlagged) {
  // Every item moves by ±0.02 in alternating directions: the main score is unchanged and the bootstrap
  // interval straddles zero.
  const auto base = test::query_scores(300, 32);
  std::vector<double> noisy = base;
  for (std::size_t i = 0; i < noisy.size(); ++i) noisy[i] += (i % 2 ? 0.02 : -0.02);
  const RegressionReport r = check_regressions(test::constructed_report("baseline", base), test::constructed_report("current", noisy), {});
  EXPECT_FALSE(r.regressed()) << render_regressions(r, "b", "c");
  EXPECT_THAT(render_regressions(r, "b", "c"), AllOf(HasSubstr("includes 0"), HasSubstr("PASS")));

  // A small drop (0.001) under item noise of ±0.03 also passes: the interval includes zero.
  std::vector<double> jitter = base;
  for (std::size_t i = 0; i < jitter.size(); ++i) jitter[i] += (i % 2 ? 0.03 : -0.03) - 0.001;
  const RegressionReport r2 = check_regressions(test::constructed_report("baseline", base), test::constructed_report("current", jitter), {});
  EXPECT_FALSE(r2.regressed()) << render_regressions(r2, "b", "c");
}

TEST(Regress, SignificantDropsFailAboveMinDropEvenWithinTheAbsoluteTolerance) {
  const auto base = test::query_scores(300, 33);
  std::vector<double> slightly = base;
  for (auto& v : slightly) v -= 0.005;  // consistent on every query: significant, but < 0.01
  const Report b = test::constructed_report("baseline", base), c = test::constructed_report("current", slightly);
  const RegressionReport r = check_regressions(b, c, {});
  EXPECT_TRUE(r.regressed());
  EXPECT_THAT(finding(r, "ndcg@10")->reason, HasSubstr("a significant drop of 0.0050"));

  Tolerances no_significance;
  no_significance.significance = false;
  EXPECT_FALSE(check_regressions(b, c, no_significance).regressed());

  std::vector<double> tiny = base;
  for (auto& v : tiny) v -= 0.0005;  // significant but below min_drop: float-level changes never fail
  EXPECT_FALSE(check_regressions(b, test::constructed_report("current", tiny), {}).regressed());
}

TEST(Regress, ThroughputDropBeyondTheThresholdIsCaught) {
  const auto items = test::query_scores(100, 34);
  const Report base = test::constructed_report("baseline", items, 4.0);
  const RegressionReport slower = check_regressions(base, test::constructed_report("current", items, 8.0), {});  // half the items/s
  EXPECT_TRUE(slower.regressed());
  const RegressionFinding* f = finding(slower, "encode items/s");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->regressed);
  EXPECT_NEAR(f->change, -0.5, 1e-12);
  EXPECT_THAT(render_regressions(slower, "b", "c"), AllOf(HasSubstr("slower by 50.0% > tolerance 20.0%"), HasSubstr("−50.0%")));

  EXPECT_FALSE(check_regressions(base, test::constructed_report("current", items, 4.4), {}).regressed());  // 9% slower

  const RegressionReport training = check_regressions(base, test::constructed_report("current", items, 4.0, 3000.0), {});
  EXPECT_TRUE(training.regressed());
  ASSERT_TRUE(finding(training, "train tokens/s"));
  EXPECT_TRUE(finding(training, "train tokens/s")->regressed);

  // Rates of runs on different numbers of ranks are still gated, with a warning that says so.
  Report on_two = test::constructed_report("current", items, 4.0);
  on_two.training->world_size = 2;
  EXPECT_THAT(render_regressions(check_regressions(base, on_two, {}), "b", "c"),
              HasSubstr("training throughput compared across world sizes: baseline 1 rank, current 2"));

  // Timings under half a second are noise, not a signal.
  const RegressionReport quick = check_regressions(test::constructed_report("baseline", items, 0.1),
                                                   test::constructed_report("current", items, 0.3), {});
  EXPECT_FALSE(quick.regressed());
  EXPECT_THAT(render_regressions(quick, "b", "c"), HasSubstr("encode throughput not gated"));
}

TEST(Regress, AMissingOrSkippedTaskRegresses) {
  const auto items = test::query_scores(50, 35);
  const Report base = test::constructed_report("baseline", items);
  Report cur = test::constructed_report("current", items);
  cur.tasks[0].name = "renamed";
  const RegressionReport r = check_regressions(base, cur, {});
  EXPECT_TRUE(r.regressed());
  EXPECT_THAT(render_regressions(r, "b", "c"), AllOf(HasSubstr("missing from the current run"), HasSubstr("renamed: new task")));
}

TEST(Regress, ASkippedOptionalTaskFailsUnlessAllowed) {
  const auto items = test::query_scores(50, 35);
  const Report base = test::constructed_report("baseline", items);
  Report cur = test::constructed_report("current", items);
  cur.tasks[0].skipped = "optional: data/stsb/sts-test.csv not found";
  EXPECT_TRUE(check_regressions(base, cur, {}).regressed());  // the nightly gate: data that vanished fails
  Tolerances allow;
  allow.allow_skipped = true;
  const RegressionReport r = check_regressions(base, cur, allow);
  EXPECT_FALSE(r.regressed());
  EXPECT_THAT(render_regressions(r, "b", "c"), HasSubstr("not compared: --allow-skipped"));
  Report gone = test::constructed_report("current", items);
  gone.tasks[0].name = "renamed";  // missing altogether: still a regression
  EXPECT_TRUE(check_regressions(base, gone, allow).regressed());
}

TEST(Regress, TolerancesComeFromTheRecipe) {
  const nlohmann::json recipe = {{"report", {{"tolerance", {{"main_score", 0.05}, {"throughput", 0.5}, {"significance", false}}}}}};
  const Tolerances t = tolerances_from_recipe(recipe, {});
  EXPECT_DOUBLE_EQ(t.main_score, 0.05);
  EXPECT_DOUBLE_EQ(t.throughput, 0.5);
  EXPECT_FALSE(t.significance);
  EXPECT_EQ(t.origin.at("main_score"), "recipe");
  EXPECT_EQ(t.origin.count("alpha"), 0u);
  EXPECT_DOUBLE_EQ(tolerances_from_recipe(nlohmann::json::object(), {}).main_score, 0.01);

  const nlohmann::json bad = {{"report", {{"tolerance", {{"main_score", "lots"}}}}}};
  try {
    tolerances_from_recipe(bad, {});
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("report.tolerance.main_score"), HasSubstr("expected a number")));
  }
  Tolerances nonsense;
  nonsense.throughput = 20;  // percent instead of a fraction
  EXPECT_THROW(check_regressions(Report{}, Report{}, nonsense), ConfigError);
}

// ---- seeds and too few items ----------------------------------------------------------------------

TEST(Bootstrap, FewerItemsThanTheThresholdAreNotTestable) {
  // Every item 0.0108 higher: over 200 items a clear effect, over 3 items "not testable".
  std::vector<double> a = {0.37, 0.41, 0.38}, b;
  for (const double v : a) b.push_back(v + 0.0108);
  const BootstrapResult few = paired_bootstrap(mean_items(a, b));
  EXPECT_FALSE(few.testable);
  EXPECT_FALSE(few.excludes_zero()) << "an interval over 3 items is never called significant";
  EXPECT_NEAR(few.delta, 0.0108, 1e-12);
  BootstrapOptions lax;
  lax.min_items = 3;
  EXPECT_TRUE(paired_bootstrap(mean_items(a, b), lax).excludes_zero()) << "the threshold is what decides";
  const auto many_a = test::query_scores(BootstrapOptions::kMinBootstrapItems, 5);
  std::vector<double> many_b;
  for (const double v : many_a) many_b.push_back(v + 0.0108);
  EXPECT_TRUE(paired_bootstrap(mean_items(many_a, many_b)).excludes_zero());
}

// The quickstart's committed report, run again with another seed that moves every clustering subset up
// by about 0.0108 (as two real seeds did, from a bootstrap over 3 subsets): compare must not call it
// significant, and says the difference is seed noise.
Report quickstart_with_seed(int seed, double shift, std::size_t subsets) {
  Report r = load_report(std::filesystem::path(SENTBENCH_SOURCE_DIR) / "reports" / "baselines" / "quickstart.json");
  r.recipe["run"]["seed"] = seed;
  for (TaskResult& t : r.tasks) {
    if (t.name != "debian-sections") continue;
    ItemScores& items = t.model.per_item;
    items.ids.resize(subsets);
    items.scores.resize(subsets);
    for (std::size_t i = 0; i < subsets; ++i) items.scores[i] += shift + 0.0004 * static_cast<double>(i);
    double sum = 0;
    for (const double v : items.scores) sum += v;
    t.model.main_score = sum / static_cast<double>(subsets);
    t.model.metrics[t.main_metric] = t.model.main_score;
  }
  return r;
}

TEST(CompareSeeds, TwoSeedsOfOneRecipeOnThreeClusteringSubsetsAreNotSignificant) {
  const Report a = quickstart_with_seed(42, 0.0, 3);
  const Report b = quickstart_with_seed(43, 0.0108, 3);
  const Comparison c = compare_reports({a, b}, {"seed42", "seed43"});
  ASSERT_EQ(c.groups.size(), 1u) << "same recipe but for run.seed: one configuration";
  EXPECT_EQ(c.groups[0].label, "A,B");
  EXPECT_TRUE(c.seed_variance());
  const TaskComparison* sections = nullptr;
  for (const auto& t : c.tasks) if (t.name == "debian-sections") sections = &t;
  ASSERT_NE(sections, nullptr);
  ASSERT_TRUE(sections->bootstrap[1].has_value());
  EXPECT_EQ(sections->bootstrap[1]->items, 3u);
  EXPECT_FALSE(sections->bootstrap[1]->testable);
  EXPECT_FALSE(sections->bootstrap[1]->excludes_zero());
  const std::string text = render_comparison(c);
  EXPECT_THAT(text, HasSubstr("not testable: 3 items < 20"));
  EXPECT_THAT(text, HasSubstr("differ only in run.seed: this is seed noise"));
  EXPECT_THAT(text, testing::Not(HasSubstr("excludes 0: significant")));
  ASSERT_EQ(sections->seeds.size(), 1u);
  EXPECT_EQ(sections->seeds[0].runs, 2u);
  EXPECT_NEAR(sections->seeds[0].std, std::abs(b.find_task("debian-sections")->model.main_score -
                                                a.find_task("debian-sections")->model.main_score) / std::sqrt(2.0), 1e-12);
  EXPECT_EQ(comparison_json(c)["tasks"][1]["bootstrap"][0]["testable"], false);
}

TEST(CompareSeeds, ConfigurationsWithSeveralSeedsAreTestedAgainstTheBetweenSeedSpread) {
  // Two configurations (a different lr) x two seeds; retrieval main scores 0.60/0.62 and 0.64/0.66.
  auto run = [](double lr, int seed, double score) {
    Report r = test::constructed_report(fmt::format("lr{}-s{}", lr, seed), std::vector<double>(40, score));
    r.recipe = {{"run", {{"seed", seed}, {"name", r.run_name}}}, {"train", {{"lr", lr}}}};
    return r;
  };
  const Comparison c = compare_reports({run(1e-3, 1, 0.60), run(1e-3, 2, 0.62), run(2e-3, 1, 0.64), run(2e-3, 2, 0.66)}, {});
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].label, "A,B");
  EXPECT_EQ(c.groups[1].label, "C,D");
  const TaskComparison& t = c.tasks.at(0);
  ASSERT_EQ(t.seeds.size(), 2u);
  EXPECT_NEAR(t.seeds[0].mean, 0.61, 1e-12);
  EXPECT_NEAR(t.seeds[1].mean, 0.65, 1e-12);
  EXPECT_NEAR(t.seeds[0].std, std::sqrt(0.0002), 1e-12);
  ASSERT_TRUE(t.seed_tests[1].has_value());
  // Welch: se = sqrt(2 * 0.0002 / 2) = 0.01414, df = 2, t(0.975, 2) = 4.3027: 0.04 ± 0.06085.
  EXPECT_NEAR(t.seed_tests[1]->df, 2.0, 1e-9);
  EXPECT_NEAR(t.seed_tests[1]->delta, 0.04, 1e-12);
  EXPECT_NEAR(t.seed_tests[1]->high - t.seed_tests[1]->delta, 4.302653 * std::sqrt(0.0002), 1e-5);
  EXPECT_FALSE(t.seed_tests[1]->excludes_zero()) << "two seeds a side cannot separate 0.04 from a 0.014 spread";
  // Across configurations the item bootstrap does see a difference; within one it is labelled seed noise.
  EXPECT_TRUE(t.bootstrap[2]->excludes_zero());
  const std::string text = render_comparison(c);
  EXPECT_THAT(text, HasSubstr("- C,D: 0.6500 ± 0.0141 over 2 runs; − A,B: +0.0400"));
  EXPECT_THAT(text, HasSubstr("B and A differ only in run.seed"));
  EXPECT_THAT(text, testing::Not(HasSubstr("Seed variance is not covered")));
}

TEST(CompareSeeds, OneRunPerConfigurationSaysSeedVarianceIsNotCovered) {
  const Comparison c = compare_reports({test::constructed_report("baseline", test::query_scores(50, 1)),
                                        test::constructed_report("candidate", test::query_scores(50, 2))}, {});
  EXPECT_FALSE(c.seed_variance());
  EXPECT_THAT(render_comparison(c), HasSubstr("Seed variance is not covered"));
}

TEST(Regress, AFewItemTaskIsNotTestableAndOnlyTheAbsoluteToleranceApplies) {
  const Report base = quickstart_with_seed(42, 0.0, 3);
  const Report cur = quickstart_with_seed(43, -0.008, 3);  // every subset lower: "significant" over 3 items
  const RegressionReport r = check_regressions(base, cur, Tolerances{});
  const RegressionFinding* f = nullptr;
  for (const auto& x : r.findings) if (x.task == "debian-sections" && x.what == "v_measure") f = &x;
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->regressed) << f->reason;
  EXPECT_THAT(f->reason, HasSubstr("not testable: 3 items < 20"));
  const Report worse = quickstart_with_seed(43, -0.02, 3);
  EXPECT_TRUE(check_regressions(base, worse, Tolerances{}).regressed()) << "beyond the absolute tolerance it still fails";
  EXPECT_THAT(render_regressions(r, "a", "b"), HasSubstr("seed-to-seed variance is not covered"));
}

TEST(Regress, SeveralSeedsASideAreGatedOnTheBetweenSeedSpread) {
  // Three seeds a side on a 3-subset clustering task: the current seeds average 0.008 lower, inside
  // a seed spread of about 0.01, so no significant drop; the item bootstrap is not used.
  auto side = [](std::initializer_list<std::pair<int, double>> seeds) {
    std::vector<Report> runs;
    for (const auto& [seed, shift] : seeds) runs.push_back(quickstart_with_seed(seed, shift, 3));
    return runs;
  };
  const std::vector<Report> base = side({{1, 0.0}, {2, 0.012}, {3, -0.009}});
  const std::vector<Report> noisy = side({{4, -0.011}, {5, 0.004}, {6, -0.018}});
  const RegressionReport r = check_regressions(base, noisy, Tolerances{});
  EXPECT_EQ(r.baseline_runs, 3u);
  EXPECT_EQ(r.current_runs, 3u);
  const RegressionFinding* f = nullptr;
  for (const auto& x : r.findings) if (x.task == "debian-sections" && x.what == "v_measure") f = &x;
  ASSERT_NE(f, nullptr);
  EXPECT_NEAR(f->change, (-0.011 + 0.004 - 0.018) / 3 - (0.0 + 0.012 - 0.009) / 3, 1e-9);
  EXPECT_FALSE(f->regressed) << f->reason;
  EXPECT_THAT(f->reason, HasSubstr("means over 3 and 3 runs; seed t interval 95%"));
  EXPECT_THAT(f->reason, testing::Not(HasSubstr("bootstrap")));
  EXPECT_THAT(render_regressions(r, "a", "b"), HasSubstr("3 baseline and 3 current runs"));

  // A consistent drop of 0.008 on every seed (spread 0.0004): now significant, and above min_drop.
  const std::vector<Report> lower = side({{4, -0.008}, {5, -0.0084}, {6, -0.0076}});
  const std::vector<Report> steady = side({{1, 0.0}, {2, 0.0004}, {3, -0.0004}});
  const RegressionReport r2 = check_regressions(steady, lower, Tolerances{});
  bool flagged = false;
  for (const auto& x : r2.findings) flagged = flagged || (x.task == "debian-sections" && x.regressed);
  EXPECT_TRUE(flagged) << render_regressions(r2, "a", "b");
  // One run a side is the single-run gate.
  EXPECT_EQ(check_regressions(std::vector<Report>{base[0]}, std::vector<Report>{noisy[0]}, Tolerances{}).current_runs, 1u);
}

}  // namespace
}  // namespace sentbench
