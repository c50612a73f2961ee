// Shared by the report tests: the committed run-folder fixture, golden files, and reports built in
// code with per-item scores chosen so that the right verdict is known in advance.
#pragma once

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report.hpp"
#include "sentbench/io.hpp"

namespace sentbench::test {

// tests/fixtures/reports: run/ is a hand-made run folder (run.json, results.json, train_log.jsonl);
// golden/ holds what the writers must produce from it.
inline std::filesystem::path report_fixture_dir() {
  return std::filesystem::path(SENTBENCH_SOURCE_DIR) / "tests" / "fixtures" / "reports";
}

// The fixture's peak memory, fixed so the golden files do not depend on the test process.
inline constexpr std::int64_t kFixturePeakRss = 268435456;

inline Report fixture_report() {
  AssembleOptions options;
  options.peak_rss_bytes = kFixturePeakRss;
  return assemble_report(report_fixture_dir() / "run", options);
}

// Compares `actual` with golden/<name>. With SENTBENCH_UPDATE_GOLDEN=1 in the environment it rewrites the
// golden file instead (then review the diff with git before committing). On a mismatch the actual text is
// left next to the test binary as <name>.actual for diffing.
inline void expect_golden(const std::string& name, const std::string& actual) {
  const std::filesystem::path golden = report_fixture_dir() / "golden" / name;
  if (const char* update = std::getenv("SENTBENCH_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    write_file_atomic(golden, actual);
    std::cerr << "updated " << golden.string() << '\n';
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden << " is missing; create it with SENTBENCH_UPDATE_GOLDEN=1";
  const std::string expected = read_file(golden);
  if (expected != actual) {
    const std::filesystem::path out = std::filesystem::path(SENTBENCH_BINARY_DIR) / "tests" / (std::filesystem::path(name).filename().string() + ".actual");
    write_file_atomic(out, actual);
    ADD_FAILURE() << name << " differs from " << golden.string() << "\n  actual output: " << out.string()
                  << "\n  diff -u " << golden.string() << ' ' << out.string()
                  << "\n  if the change is intended: SENTBENCH_UPDATE_GOLDEN=1 " << SENTBENCH_BINARY_DIR
                  << "/tests/report_tests --gtest_filter='ReportGolden.*'";
  }
}

// A scorer whose main score is the mean of `items` (retrieval-like), timed at `items_per_second`.
inline ScorerResult mean_scorer(const std::vector<double>& items, double encode_seconds, std::int64_t encoded) {
  ScorerResult s;
  double sum = 0;
  for (const double v : items) sum += v;
  s.main_score = sum / static_cast<double>(items.size());
  s.metrics["ndcg@10"] = s.main_score;
  s.encode_seconds = encode_seconds;
  s.encoded_items = encoded;
  s.wall_seconds = encode_seconds + 0.1;
  for (std::size_t i = 0; i < items.size(); ++i) s.per_item.ids.push_back("q" + std::to_string(i));
  s.per_item.scores = items;
  return s;
}

// Per-query scores in [0, 1] from a fixed seed.
inline std::vector<double> query_scores(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 0.95);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A report with one retrieval task ("nfcorpus-mini") scored by `items`, and a training summary.
inline Report constructed_report(const std::string& run_name, const std::vector<double>& items, double encode_seconds = 4.0,
                                 double tokens_per_s = 5000.0) {
  Report r;
  r.run_name = run_name;
  r.title = "constructed " + run_name;
  r.sentbench_version = "0.1.0";
  r.git_commit = run_name == "baseline" ? "aaaaaaaaaaaa" : "bbbbbbbbbbbb";
  TaskResult t;
  t.name = "nfcorpus-mini";
  t.type = "retrieval";
  t.version = "1";
  t.dataset = "data/nfcorpus-mini";
  t.dataset_hash = "0011223344556677";
  t.main_metric = "ndcg@10";
  t.items = static_cast<std::int64_t>(items.size());
  t.model = mean_scorer(items, encode_seconds, 2000);
  upgrade_legacy_task_info(t);  // the retrieval type's metadata
  r.tasks.push_back(t);
  TrainingSummary training;
  training.steps = 100;
  training.seconds = 60;
  training.step_seconds = 58;
  training.pairs_per_s = 64;
  training.tokens_per_s = tokens_per_s;
  training.final_loss = training.final_loss_mean = 0.5;
  r.training = training;
  return r;
}

}  // namespace sentbench::test
