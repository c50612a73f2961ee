// `sentbench report`, `compare` and `regress` as a nightly job runs them: files written, exit codes
// (0 ok, 1 regression, 2 unusable input) and what the output says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report.hpp"
#include "report_fixtures.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::run_cli;
using ::testing::HasSubstr;

namespace sentbench {
namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// baseline.json, a regressed current, a noise-level current and a slower current, written as report.json files.
struct ReportFiles {
  test::TempDir tmp;
  fs::path baseline = tmp / "baseline.json";
  fs::path regressed = tmp / "regressed.json";
  fs::path noisy = tmp / "noisy.json";
  fs::path slower = tmp / "slower.json";

  ReportFiles() {
    const auto base = test::query_scores(300, 41);
    std::vector<double> worse = base, noise = base;
    for (auto& v : worse) v -= 0.04;
    for (std::size_t i = 0; i < noise.size(); ++i) noise[i] += i % 2 ? 0.015 : -0.015;
    write_file_atomic(baseline, report_to_json(test::constructed_report("baseline", base)));
    write_file_atomic(regressed, report_to_json(test::constructed_report("current", worse)));
    write_file_atomic(noisy, report_to_json(test::constructed_report("current", noise)));
    write_file_atomic(slower, report_to_json(test::constructed_report("current", base, 6.0)));
  }
};

TEST(ReportCli, ReportWritesTheFilesAndTheMtebExport) {
  test::TempDir tmp;
  const fs::path run = tmp / "run";
  fs::copy(test::report_fixture_dir() / "run", run, fs::copy_options::recursive);
  auto r = run_cli("report " + quoted(run) + " --mteb " + quoted(tmp / "mteb"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("wrote 3 MTEB result files"));
  EXPECT_TRUE(fs::exists(tmp / "mteb" / "stsb.json"));
  EXPECT_FALSE(fs::exists(run / "report.json"));  // only --mteb was asked for

  r = run_cli("report " + quoted(run) + " --print");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"report.json", "report.md", "report.html"}) EXPECT_TRUE(fs::exists(run / f)) << f;
  EXPECT_THAT(r.output, HasSubstr("# Fixture run: tiny RoBERTa, 30 steps"));

  r = run_cli("report " + quoted(run) + " --format json,pdf");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_cli("report " + quoted(tmp.path()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no run.json"));
}

TEST(ReportCli, CompareShowsDeltasAndBootstrap) {
  ReportFiles f;
  auto r = run_cli("compare " + quoted(f.baseline) + " " + quoted(f.regressed) + " " + quoted(f.noisy));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("## nfcorpus-mini (retrieval, main metric ndcg@10)"));
  EXPECT_THAT(r.output, HasSubstr("B − A: −0.0400 [−0.0400, −0.0400], excludes 0: significant"));
  EXPECT_THAT(r.output, HasSubstr("C − A: "));
  EXPECT_THAT(r.output, HasSubstr("includes 0: not significant"));
  r = run_cli("compare --json --seed 7 " + quoted(f.baseline) + " " + quoted(f.noisy));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"seed\": 7"));
  r = run_cli("compare " + quoted(f.baseline));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(ReportCli, RegressExitsOneOnARealRegression) {
  ReportFiles f;
  const auto r = run_cli("regress --baseline " + quoted(f.baseline) + " --current " + quoted(f.regressed));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("REGRESSED"));
  EXPECT_THAT(r.output, HasSubstr("nfcorpus-mini"));
  EXPECT_THAT(r.output, HasSubstr("−0.0400"));
  EXPECT_THAT(r.output, HasSubstr("FAIL: 1 of 4 checks regressed: nfcorpus-mini ndcg@10 −0.0400"));
}

TEST(ReportCli, RegressPassesANoiseLevelDifference) {
  ReportFiles f;
  const auto r = run_cli("regress --baseline " + quoted(f.baseline) + " --current " + quoted(f.noisy));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PASS"));
}

TEST(ReportCli, RegressCatchesAThroughputDropAndFlagsOverrideDefaults) {
  ReportFiles f;
  auto r = run_cli("regress --baseline " + quoted(f.baseline) + " --current " + quoted(f.slower));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("encode items/s"));
  EXPECT_THAT(r.output, HasSubstr("slower by 33.3% > tolerance 20.0%"));
  r = run_cli("regress --throughput-drop 0.4 --baseline " + quoted(f.baseline) + " --current " + quoted(f.slower));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("throughput may drop 40.0% (flag)"));
  r = run_cli("regress --max-drop 0.1 --no-significance --baseline " + quoted(f.baseline) + " --current " + quoted(f.regressed));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(ReportCli, RegressTakesTolerancesFromTheCurrentRecipe) {
  ReportFiles f;
  Report current = load_report(f.regressed);
  current.recipe = {{"report", {{"tolerance", {{"main_score", 0.1}, {"significance", false}}}}}};
  write_file_atomic(f.regressed, report_to_json(current));
  auto r = run_cli("regress --baseline " + quoted(f.baseline) + " --current " + quoted(f.regressed));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("main score may drop 0.1000 (recipe)"));
  r = run_cli("regress --max-drop 0.01 --baseline " + quoted(f.baseline) + " --current " + quoted(f.regressed));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // an explicit flag beats the recipe
}

TEST(ReportCli, RegressTakesSeveralRunsASideAndUsesTheirSpread) {
  ReportFiles f;
  // Two runs a side: the "regressed" mean is 0.02 lower than the baseline mean but the seeds spread by
  // 0.04, so the t interval includes 0 and only the absolute tolerance could fail it (it does: 0.02 > 0.01).
  const fs::path also_base = f.tmp / "baseline-seed2.json";
  write_file_atomic(also_base, read_file(f.noisy));
  const auto r = run_cli("regress --baseline " + quoted(f.baseline) + " " + quoted(also_base) + " --current " + quoted(f.regressed) +
                         " " + quoted(f.baseline));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("2 baseline and 2 current runs"));
  EXPECT_THAT(r.output, HasSubstr("means over 2 and 2 runs; seed t interval 95%"));
  EXPECT_THAT(r.output, HasSubstr("includes 0"));
  const auto loose = run_cli("regress --max-drop 0.05 --baseline " + quoted(f.baseline) + " " + quoted(also_base) +
                             " --current " + quoted(f.regressed) + " " + quoted(f.baseline));
  EXPECT_EQ(loose.exit_code, 0) << loose.output;
}

TEST(ReportCli, RegressExitsTwoOnUnusableInput) {
  ReportFiles f;
  write_file_atomic(f.tmp / "results.json", R"({"schema": "sentbench.results/1", "tasks": []})");
  auto r = run_cli("regress --baseline " + quoted(f.tmp / "results.json") + " --current " + quoted(f.noisy));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("results.json: not a sentbench report"));
  r = run_cli("regress --baseline " + quoted(f.tmp / "nope.json") + " --current " + quoted(f.noisy));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace sentbench
