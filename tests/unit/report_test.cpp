// Reports: assembling a run folder, report.json round trips, golden files for report.json, report.md and
// the MTEB export, the HTML page's self-containment, and the errors a bad run folder gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "report.hpp"
#include "report_fixtures.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;
using sentbench::test::has_substr;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sentbench {
namespace {

// A writable copy of the fixture run folder.
fs::path copy_fixture(const test::TempDir& tmp) {
  const fs::path dir = tmp / "run";
  fs::copy(test::report_fixture_dir() / "run", dir, fs::copy_options::recursive);
  return dir;
}

std::string expect_config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(ReportAssemble, ReadsEveryPartOfTheRunFolder) {
  const Report r = test::fixture_report();
  EXPECT_EQ(r.run_name, "fixture-run");
  EXPECT_EQ(r.title, "Fixture run: tiny RoBERTa, 30 steps");
  EXPECT_EQ(r.git_commit, "0123456789ab");
  EXPECT_EQ(r.machine.cores, 2);
  EXPECT_EQ(r.machine.threads, 2);
  EXPECT_EQ(r.machine.torch_version, "1.13.0");
  ASSERT_EQ(r.plugins.size(), 2u);
  EXPECT_EQ(r.plugins[1].name, "contrastive");
  EXPECT_EQ(r.plugins[1].version, "0.1.0");
  ASSERT_TRUE(r.training);
  EXPECT_EQ(r.training->steps, 30);
  EXPECT_EQ(r.training->last_step, 30);
  EXPECT_DOUBLE_EQ(r.training->seconds, 15.9);  // run.json's wall time wins over the sum of step times
  EXPECT_EQ(r.training->curve.size(), 30u);
  EXPECT_EQ(r.training->steps_per_dataset.at("stsb-pairs"), 10);
  EXPECT_EQ(r.training->steps_per_dataset.at("debian"), 20);
  EXPECT_GT(r.training->pairs_per_s, 55);
  EXPECT_LT(r.training->pairs_per_s, 70);
  ASSERT_EQ(r.tasks.size(), 4u);
  EXPECT_EQ(r.tasks[0].name, "stsb");
  EXPECT_EQ(r.tasks[0].model.per_item.reference.size(), 12u);
  EXPECT_EQ(r.tasks[1].baselines.count("bm25"), 1u);
  EXPECT_EQ(r.tasks[3].skipped, "data not found: data/scifact");
  EXPECT_TRUE(r.tasks[3].notes.empty());  // the skip reason moved out of the notes
  EXPECT_EQ(r.peak_rss_bytes, test::kFixturePeakRss);
}

TEST(ReportAssemble, WithoutPluginVersionsNamesThePluginsFromTheRecipe) {
  test::TempDir tmp;
  const fs::path dir = copy_fixture(tmp);
  auto run = nlohmann::json::parse(read_file(dir / "run.json"));
  run.erase("plugins");
  write_file_atomic(dir / "run.json", run.dump(2));
  const Report r = assemble_report(dir);
  ASSERT_EQ(r.plugins.size(), 2u);
  EXPECT_EQ(r.plugins[0].kind, "encoder");
  EXPECT_EQ(r.plugins[0].name, "roberta");
  EXPECT_EQ(r.plugins[0].version, "");
  EXPECT_THAT(render_markdown(r), HasSubstr("roberta (version not recorded) (encoder)"));
}

TEST(ReportAssemble, EvalOnlyRunHasNoTraining) {
  test::TempDir tmp;
  const fs::path dir = copy_fixture(tmp);
  fs::remove(dir / "train_log.jsonl");
  auto run = nlohmann::json::parse(read_file(dir / "run.json"));
  run.erase("train");
  write_file_atomic(dir / "run.json", run.dump(2));
  const Report r = assemble_report(dir);
  EXPECT_FALSE(r.training);
  EXPECT_THAT(render_html(r), HasSubstr("This run did not train."));
  EXPECT_THAT(render_markdown(r), ::testing::Not(HasSubstr("## Training")));
}

TEST(ReportAssemble, LongTrainingLogsAreBucketedIntoAtMost500CurvePoints) {
  test::TempDir tmp;
  const fs::path dir = copy_fixture(tmp);
  std::string log;
  for (int step = 1; step <= 1234; ++step) {
    log += nlohmann::json{{"step", step}, {"loss", 1000.0 / step}, {"lr", 1e-5}, {"step_seconds", 0.5}, {"pairs_per_s", 64.0},
                          {"tokens_per_s", 4000.0}}.dump() + "\n";
  }
  write_file_atomic(dir / "train_log.jsonl", log);
  const Report r = assemble_report(dir);
  ASSERT_TRUE(r.training);
  EXPECT_EQ(r.training->steps, 1234);
  EXPECT_EQ(r.training->curve_bucket, 3);
  EXPECT_LE(r.training->curve.size(), kMaxCurvePoints);
  EXPECT_EQ(r.training->curve.front().step, 3);
  EXPECT_DOUBLE_EQ(r.training->curve.front().loss, (1000.0 + 500.0 + 1000.0 / 3) / 3);
  EXPECT_EQ(r.training->curve.back().step, 1234);
  EXPECT_DOUBLE_EQ(r.training->pairs_per_s, 64.0);
  EXPECT_DOUBLE_EQ(r.training->final_loss_mean, [] {
    double s = 0;
    for (int step = 1225; step <= 1234; ++step) s += 1000.0 / step;
    return s / 10;
  }());
}

TEST(ReportAssemble, ErrorsNameTheFileAndTheField) {
  test::TempDir tmp;
  EXPECT_THAT(expect_config_error([&] { assemble_report(tmp.path()); }),
              AllOf(HasSubstr(tmp.path().string()), HasSubstr("no run.json")));

  const fs::path dir = copy_fixture(tmp);
  auto results = nlohmann::json::parse(read_file(dir / "results.json"));
  results["tasks"][1]["model"]["main_score"] = "high";
  write_file_atomic(dir / "results.json", results.dump());
  EXPECT_THAT(expect_config_error([&] { assemble_report(dir); }),
              AllOf(HasSubstr("results.json"), HasSubstr("tasks[1].model.main_score"), HasSubstr("expected a number")));

  results["schema"] = "sentbench.results/9";
  write_file_atomic(dir / "results.json", results.dump());
  EXPECT_THAT(expect_config_error([&] { assemble_report(dir); }), HasSubstr("sentbench.results/2"));

  fs::copy_file(test::report_fixture_dir() / "run" / "results.json", dir / "results.json", fs::copy_options::overwrite_existing);
  write_file_atomic(dir / "train_log.jsonl", "{\"step\": 1, \"loss\": 2}\nnot json\n");
  EXPECT_THAT(expect_config_error([&] { assemble_report(dir); }), HasSubstr("train_log.jsonl:2: not a JSON object"));
}

TEST(ReportJson, RoundTripsThroughTheSchema) {
  const Report r = test::fixture_report();
  const std::string text = report_to_json(r);
  const Report back = parse_report(text, "report.json");
  EXPECT_EQ(report_to_json(back), text);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["schema"], kReportSchema);
  EXPECT_EQ(j["memory"]["peak_rss_bytes"], test::kFixturePeakRss);
  EXPECT_EQ(j["tasks"][3]["skipped"], "data not found: data/scifact");
  EXPECT_FALSE(j["tasks"][3].contains("model"));
  EXPECT_EQ(j["training"]["curve"]["step"].size(), 30u);
}

TEST(ReportJson, DistributedWorldSizeRoundTripsAndShowsInMarkdown) {
  Report r = test::fixture_report();
  EXPECT_EQ(nlohmann::json::parse(report_to_json(r)).at("training").count("world_size"), 0u) << "absent for one process";
  r.training->world_size = 4;
  const Report back = parse_report(report_to_json(r), "report.json");
  EXPECT_EQ(back.training->world_size, 4);
  EXPECT_THAT(render_markdown(back), HasSubstr("tokens/s on 4 ranks"));
}

TEST(ReportJson, RejectsOtherSchemasWithAHint) {
  EXPECT_THAT(expect_config_error([] { parse_report(R"({"schema": "sentbench.results/1", "tasks": []})", "x/results.json"); }),
              AllOf(HasSubstr("x/results.json"), HasSubstr("pass the run folder or its report.json")));
  EXPECT_THAT(expect_config_error([] { parse_report(R"({"schema": "sentbench.report/9"})", "old.json"); }),
              HasSubstr("sentbench report RUN_DIR"));
  EXPECT_THAT(expect_config_error([] { parse_report("{", "broken.json"); }), HasSubstr("broken.json: not valid JSON"));
}

TEST(ReportJson, UnknownFieldsAreIgnoredSoMinorAdditionsStayReadable) {
  auto j = nlohmann::json::parse(report_to_json(test::fixture_report()));
  j["added_later"] = {{"x", 1}};
  j["tasks"][0]["model"]["energy_joules"] = 12.5;
  const Report r = parse_report(j.dump(), "future.json");
  EXPECT_EQ(r.tasks.size(), 4u);
}

TEST(ReportGolden, ReportJson) { test::expect_golden("report.json", report_to_json(test::fixture_report())); }

TEST(ReportGolden, ReportMarkdown) { test::expect_golden("report.md", render_markdown(test::fixture_report())); }

// v1/report.json is the golden report.json as the main branch wrote it before task results carried
// their metadata (schema sentbench.report/1): it still loads, gets its task types' metadata, and renders
// exactly as the current report does.
TEST(ReportGolden, ReportOfSchemaOneStillLoads) {
  const fs::path v1 = test::report_fixture_dir() / "v1" / "report.json";
  ASSERT_EQ(nlohmann::json::parse(read_file(v1))["schema"], "sentbench.report/1");
  const Report old = load_report(v1);
  const Report now = test::fixture_report();
  EXPECT_EQ(render_markdown(old), render_markdown(now));
  ASSERT_EQ(old.tasks.size(), now.tasks.size());
  for (std::size_t i = 0; i < old.tasks.size(); ++i) {
    if (!now.tasks[i].ran()) continue;
    EXPECT_EQ(mteb_task_json(old, old.tasks[i]), mteb_task_json(now, now.tasks[i])) << now.tasks[i].name;
    EXPECT_EQ(old.tasks[i].info.item_noun, now.tasks[i].info.item_noun);
  }
  const TaskResult* sts = old.find_task("stsb");
  ASSERT_NE(sts, nullptr);
  EXPECT_EQ(sts->info.item_statistic, ItemStatistic::kSpearman);
  const TaskResult* retrieval = old.find_task("cranfield");
  ASSERT_NE(retrieval, nullptr);
  EXPECT_TRUE(retrieval->metric("queries_skipped").is_count);
  EXPECT_TRUE(retrieval->metric("ndcg@10").is_main);
  // Written again, it is a version-2 report with the metadata in it.
  const auto j = nlohmann::json::parse(report_to_json(old));
  EXPECT_EQ(j["schema"], kReportSchema);
  EXPECT_EQ(j["tasks"][1]["info"]["item_noun"], "queries");
}

TEST(ReportGolden, MtebExport) {
  const Report r = test::fixture_report();
  for (const TaskResult& t : r.tasks) {
    if (t.skipped.empty()) test::expect_golden("mteb/" + t.name + ".json", mteb_task_json(r, t));
  }
}

TEST(ReportMteb, FollowsMtebTaskResultLayout) {
  const Report r = test::fixture_report();
  test::TempDir tmp;
  const auto files = export_mteb(r, tmp / "mteb");
  ASSERT_EQ(files.size(), 3u);  // the skipped task has no results file
  const auto sts = nlohmann::json::parse(read_file(tmp / "mteb" / "stsb.json"));
  EXPECT_EQ(sts["task_name"], "stsb");
  EXPECT_EQ(sts["dataset_revision"], "9f1c2a7be04d3e11");
  EXPECT_TRUE(sts["mteb_version"].is_null());
  const auto& entry = sts["scores"]["test"][0];
  EXPECT_DOUBLE_EQ(entry["main_score"].get<double>(), r.tasks[0].model.main_score);
  EXPECT_DOUBLE_EQ(entry["cosine_spearman"].get<double>(), r.tasks[0].model.main_score);
  EXPECT_EQ(entry["hf_subset"], "default");
  EXPECT_EQ(entry["languages"], nlohmann::json::array({"eng-Latn"}));
  const auto retrieval = nlohmann::json::parse(read_file(tmp / "mteb" / "cranfield.json"));
  const auto& scores = retrieval["scores"]["test"][0];
  for (const char* key : {"ndcg_at_10", "mrr_at_10", "recall_at_100", "map_at_100", "precision_at_10"}) EXPECT_TRUE(scores.contains(key)) << key;
  const auto clusters = nlohmann::json::parse(read_file(tmp / "mteb" / "debian-clusters.json"));
  EXPECT_EQ(clusters["scores"]["test"][0]["v_measures"].size(), 5u);

  MtebExportOptions options;
  options.languages = {"eng-Latn", "deu-Latn"};
  options.mteb_version = "1.12.48";
  const auto j = nlohmann::json::parse(mteb_task_json(r, r.tasks[1], options));
  EXPECT_EQ(j["mteb_version"], "1.12.48");
  EXPECT_EQ(j["scores"]["test"][0]["languages"].size(), 2u);
}

TEST(ReportHtml, IsSelfContainedAndHasThePlots) {
  Report r = test::fixture_report();
  r.title = "Fixture <b>run</b> & \"quotes\"";
  const std::string html = render_html(r);
  EXPECT_TRUE(has_substr(html, "<title>Fixture &lt;b&gt;run&lt;/b&gt; &amp; &quot;quotes&quot;</title>"));
  for (const char* forbidden : {"http://", "https://", "<script", "src=", "@import", "url("}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << "report.html must not reference anything outside itself: " << forbidden;
  }
  EXPECT_TRUE(has_substr(html, "Training loss"));
  EXPECT_TRUE(has_substr(html, "Learning rate"));
  EXPECT_TRUE(has_substr(html, "stsb: spearman"));
  EXPECT_TRUE(has_substr(html, "Model encoding throughput"));
  EXPECT_TRUE(has_substr(html, "Training throughput"));
  std::size_t svgs = 0;
  for (std::size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u + 2u + 2u);  // a bar chart per task that ran; loss and lr; encode and train speed
}

TEST(ReportWrite, WritesTheRecipesFormatsIntoTheRunFolder) {
  test::TempDir tmp;
  const fs::path dir = copy_fixture(tmp);
  const auto written = write_reports(dir);
  EXPECT_EQ(written.size(), 3u);
  for (const char* f : {"report.json", "report.md", "report.html"}) EXPECT_TRUE(fs::exists(dir / f)) << f;
  const Report r = load_report(dir);  // a folder with report.json loads that file
  ASSERT_TRUE(r.peak_rss_bytes);
  EXPECT_GT(*r.peak_rss_bytes, 1 << 20);  // this test process's VmHWM

  write_report_files(r, dir, {"mteb"});
  EXPECT_TRUE(fs::exists(dir / "mteb" / "cranfield.json"));
  EXPECT_THAT(expect_config_error([&] { write_report_files(r, dir, {"json", "pdf"}); }),
              AllOf(HasSubstr("unknown report format \"pdf\""), HasSubstr("json, md, html, mteb")));
}

TEST(ReportWrite, LoadReportAssemblesARunFolderWithoutReportJson) {
  const Report r = load_report(test::report_fixture_dir() / "run");
  EXPECT_EQ(r.tasks.size(), 4u);
  EXPECT_FALSE(r.peak_rss_bytes);
}

TEST(ReportMemory, ReadsThisProcessPeak) {
  const auto peak = process_peak_rss_bytes();
  ASSERT_TRUE(peak);
  EXPECT_GT(*peak, 1 << 20);
}

// A train log of `steps` steps with a falling loss; every `eval_every` steps (0: never) also the scores
// evaluation during training writes ("eval/<task>/<metric>"), rising.
void write_train_log(const fs::path& file, int steps, int eval_every, double loss0) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file);
  for (int step = 1; step <= steps; ++step) {
    nlohmann::json line = {{"step", step}, {"loss", loss0 / step}, {"lr", 1e-3}, {"grad_norm", 1.0},
                           {"pairs_per_s", 100.0}, {"tokens_per_s", 2000.0}, {"step_seconds", 0.5}};
    if (eval_every > 0 && (step % eval_every == 0 || step == steps)) {
      line["eval/stsb/spearman"] = 0.1 * step;
      line["eval/cranfield/ndcg@10"] = 0.01 * step;
      line["eval_seconds"] = 0.2;
    }
    out << line.dump() << '\n';
  }
}

// The fixture run folder turned into a staged run: two stages with their own logs, listed in run.json.
fs::path staged_fixture(const test::TempDir& tmp) {
  const fs::path dir = copy_fixture(tmp);
  fs::remove(dir / "train_log.jsonl");
  write_train_log(dir / "stages" / "pre" / "train_log.jsonl", 20, 0, 8.0);
  write_train_log(dir / "stages" / "2-contrastive" / "train_log.jsonl", 12, 4, 4.0);
  auto run = nlohmann::json::parse(read_file(dir / "run.json"));
  run["train"]["stages"] = {{{"name", "pre"}, {"plugin", "mlm"}, {"steps", 20}, {"seconds", 11.0}},
                            {{"name", "2-contrastive"}, {"plugin", "contrastive"}, {"steps", 12}, {"seconds", 7.0}}};
  write_file_atomic(dir / "run.json", run.dump(2));
  return dir;
}

TEST(ReportStages, EachStageHasItsSummaryCurveAndQualityCurve) {
  test::TempDir tmp;
  const Report r = assemble_report(staged_fixture(tmp));
  ASSERT_TRUE(r.training);
  const TrainingSummary& t = *r.training;
  ASSERT_EQ(t.stages.size(), 2u);
  EXPECT_EQ(t.stages[0].name, "pre");
  EXPECT_EQ(t.stages[0].plugin, "mlm");
  EXPECT_EQ(t.stages[0].steps, 20);
  EXPECT_DOUBLE_EQ(t.stages[0].seconds, 11.0);
  EXPECT_TRUE(t.stages[0].eval_curve.empty());
  EXPECT_EQ(t.stages[1].eval_curve.step, (std::vector<std::int64_t>{4, 8, 12}));
  const std::vector<double>& spearman = t.stages[1].eval_curve.series.at("stsb/spearman");
  ASSERT_EQ(spearman.size(), 3u);
  EXPECT_NEAR(spearman[2], 1.2, 1e-12);
  // The run: every stage's steps together, the last stage's end.
  EXPECT_EQ(t.steps, 32);
  EXPECT_EQ(t.last_step, 12);
  EXPECT_DOUBLE_EQ(t.final_loss, 4.0 / 12);
  EXPECT_EQ(t.curve.size(), 12u);

  const std::string text = report_to_json(r);
  const Report back = parse_report(text, "report.json");
  EXPECT_EQ(report_to_json(back), text);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["training"]["stages"][1]["name"], "2-contrastive");
  EXPECT_EQ(j["training"]["stages"][1]["eval_curve"]["series"]["cranfield/ndcg@10"].size(), 3u);
  EXPECT_EQ(j["schema"], kReportSchema) << "added fields keep the major version";

  const std::string md = render_markdown(r);
  EXPECT_THAT(md, HasSubstr("### Stage 1: pre (mlm)"));
  EXPECT_THAT(md, HasSubstr("### Stage 2: 2-contrastive (contrastive)"));
  EXPECT_THAT(md, HasSubstr("Quality during training (3 of 3 evaluations)"));
  EXPECT_THAT(md, HasSubstr("cranfield/ndcg@10"));
  const std::string html = render_html(r);
  for (const char* title : {"Training loss: pre", "Training loss: 2-contrastive", "Quality during training: 2-contrastive"}) {
    EXPECT_THAT(html, HasSubstr(title));
  }
  EXPECT_THAT(html, Not(HasSubstr("Quality during training: pre"))) << "stage pre logged no scores";
}

TEST(ReportStages, AnUnstagedLogWithScoresGetsTheQualityCurveBesideTheLoss) {
  test::TempDir tmp;
  const fs::path dir = copy_fixture(tmp);
  write_train_log(dir / "train_log.jsonl", 10, 5, 3.0);
  const Report r = assemble_report(dir);
  ASSERT_TRUE(r.training);
  EXPECT_TRUE(r.training->stages.empty());
  EXPECT_EQ(r.training->eval_curve.step, (std::vector<std::int64_t>{5, 10}));
  EXPECT_THAT(render_html(r), HasSubstr("Quality during training"));
  EXPECT_THAT(render_markdown(r), HasSubstr("Quality during training (2 of 2 evaluations)"));
  const auto j = nlohmann::json::parse(report_to_json(r));
  EXPECT_FALSE(j["training"].contains("stages"));
  EXPECT_EQ(j["training"]["eval_curve"]["step"], nlohmann::json({5, 10}));
  // Without scores nothing is added: the golden report stays byte for byte.
  EXPECT_FALSE(nlohmann::json::parse(report_to_json(test::fixture_report()))["training"].contains("eval_curve"));
}

}  // namespace
}  // namespace sentbench
