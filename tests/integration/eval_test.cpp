// `sentbench eval` end to end on the shared reference data (Cranfield, STS-B) with the tiny RoBERTa
// fixture: results.json with model and baselines, per-item files, the embedding cache, bad data.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using sentbench::test::has_substr;
using sentbench::test::run_cli;
using sentbench::test::TempDir;

namespace {

std::string eval_command(const fs::path& out, const std::string& extra = "") {
  const fs::path data = sentbench::test::shared_data();
  return "eval " + sentbench::test::recipe_fixture("eval_tiny.toml").string() + " -o " + out.string() +
         " --set encoder.model=\"" + (data / "tiny-roberta").string() + "\"" +
         " --set 'eval[0].path=\"" + (data / "cranfield").string() + "\"'" +
         " --set 'eval[1].path=\"" + (data / "stsb/sts-test.csv").string() + "\"' " + extra;
}

const json* task(const json& results, const std::string& name) {
  for (const auto& t : results["tasks"]) if (t["name"] == name) return &t;
  return nullptr;
}

TEST(Eval, SuiteOnSharedDataWithBaselinesDetailsAndCache) {
  SENTBENCH_REQUIRE_SHARED("cranfield/corpus.jsonl");
  TempDir tmp;
  const std::string cache = "SENTBENCH_CACHE=" + (tmp / "cache").string() + " ";
  const auto first = sentbench::test::run_command(cache + SENTBENCH_CLI + std::string(" ") +
                                                  eval_command(tmp / "run", "--details"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(has_substr(first.output, "cranfield"));
  EXPECT_TRUE(has_substr(first.output, "bm25"));
  const json results = json::parse(sentbench::read_file(tmp / "run/results.json"));

  const json* cran = task(results, "cranfield");
  ASSERT_NE(cran, nullptr);
  EXPECT_EQ((*cran)["items"], 225);
  EXPECT_EQ((*cran)["main_metric"], "ndcg@10");
  const double bm25 = (*cran)["baselines"]["bm25"]["main_score"];
  const double model = (*cran)["model"]["main_score"];
  const double untrained = (*cran)["baselines"]["random-init"]["main_score"];
  EXPECT_GT(bm25, 0.25) << "BM25 on Cranfield scores far above chance";
  EXPECT_GE(model, 0.0);
  EXPECT_LT(model, bm25) << "a random tiny model does not beat BM25";
  EXPECT_GE(untrained, 0.0);
  EXPECT_TRUE((*cran)["model"]["metrics"].contains("mrr@10"));
  EXPECT_TRUE((*cran)["model"]["metrics"].contains("recall@100"));
  EXPECT_TRUE((*cran)["model"]["metrics"].contains("map@100"));
  EXPECT_EQ((*cran)["model"]["per_item"]["scores"].size(), 225u);

  const json* sts = task(results, "stsb-test");
  ASSERT_NE(sts, nullptr);
  EXPECT_EQ((*sts)["items"], 1379);
  const double tfidf = (*sts)["baselines"]["tfidf"]["main_score"];
  EXPECT_GT(tfidf, 0.4) << "TF-IDF cosine correlates with STS-B gold";
  EXPECT_TRUE((*sts)["model"]["metrics"].contains("pearson"));

  const json* clusters = task(results, "toy-clusters");
  ASSERT_NE(clusters, nullptr);
  EXPECT_GT((*clusters)["baselines"]["tfidf"]["main_score"].get<double>(), 0.8) << "topics separable by words";

  // Per-item files: a TREC run file, pair scores, cluster assignments.
  std::ifstream run(tmp / "run/details/cranfield.model.run");
  std::string line;
  ASSERT_TRUE(std::getline(run, line));
  EXPECT_TRUE(has_substr(line, " Q0 ")) << line;
  EXPECT_TRUE(fs::exists(tmp / "run/details/cranfield.bm25.run"));
  EXPECT_TRUE(fs::exists(tmp / "run/details/stsb-test.model.tsv"));
  EXPECT_TRUE(fs::exists(tmp / "run/details/toy-clusters.model.clusters.tsv"));

  // Second run: the unchanged model is served from the cache with identical scores.
  const auto second = sentbench::test::run_command(cache + SENTBENCH_CLI + std::string(" ") + eval_command(tmp / "run2"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const json again = json::parse(sentbench::read_file(tmp / "run2/results.json"));
  EXPECT_TRUE((*task(again, "cranfield"))["model"]["cache_hit"].get<bool>());
  EXPECT_DOUBLE_EQ((*task(again, "cranfield"))["model"]["main_score"].get<double>(), model);
  const auto third = sentbench::test::run_command(cache + SENTBENCH_CLI + std::string(" ") +
                                                  eval_command(tmp / "run3", "--no-cache"));
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_FALSE((*task(json::parse(sentbench::read_file(tmp / "run3/results.json")), "cranfield"))["model"]["cache_hit"].get<bool>());
}

TEST(Eval, CacheMissesWhenTheTokenizerChangesUnderTheSameWeights) {
  // A model folder whose tokenizer is rebuilt (the same vocabulary size, so the same weights load) must
  // not be served the old tokenizer's embeddings.
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/merges.txt");
  TempDir tmp;
  const fs::path model = tmp / "model";
  fs::copy(sentbench::test::shared_data() / "tiny-roberta", model, fs::copy_options::recursive);
  const std::string cache = "SENTBENCH_CACHE=" + (tmp / "cache").string() + " ";
  const auto run = [&](const std::string& out) {
    const auto result = sentbench::test::run_command(cache + SENTBENCH_CLI + std::string(" ") + eval_command(tmp / out) +
                                                     " --set encoder.model=\"" + model.string() + "\"");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return (*task(json::parse(sentbench::read_file(tmp / out / "results.json")), "cranfield"))["model"];
  };
  const json first = run("a");
  EXPECT_FALSE(first["cache_hit"].get<bool>());
  EXPECT_TRUE(run("b")["cache_hit"].get<bool>());
  // Keep the header and the first 20 merges: words now split into many more, different tokens.
  const std::string merges = sentbench::read_file(model / "merges.txt");
  std::size_t end = 0;
  for (int line = 0; line < 21; ++line) end = merges.find('\n', end) + 1;
  std::ofstream(model / "merges.txt", std::ios::trunc) << merges.substr(0, end);
  const json changed = run("c");
  EXPECT_FALSE(changed["cache_hit"].get<bool>());
  EXPECT_NE(changed["main_score"].get<double>(), first["main_score"].get<double>());
}

TEST(Eval, BadDataNamesFileAndLineAndWritesNoResults) {
  TempDir tmp;
  fs::create_directories(tmp / "beir/qrels");
  std::ofstream(tmp / "beir/corpus.jsonl") << "{\"_id\": \"d1\", \"text\": \"alpha\"}\n{not json\n";
  std::ofstream(tmp / "beir/queries.jsonl") << "{\"_id\": \"q1\", \"text\": \"alpha\"}\n";
  std::ofstream(tmp / "beir/qrels/test.tsv") << "query-id\tcorpus-id\tscore\nq1\td1\t1\n";
  std::ofstream(tmp / "recipe.toml") << "[encoder]\nplugin = \"hashing\"\n[[eval]]\ntype = \"retrieval\"\npath = \"beir\"\n";
  const auto r = run_cli("eval " + (tmp / "recipe.toml").string() + " -o " + (tmp / "out").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has_substr(r.output, "corpus.jsonl:2")) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "out/results.json"));
}

// Three tasks whose third has a malformed data file: the run stops before the first text is encoded
// (no progress line of an encode, no results.json), naming the third task's file and line.
TEST(Eval, AMalformedThirdTaskStopsTheRunBeforeAnythingIsEncoded) {
  TempDir tmp;
  const fs::path data = fs::path(SENTBENCH_SOURCE_DIR) / "tests/fixtures/data";
  std::ofstream(tmp / "bad.jsonl") << "{\"text\": \"apt\", \"label\": \"admin\"}\n{\"text\": \"vim\"\n";
  std::ofstream(tmp / "recipe.toml") << "[encoder]\nplugin = \"hashing\"\n"
                                     << "[[eval]]\ntype = \"retrieval\"\npath = \"" << (data / "beir").string() << "\"\n"
                                     << "[[eval]]\ntype = \"sts\"\npath = \"" << (data / "sts/sts-mini.csv").string() << "\"\n"
                                     << "[[eval]]\ntype = \"clustering\"\nname = \"third\"\npath = \"bad.jsonl\"\n";
  const auto r = run_cli("eval " + (tmp / "recipe.toml").string() + " -o " + (tmp / "out").string());
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "bad.jsonl:2")) << r.output;
  EXPECT_FALSE(has_substr(r.output, "texts/s")) << "nothing may be encoded before every task's data is checked\n" << r.output;
  EXPECT_FALSE(has_substr(r.output, "task ")) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "out/results.json"));
}

}  // namespace
