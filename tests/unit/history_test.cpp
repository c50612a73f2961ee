// `sentbench history` and `regress --history`: the step detector on seeded synthetic nightly series
// (one real drop found at the right commit, pure noise never flagged), throughput steps, loading run
// folders by date, the median baseline of the last passing runs, and both commands through the executable.
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "history.hpp"
#include "report_fixtures.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sentbench {
namespace {

constexpr std::int64_t kFirstNight = 1714528800;  // 2024-05-01T02:00:00Z
constexpr std::int64_t kDay = 86400;

std::string commit_of_night(int i) { return fmt::format("c0ffee{:06d}", i); }

// Night i of a nightly job: one retrieval task with main score `score` and encode rate `items_per_s`
// (2000 items), and training at `tokens_per_s`.
Report night_report(int i, double score, double items_per_s = 500.0, double tokens_per_s = 5000.0) {
  Report r = test::constructed_report(fmt::format("night-{:02d}", i), test::query_scores(40, 7), 2000.0 / items_per_s, tokens_per_s);
  r.git_commit = commit_of_night(i);
  r.tasks[0].model.main_score = score;
  r.tasks[0].model.metrics["ndcg@10"] = score;
  return r;
}

HistoryRun in_memory(Report report, int i) {
  HistoryRun run;
  run.report = std::move(report);
  run.source = fmt::format("nightly/{:02d}", i);
  run.time = kFirstNight + i * kDay;
  run.date = fmt::format("2024-05-{:02d}T02:00:00Z", i + 1);
  run.date_from = "test";
  return run;
}

// 30 nights of a score of 0.80 with uniform noise ±0.005 (seeded); from night `drop_at` on, 0.02 lower.
std::vector<double> noisy_scores(unsigned seed, std::optional<int> drop_at, double drop = 0.02, int n = 30) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> noise(-0.005, 0.005);
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(0.80 + noise(rng) - (drop_at && i >= *drop_at ? drop : 0.0));
  return v;
}

History history_of(const std::vector<double>& scores, const StepOptions& options = {}) {
  std::vector<HistoryRun> runs;
  for (std::size_t i = 0; i < scores.size(); ++i) runs.push_back(in_memory(night_report(static_cast<int>(i), scores[i]), static_cast<int>(i)));
  return build_history(std::move(runs), options);
}

const HistorySeries& series(const History& h, const std::string& key) {
  for (const HistorySeries& s : h.series) {
    if (s.key == key) return s;
  }
  throw std::runtime_error("no series " + key);
}

TEST(HistorySteps, OneDropOfTwoHundredthsIsFoundAtItsCommit) {
  const History h = history_of(noisy_scores(42, 17));
  ASSERT_EQ(h.series.size(), 4u);  // the score, encode items/s, training pairs/s and tokens/s
  const HistorySeries& s = series(h, "nfcorpus-mini/ndcg@10");
  ASSERT_EQ(s.points.size(), 30u);
  ASSERT_EQ(s.changes.size(), 1u) << history_markdown(h);
  const StepChange& c = s.changes[0];
  EXPECT_EQ(c.index, 17u);
  EXPECT_EQ(h.runs[c.run_before].report.git_commit, commit_of_night(16));
  EXPECT_EQ(h.runs[c.run_after].report.git_commit, commit_of_night(17));
  EXPECT_TRUE(c.worse);
  EXPECT_NEAR(c.step, -0.02, 0.004);
  EXPECT_NEAR(c.mean_before, 0.80, 0.003);
  EXPECT_EQ(c.n_before, 17u);
  EXPECT_EQ(c.n_after, 13u);
  EXPECT_GT(c.statistic, 5.0);
  // The noise estimate is of the order of the noise's standard deviation, 0.01/√12 = 0.0029 (from 29
  // differences the MAD is a rough estimate: 0.0049 for this seed), and the step did not inflate it.
  EXPECT_GT(s.sigma, 0.0015);
  EXPECT_LT(s.sigma, 0.006);
  // Throughput did not move: no change there.
  for (const HistorySeries& other : h.series) {
    if (other.key != s.key) {
      EXPECT_TRUE(other.changes.empty()) << other.key;
    }
  }
  const std::string md = history_markdown(h);
  EXPECT_THAT(md, HasSubstr("## Changes (1)"));
  EXPECT_THAT(md, HasSubstr(commit_of_night(16) + ".." + commit_of_night(17)));
  EXPECT_THAT(md, HasSubstr("night-17 (2024-05-18)"));
}

TEST(HistorySteps, TheDropIsFoundWhereverItIsAndWhateverTheSeed) {
  // At least min_segment (3) nights on each side: positions 3 to 27 of 30.
  for (unsigned seed = 1; seed <= 10; ++seed) {
    for (const int at : {3, 8, 15, 22, 27}) {
      const std::vector<Step> steps = detect_steps(noisy_scores(seed, at), StepOptions{}, false);
      ASSERT_EQ(steps.size(), 1u) << "seed " << seed << ", drop at " << at;
      EXPECT_EQ(steps[0].index, static_cast<std::size_t>(at)) << "seed " << seed;
    }
  }
}

TEST(HistorySteps, PureNoiseRaisesNoMarker) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const History h = history_of(noisy_scores(seed, std::nullopt));
    for (const HistorySeries& s : h.series) EXPECT_TRUE(s.changes.empty()) << "seed " << seed << ": " << s.key << "\n" << history_markdown(h);
  }
  // The test statistic alone (no minimum step) on normal noise: z > 5 stays quiet too.
  StepOptions no_min;
  no_min.min_step = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<double> v(30);
    for (double& x : v) x = noise(rng);
    EXPECT_TRUE(detect_steps(v, no_min, false).empty()) << "seed " << seed;
  }
}

TEST(HistorySteps, ASmallStepOrTooFewRunsAfterIsNotAChange) {
  // 0.003 < min_step 0.005, though on a noiseless series it is far outside the noise.
  std::vector<double> flat(30, 0.8);
  for (std::size_t i = 15; i < 30; ++i) flat[i] = 0.797;
  EXPECT_TRUE(detect_steps(flat, StepOptions{}, false).empty());
  StepOptions finer;
  finer.min_step = 0.001;
  ASSERT_EQ(detect_steps(flat, finer, false).size(), 1u);  // deterministic scores: sigma from the mean deviation
  EXPECT_EQ(detect_steps(flat, finer, false)[0].index, 15u);
  // A drop two nights before the end: min_segment 3 cannot place it there (it blurs it into a change a
  // night early, with the last 3 runs' mean), min_segment 2 can.
  const std::vector<double> late = noisy_scores(5, 28);
  for (const Step& s : detect_steps(late, StepOptions{}, false)) EXPECT_LE(s.index, 27u);
  StepOptions two;
  two.min_segment = 2;
  ASSERT_EQ(detect_steps(late, two, false).size(), 1u);
  EXPECT_EQ(detect_steps(late, two, false)[0].index, 28u);
}

TEST(HistorySteps, ADropAndItsRecoveryAreTwoChanges) {
  std::vector<double> v = noisy_scores(3, 10);
  for (std::size_t i = 20; i < v.size(); ++i) v[i] += 0.02;
  const History h = history_of(v);
  const HistorySeries& s = series(h, "nfcorpus-mini/ndcg@10");
  ASSERT_EQ(s.changes.size(), 2u) << history_markdown(h);
  EXPECT_EQ(s.changes[0].index, 10u);
  EXPECT_TRUE(s.changes[0].worse);
  EXPECT_EQ(s.changes[1].index, 20u);
  EXPECT_FALSE(s.changes[1].worse);
  EXPECT_NEAR(s.changes[1].step, 0.02, 0.004);
}

TEST(HistorySteps, ThroughputStepsAreRelative) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> noise(-0.02, 0.02);
  std::vector<HistoryRun> runs;
  for (int i = 0; i < 30; ++i) {
    const double items = 500.0 * (1 + noise(rng)) * (i >= 12 ? 0.85 : 1.0);   // 15% slower from night 12
    const double tokens = 5000.0 * (1 + noise(rng)) * (i >= 20 ? 1.10 : 1.0);  // 10% faster from night 20
    runs.push_back(in_memory(night_report(i, 0.8, items, tokens), i));
  }
  const History h = build_history(std::move(runs), StepOptions{});
  const HistorySeries& encode = series(h, "nfcorpus-mini/encode items/s");
  EXPECT_TRUE(encode.throughput);
  ASSERT_EQ(encode.changes.size(), 1u) << history_markdown(h);
  EXPECT_EQ(encode.changes[0].index, 12u);
  EXPECT_TRUE(encode.changes[0].worse);
  EXPECT_NEAR(encode.changes[0].relative_step, -0.15, 0.02);
  const HistorySeries& tokens = series(h, "training/tokens/s");
  ASSERT_EQ(tokens.changes.size(), 1u);
  EXPECT_EQ(tokens.changes[0].index, 20u);
  EXPECT_FALSE(tokens.changes[0].worse);
  EXPECT_TRUE(series(h, "training/pairs/s").changes.empty());
  EXPECT_TRUE(series(h, "nfcorpus-mini/ndcg@10").changes.empty());
  // 3% slower is outside this noise but under the 5% that counts; with a 2% minimum it counts.
  std::vector<double> small(30, 1000.0);
  for (std::size_t i = 15; i < 30; ++i) small[i] = 970.0;
  EXPECT_TRUE(detect_steps(small, StepOptions{}, true).empty());
  StepOptions two_percent;
  two_percent.min_relative_step = 0.02;
  EXPECT_EQ(detect_steps(small, two_percent, true).size(), 1u);
  EXPECT_THAT(history_markdown(h), HasSubstr("| nfcorpus-mini/encode items/s | worse"));
}

TEST(HistoryOutput, HtmlAndJsonCarryTheChanges) {
  const History h = history_of(noisy_scores(42, 17));
  const std::string html = history_html(h);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("stroke=\"#dc2626\""));  // the change marker, red: worse
  EXPECT_THAT(html, HasSubstr(commit_of_night(16) + ".." + commit_of_night(17)));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  const nlohmann::json j = history_json(h);
  EXPECT_EQ(j["schema"], "sentbench.history/1");
  EXPECT_EQ(j["runs"].size(), 30u);
  const nlohmann::json& s = j["series"][0];
  EXPECT_EQ(s["key"], "nfcorpus-mini/ndcg@10");
  ASSERT_EQ(s["changes"].size(), 1u);
  EXPECT_EQ(s["changes"][0]["commit_before"], commit_of_night(16));
  EXPECT_EQ(s["changes"][0]["commit_after"], commit_of_night(17));
  EXPECT_EQ(s["changes"][0]["index"], 17);
  EXPECT_EQ(s["points"][3]["run_name"], "night-03");
}

// A nightly folder on disk: runs/<name>/report.json with run_identity.json giving the start date. The
// folder names are not in date order, so the order must come from the dates.
struct NightlyFolder {
  test::TempDir tmp;
  fs::path root = tmp / "nightly";
  std::vector<double> scores;

  static std::string folder_name(int i) { return fmt::format("run-{:02d}", (i * 7) % 31); }

  void write_night(int i, Report r, const std::string& run_id = "") {
    const fs::path dir = root / folder_name(i);
    fs::create_directories(dir);
    write_file_atomic(dir / "report.json", report_to_json(r));
    nlohmann::json identity = {{"schema", "sentbench.run_identity/1"},
                               {"run_id", run_id.empty() ? fmt::format("id-{}", i) : run_id},
                               {"started", fmt::format("2024-05-{:02d}T02:00:00Z", i + 1)}};
    write_file_atomic(dir / "run_identity.json", identity.dump(2));
  }

  // `n` nights with the drop at night 17 (as above); the nights in `failing` have a failed task.
  explicit NightlyFolder(int n = 30, std::vector<int> failing = {}) : scores(noisy_scores(42, 17, 0.02, n)) {
    for (int i = 0; i < n; ++i) {
      Report r = night_report(i, scores[static_cast<std::size_t>(i)]);
      if (std::find(failing.begin(), failing.end(), i) != failing.end()) {
        TaskResult t = r.tasks[0];
        t.name = "scifact";
        t.failed = "out of memory";
        r.tasks.push_back(t);
      }
      write_night(i, r);
    }
    write_file_atomic(root / "notes.json", "{\"not\": \"a report\"}");
  }
};

TEST(HistoryLoad, RunFoldersAreReadRecursivelyAndOrderedByDate) {
  NightlyFolder f(12);
  // A promoted copy of night 3 (same run id) appears once.
  fs::copy(f.root / NightlyFolder::folder_name(3), f.root / "baseline", fs::copy_options::recursive);
  std::vector<std::string> notes;
  const std::vector<HistoryRun> runs = load_history({f.tmp.path()}, &notes);
  ASSERT_EQ(runs.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(runs[static_cast<std::size_t>(i)].report.run_name, fmt::format("night-{:02d}", i));
    EXPECT_EQ(runs[static_cast<std::size_t>(i)].date_from, "run_identity.json started");
  }
  EXPECT_EQ(runs[0].date, "2024-05-01T02:00:00Z");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("the same run as"));

  // Without run_identity.json the report file's modification time orders the runs.
  test::TempDir loose;
  for (int i = 0; i < 3; ++i) {
    const fs::path file = loose / fmt::format("{}.json", "cba"[i]);
    write_file_atomic(file, report_to_json(night_report(i, 0.8)));
    fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(24 * (3 - i)));
  }
  const std::vector<HistoryRun> by_mtime = load_history({loose.path()});
  ASSERT_EQ(by_mtime.size(), 3u);
  EXPECT_EQ(by_mtime[0].report.run_name, "night-00");
  EXPECT_EQ(by_mtime[2].report.run_name, "night-02");
  EXPECT_EQ(by_mtime[0].date_from, "file mtime");

  test::TempDir empty;
  fs::create_directories(empty / "nothing");
  try {
    load_history({empty.path()});
    FAIL() << "an empty folder must be an error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no report found under"));
    EXPECT_THAT(e.what(), HasSubstr("runs/nightly"));
  }
}

TEST(HistoryRegress, TheMedianBaselineUsesTheLastPassingRuns) {
  // Nights 0..11; 9 and 7 failed a task; night 11 is the run being gated.
  NightlyFolder f(12, {7, 9});
  const std::vector<HistoryRun> history = load_history({f.root});
  const fs::path current = f.root / NightlyFolder::folder_name(11);
  const MedianBaseline m = median_baseline(history, 5, current, run_date(current));
  std::vector<std::string> names;
  for (const std::size_t k : m.runs) names.push_back(history[k].report.run_name);
  EXPECT_THAT(names, ::testing::ElementsAre("night-04", "night-05", "night-06", "night-08", "night-10"));
  ASSERT_EQ(m.notes.size(), 2u);
  EXPECT_THAT(m.notes[0], HasSubstr("scifact FAILED"));
  std::vector<double> window = {f.scores[4], f.scores[5], f.scores[6], f.scores[8], f.scores[10]};
  std::sort(window.begin(), window.end());
  const TaskResult& t = m.report.tasks[0];
  EXPECT_DOUBLE_EQ(t.model.main_score, window[2]);
  EXPECT_TRUE(t.model.per_item.empty());
  EXPECT_NEAR(t.model.items_per_second(), 500.0, 0.5);
  EXPECT_EQ(m.report.git_commit, commit_of_night(10));  // the newest run of the window

  // Re-gating night 6 takes only what came before it.
  const fs::path older = f.root / NightlyFolder::folder_name(6);
  const MedianBaseline before = median_baseline(history, 3, older, run_date(older));
  names.clear();
  for (const std::size_t k : before.runs) names.push_back(history[k].report.run_name);
  EXPECT_THAT(names, ::testing::ElementsAre("night-03", "night-04", "night-05"));
  ASSERT_FALSE(before.notes.empty());
  EXPECT_THAT(before.notes[0], HasSubstr("passed over 5 runs dated after the current run"));

  // The gate: 0.02 below the median regresses, 0.005 below does not; no bootstrap is claimed.
  const RegressionReport bad = check_against_median(m, night_report(12, window[2] - 0.02), Tolerances{});
  EXPECT_TRUE(bad.regressed());
  EXPECT_TRUE(bad.tolerances.significance);
  EXPECT_EQ(bad.window_runs, 5u);
  const RegressionReport fine = check_against_median(m, night_report(12, window[2] - 0.005), Tolerances{});
  EXPECT_FALSE(fine.regressed()) << render_regressions(fine, "median", "current");
  for (const RegressionFinding& finding : fine.findings) EXPECT_THAT(finding.reason, ::testing::Not(HasSubstr("no bootstrap")));

  // Significance from the window's spread, apart from the tolerance (loosened to 0.05 here): the 99%
  // prediction interval of one more run (99%: the default for --history) is mean ± t(0.995, 4)·s·√(1 + 1/5),
  // computed here by hand.
  double mean = 0, ss = 0;
  for (const double x : window) mean += x / 5;
  for (const double x : window) ss += (x - mean) * (x - mean);
  const double half = 4.604095 * std::sqrt(ss / 4) * std::sqrt(1.2);
  Tolerances loose;
  loose.main_score = 0.05;
  const RegressionReport outside = check_against_median(m, night_report(12, mean - half - 0.002), loose);
  EXPECT_TRUE(outside.regressed()) << render_regressions(outside, "median", "current");
  EXPECT_THAT(outside.findings[0].reason, HasSubstr("a significant drop"));
  EXPECT_THAT(outside.findings[0].reason, HasSubstr(fmt::format("[{:.4f}, {:.4f}]", mean - half, mean + half)));
  const RegressionReport inside = check_against_median(m, night_report(12, mean - half + 0.002), loose);
  EXPECT_FALSE(inside.regressed()) << render_regressions(inside, "median", "current");
  EXPECT_THAT(inside.findings[0].reason, HasSubstr(": inside"));
  EXPECT_THAT(render_regressions(inside, "median", "current"), HasSubstr("t prediction interval"));
  // Two runs give no spread to test with: said, and only the tolerance decides.
  const MedianBaseline two = median_baseline(history, 2, current, run_date(current));
  const RegressionReport few = check_against_median(two, night_report(12, mean - 0.04), loose);
  EXPECT_FALSE(few.regressed());
  EXPECT_THAT(few.findings[0].reason, HasSubstr("not testable: 2 runs in the window"));

  // No passing run at all: say so and what to do.
  NightlyFolder failing(3, {0, 1, 2});
  const std::vector<HistoryRun> bad_history = load_history({failing.root});
  RunDate later;
  later.time = kFirstNight + 100 * kDay;
  EXPECT_THROW(median_baseline(bad_history, 5, fs::path("/nonexistent"), later), ConfigError);
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(HistoryCli, HistoryWritesTheFilesAndPrintsTheChanges) {
  NightlyFolder f;
  const fs::path out = f.tmp / "out";
  auto r = test::run_cli("history " + quoted(f.root) + " -o " + quoted(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* file : {"history.md", "history.html", "history.json"}) EXPECT_TRUE(fs::exists(out / file)) << file;
  EXPECT_THAT(r.output, HasSubstr("# History of 30 runs, 2024-05-01 to 2024-05-30"));
  EXPECT_THAT(r.output, HasSubstr("## Changes (1)"));
  EXPECT_THAT(r.output, HasSubstr(commit_of_night(16) + ".." + commit_of_night(17)));
  EXPECT_EQ(read_file(out / "history.md").substr(0, 20), std::string("# History of 30 runs"));

  test::TempDir empty;
  r = test::run_cli("history " + quoted(empty.path()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no report found under"));

  r = test::run_cli("history --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("MAD"));
}

TEST(HistoryCli, RegressAgainstTheHistory) {
  NightlyFolder f;  // the drop at night 17 has been the normal for 13 nights
  const fs::path last = f.root / NightlyFolder::folder_name(29);
  auto r = test::run_cli("regress --history " + quoted(f.root) + " --current " + quoted(last));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("baseline: median of the last 5 passing runs"));
  EXPECT_THAT(r.output, HasSubstr("prediction interval"));

  // The first night after the drop, against the five before it, regresses.
  const fs::path first_after = f.root / NightlyFolder::folder_name(17);
  r = test::run_cli("regress --history " + quoted(f.root) + " --window 5 --max-drop 0.01 --current " + quoted(first_after / "report.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("REGRESSED"));
  EXPECT_THAT(r.output, HasSubstr("night-12"));  // the window is nights 12..16
  EXPECT_THAT(r.output, HasSubstr("night-16"));

  r = test::run_cli("regress --current " + quoted(last));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--baseline FILE"));
  r = test::run_cli("regress --history " + quoted(f.root) + " --baseline " + quoted(last) + " --current " + quoted(last));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace sentbench
