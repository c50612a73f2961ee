// Staged recipes and evaluation during training (issue 14), through the executable: `validate` checks
// every [[stage]] against its plugin; two contrastive stages run in order on one encoder, each in
// stages/<name>/; a run killed in stage 2 resumes in stage 2 and ends with the weights of an
// uninterrupted run; eval_every puts scores into the train log; the report shows every stage's curves.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "distributed_test_util.hpp"
#include "sentbench/io.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sentbench::test;

namespace sentbench {
namespace {

const fs::path kDebian = fs::path(SENTBENCH_SOURCE_DIR) / "datasets" / "data" / "debian";

// A small BEIR folder cut from the Debian retrieval set: its first 60 queries, their documents and 240
// others, so that scoring it every few steps costs little.
fs::path write_small_retrieval(const fs::path& dir) {
  const fs::path out = dir / "retrieval";
  fs::create_directories(out / "qrels");
  std::ifstream queries(kDebian / "retrieval" / "queries.jsonl");
  std::ofstream q(out / "queries.jsonl"), qrels(out / "qrels" / "test.tsv");
  qrels << "query-id\tcorpus-id\tscore\n";
  std::set<std::string> wanted;
  std::map<std::string, std::string> judged;  // query id -> doc id
  std::ifstream all_qrels(kDebian / "retrieval" / "qrels" / "test.tsv");
  for (std::string line; std::getline(all_qrels, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos || line.rfind("query-id", 0) == 0) continue;
    const auto tab2 = line.find('\t', tab + 1);
    judged[line.substr(0, tab)] = line.substr(tab + 1, tab2 - tab - 1);
  }
  int n = 0;
  for (std::string line; n < 60 && std::getline(queries, line);) {
    const std::string id = json::parse(line).at("_id").get<std::string>();
    if (!judged.count(id)) continue;
    q << line << '\n';
    qrels << id << '\t' << judged[id] << "\t1\n";
    wanted.insert(judged[id]);
    ++n;
  }
  std::ifstream corpus(kDebian / "retrieval" / "corpus.jsonl");
  std::ofstream c(out / "corpus.jsonl");
  int others = 0;
  for (std::string line; std::getline(corpus, line);) {
    const std::string id = json::parse(line).at("_id").get<std::string>();
    if (wanted.count(id) || others++ < 240) c << line << '\n';
  }
  return out;
}

// Two contrastive stages on the committed Debian pairs with a tiny random-init RoBERTa (one thread,
// dropout off: the runs are deterministic). `evals` adds evaluation during training in both stages.
fs::path write_staged_recipe(const TempDir& tmp, int stage1_steps, int stage2_steps, bool evals,
                             const std::string& stage2_data = "") {
  const std::string data = (kDebian / "pairs.jsonl.gz").string();
  std::ofstream out(tmp / "staged.toml");
  out << "[run]\nname = 'staged'\nseed = 5\nthreads = 1\n"
      << "[encoder]\nplugin = 'roberta'\ntokenizer = '" << (kDebian / "tokenizer").string()
      << "'\nmax_seq_length = 32\npooling = 'mean'\n"
         "[encoder.init]\nhidden = 32\nlayers = 2\nheads = 2\nffn = 64\ndropout = 0.0\n";
  const auto stage = [&](int steps, const std::string& stage_data, int eval_every) {
    out << "\n[[stage]]\nplugin = 'contrastive'\ndata = '" << stage_data << "'\nsteps = " << steps
        << "\nbatch_size = 16\nlr = 1e-3\nwarmup_steps = 2\nshuffle_buffer = 64\nkeep_checkpoints = 1\n";
    if (evals) out << "eval_every = " << eval_every << "\neval_max_items = 200\n";
  };
  stage(stage1_steps, data, 3);
  stage(stage2_steps, stage2_data.empty() ? data : stage2_data, 20);
  if (evals) {
    out << "\n[[eval]]\ntype = 'retrieval'\nname = 'debian-retrieval'\npath = '"
        << write_small_retrieval(tmp.path()).string() << "'\nbaselines = []\n"
        << "\n[[eval]]\ntype = 'clustering'\nname = 'debian-sections'\npath = '"
        << (kDebian / "clustering.jsonl").string() << "'\nsubsets = 2\nsubset_size = 300\nbaselines = []\n";
  }
  return tmp / "staged.toml";
}

fs::path stage_dir(const fs::path& run, const std::string& name) { return run / "stages" / name; }

std::vector<json> log_lines(const fs::path& log) {
  std::vector<json> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(StagedCli, ValidateChecksEveryStageAgainstItsPlugin) {
  const fs::path bad = recipe_fixture("staged_invalid.toml");
  const auto r = run_cli("validate " + bad.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // The misspelled key of the second stage, at its line, with the closest valid key.
  EXPECT_TRUE(has_substr(r.output, "staged_invalid.toml:26:")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "unknown key 'stage[1].warmup_step'; did you mean 'stage[1].warmup_steps'?"));
  // eval_tasks naming no [[eval]] task.
  EXPECT_TRUE(has_substr(r.output, "staged_invalid.toml:27:")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "no [[eval]] task is named 'debian-retreival'; did you mean 'debian-retrieval'?"));
  EXPECT_FALSE(has_substr(r.output, "stage[0].")) << "the first stage is valid";

  const auto both = run_cli("validate " + recipe_fixture("staged_with_train.toml").string());
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_TRUE(has_substr(both.output, "both [train]"));
  EXPECT_TRUE(has_substr(both.output, "staged_with_train.toml:"));

  TempDir tmp;
  const auto good = run_cli("validate --no-print " + write_staged_recipe(tmp, 2, 2, true).string());
  EXPECT_EQ(good.exit_code, 0) << good.output;
}

TEST(StagedCli, TwoStagesRunInOrderScoreDuringTrainingAndReportEachStage) {
  TempDir tmp;
  const fs::path run = tmp / "run";
  const auto r = run_cli("run " + write_staged_recipe(tmp, 6, 40, true).string() + " -o " + run.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "stage 1 of 2: 1-contrastive (contrastive)"));
  EXPECT_TRUE(has_substr(r.output, "stage 2 of 2: 2-contrastive (contrastive)"));

  // Each stage in its own folder: log, checkpoint, weights and done marker; the run's model at the end.
  for (const char* name : {"1-contrastive", "2-contrastive"}) {
    const fs::path dir = stage_dir(run, name);
    EXPECT_TRUE(fs::exists(dir / "train_log.jsonl")) << name;
    EXPECT_TRUE(fs::exists(dir / "final.safetensors")) << name;
    EXPECT_TRUE(fs::exists(dir / "stage.json")) << name;
    EXPECT_FALSE(fs::is_empty(dir / "checkpoints")) << name;
  }
  EXPECT_TRUE(fs::exists(run / "model" / "model.safetensors"));
  EXPECT_FALSE(fs::exists(run / "train_log.jsonl")) << "a staged run logs per stage";
  const json marker = json::parse(read_file(stage_dir(run, "2-contrastive") / "stage.json"));
  EXPECT_EQ(marker.at("steps").get<int>(), 40);
  const json summary = json::parse(read_file(run / "run.json"));
  ASSERT_EQ(summary.at("train").at("stages").size(), 2u) << summary.dump(1);
  EXPECT_EQ(summary["train"]["stages"][1].at("name"), "2-contrastive");
  EXPECT_GT(summary["train"]["stages"][0].at("seconds").get<double>(), 0.0);

  // Scores in the train log every eval_every steps (and at the last step), and they move as the model trains.
  std::vector<double> ndcg;
  for (const auto& [name, every, steps] : {std::tuple<std::string, int, int>{"1-contrastive", 3, 6},
                                           std::tuple<std::string, int, int>{"2-contrastive", 20, 40}}) {
    const std::vector<json> lines = log_lines(stage_dir(run, name) / "train_log.jsonl");
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(steps)) << name;
    for (const json& line : lines) {
      const int step = line.at("step").get<int>();
      const bool expected = step % every == 0 || step == steps;
      EXPECT_EQ(line.contains("eval/debian-retrieval/ndcg@10"), expected) << name << " step " << step;
      EXPECT_EQ(line.contains("eval/debian-sections/v_measure"), expected) << name << " step " << step;
      if (expected) ndcg.push_back(line["eval/debian-retrieval/ndcg@10"].get<double>());
    }
  }
  ASSERT_EQ(ndcg.size(), 4u);
  EXPECT_GT(std::set<double>(ndcg.begin(), ndcg.end()).size(), 1u) << "the scores change as the model trains";

  // The report: one loss curve per stage, titled by its name, and the quality curve beside it.
  const std::string md = read_file(run / "report.md");
  EXPECT_TRUE(has_substr(md, "### Stage 1: 1-contrastive (contrastive)"));
  EXPECT_TRUE(has_substr(md, "### Stage 2: 2-contrastive (contrastive)"));
  EXPECT_TRUE(has_substr(md, "Quality during training"));
  EXPECT_TRUE(has_substr(md, "debian-retrieval/ndcg@10"));
  const std::string html = read_file(run / "report.html");
  for (const char* title : {"Training loss: 1-contrastive", "Training loss: 2-contrastive",
                            "Quality during training: 1-contrastive", "Quality during training: 2-contrastive"}) {
    EXPECT_TRUE(has_substr(html, title));
  }
  // The manifest: the exact command line, peak memory per phase, dataset hashes.
  EXPECT_TRUE(has_substr(summary.at("command").get<std::string>(), " run ")) << summary.dump(1);
  EXPECT_TRUE(has_substr(summary.at("command").get<std::string>(), "-o " + run.string())) << summary.dump(1);
  const json phases = summary.at("memory").at("phases");
  ASSERT_EQ(phases.size(), 3u) << summary.dump(1);
  EXPECT_EQ(phases[0].at("phase"), "load");
  EXPECT_EQ(phases[1].at("phase"), "train");
  EXPECT_EQ(phases[2].at("phase"), "evaluate");
  for (const json& p : phases) EXPECT_GT(p.at("peak_rss_bytes").get<std::int64_t>(), 10 << 20) << p.dump();
  EXPECT_TRUE(has_substr(md, "| peak memory by phase | load ")) << md;
  EXPECT_TRUE(has_substr(md, "| command ")) << md;
  EXPECT_TRUE(has_substr(md, "| debian-retrieval ")) << "the datasets table with hashes";
  const json report = json::parse(read_file(run / "report.json"));
  EXPECT_EQ(report.at("memory").at("phases").size(), 3u);
  EXPECT_EQ(report.at("run").at("command"), summary.at("command"));
  ASSERT_EQ(report.at("training").at("stages").size(), 2u);
  EXPECT_EQ(report["training"]["steps"].get<int>(), 46) << "the run counts every stage's steps";
  EXPECT_EQ(report["training"]["stages"][1]["eval_curve"]["step"], json({20, 40}));
}

// Waits until `log` has `lines` lines (or `limit` passes); whether it got there.
bool wait_for_lines(const fs::path& log, std::size_t lines, std::chrono::seconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (lines_in(log) < lines && std::chrono::steady_clock::now() - start < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return lines_in(log) >= lines;
}

TEST(StagedCli, KilledInStageTwoResumesInStageTwoWithTheWeightsOfAnUninterruptedRun) {
  TempDir tmp;
  const fs::path recipe = write_staged_recipe(tmp, 4, 150, false);
  const auto straight = run_cli("-q train " + recipe.string() + " -o " + (tmp / "straight").string());
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  // SIGTERM while stage 2 trains: it stops at the next step with a checkpoint (143), stage 1 stays done.
  const fs::path run = tmp / "run";
  RankProcesses procs;
  RankLaunch launch;
  launch.world = 1;
  const pid_t pid = start_rank(launch, {"train", recipe.string(), "-o", run.string()}, tmp / "log.txt");
  procs.add(pid);
  ASSERT_TRUE(wait_for_lines(stage_dir(run, "2-contrastive") / "train_log.jsonl", 3, std::chrono::seconds(120)))
      << read_file(tmp / "log.txt");
  ::kill(pid, SIGTERM);
  const auto codes = procs.wait_all(std::chrono::seconds(60));
  const std::string killed_log = read_file(tmp / "log.txt");
  ASSERT_EQ(codes[0], 143) << killed_log;
  EXPECT_TRUE(has_substr(killed_log, "stage 2-contrastive, 2 of 2"));
  EXPECT_TRUE(has_substr(killed_log, "continue with --resume"));
  EXPECT_TRUE(fs::exists(stage_dir(run, "1-contrastive") / "stage.json"));
  EXPECT_FALSE(fs::exists(stage_dir(run, "2-contrastive") / "stage.json"));
  const std::size_t stopped_at = lines_in(stage_dir(run, "2-contrastive") / "train_log.jsonl");
  ASSERT_LT(stopped_at, 150u) << "the signal came after stage 2 had finished; nothing to resume";
  const std::string stage1_log = read_file(stage_dir(run, "1-contrastive") / "train_log.jsonl");

  // --resume: stage 1 is not run again, stage 2 continues from its checkpoint.
  const auto resumed = run_cli("train --resume " + recipe.string() + " -o " + run.string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(has_substr(resumed.output, "stage 1-contrastive finished earlier; resuming in stage 2 of 2"));
  EXPECT_TRUE(has_substr(resumed.output, "stage 2 of 2: 2-contrastive (contrastive), resuming from its checkpoint"));
  EXPECT_TRUE(has_substr(resumed.output, "resumed from"));
  EXPECT_FALSE(has_substr(resumed.output, "stage 1 of 2")) << "stage 1 ran again";
  EXPECT_EQ(read_file(stage_dir(run, "1-contrastive") / "train_log.jsonl"), stage1_log);

  // The same losses and the same final weights as the run that was never stopped.
  for (const char* name : {"1-contrastive", "2-contrastive"}) {
    const auto a = losses(stage_dir(tmp / "straight", name)), b = losses(stage_dir(run, name));
    ASSERT_EQ(a.size(), b.size()) << name;
    for (const auto& [step, loss] : a) EXPECT_NEAR(b.at(step), loss, 1e-6) << name << " step " << step;
    EXPECT_LE(max_param_diff(stage_dir(tmp / "straight", name) / "final.safetensors",
                             stage_dir(run, name) / "final.safetensors"),
              1e-6)
        << name;
  }
  EXPECT_LE(max_param_diff(tmp / "straight" / "model" / "model.safetensors", run / "model" / "model.safetensors"), 1e-6);
  const json summary = json::parse(read_file(run / "run.json"));
  EXPECT_TRUE(summary["train"]["stages"][0].value("finished_earlier", false)) << summary.dump(1);
}

// A run that ended between two stages (here: stage 2's data was missing) resumes with stage 2 from
// stage 1's saved weights, and ends where an uninterrupted run does.
TEST(StagedCli, ResumeAfterAFinishedStageStartsTheNextFromItsWeights) {
  TempDir tmp;
  const fs::path recipe = write_staged_recipe(tmp, 4, 6, false);
  ASSERT_EQ(run_cli("-q train " + recipe.string() + " -o " + (tmp / "straight").string()).exit_code, 0);

  TempDir broken_dir;
  const fs::path broken = write_staged_recipe(broken_dir, 4, 6, false, (tmp / "missing.jsonl.gz").string());
  const fs::path run = tmp / "run";
  const auto failed = run_cli("-q train " + broken.string() + " -o " + run.string());
  ASSERT_NE(failed.exit_code, 0) << failed.output;
  ASSERT_TRUE(fs::exists(stage_dir(run, "1-contrastive") / "stage.json")) << failed.output;
  EXPECT_FALSE(fs::exists(stage_dir(run, "2-contrastive") / "checkpoints")) << failed.output;

  // The data path is a training setting: the fixed recipe resumes only with --force-resume.
  const auto refused = run_cli("-q train --resume " + recipe.string() + " -o " + run.string());
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(has_substr(refused.output, "stage[1].data")) << refused.output;
  const auto resumed = run_cli("train --resume --force-resume " + recipe.string() + " -o " + run.string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(has_substr(resumed.output, "loaded the encoder from"));
  EXPECT_TRUE(has_substr(resumed.output, "1-contrastive/final.safetensors"));
  EXPECT_LE(max_param_diff(stage_dir(tmp / "straight", "2-contrastive") / "final.safetensors",
                           stage_dir(run, "2-contrastive") / "final.safetensors"),
            1e-6);
}

// --dry-run estimates each stage and trains nothing.
TEST(StagedCli, DryRunEstimatesEachStage) {
  TempDir tmp;
  const auto r = run_cli("train --dry-run " + write_staged_recipe(tmp, 4, 6, false).string() + " -o " +
                         (tmp / "run").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "stage 1 of 2: 1-contrastive (contrastive)"));
  EXPECT_TRUE(has_substr(r.output, "stage 2 of 2: 2-contrastive (contrastive)"));
  EXPECT_TRUE(has_substr(r.output, "dry run of 4 steps"));
  EXPECT_TRUE(has_substr(r.output, "dry run of 6 steps"));
  EXPECT_FALSE(fs::exists(tmp / "run" / "stages")) << "a dry run trains nothing";
}

}  // namespace
}  // namespace sentbench
