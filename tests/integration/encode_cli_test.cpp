// `sentbench encode | tokenize | bench encode | bench train` end to end on the shared tiny RoBERTa and the
// reference tokenizer: outputs against golden values, input order, JSONL input, JSON results, errors.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using sentbench::test::has_substr;
using sentbench::test::run_cli;
using sentbench::test::run_cli_split;
using sentbench::test::shared_data;
using sentbench::test::TempDir;

namespace {

json golden() { return json::parse(sentbench::read_file(shared_data() / "tiny-roberta" / "golden.json")); }

std::string tiny_model() { return (shared_data() / "tiny-roberta").string(); }

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  sentbench::write_file_atomic(path, text);
}

void write_jsonl(const fs::path& path, const std::vector<std::string>& texts) {
  std::vector<std::string> lines;
  for (const auto& t : texts) lines.push_back(json(t).dump());
  write_lines(path, lines);
}

// The `embeddings` tensor of a safetensors file as rows of floats.
std::vector<std::vector<float>> read_embeddings(const fs::path& path) {
  const auto file = sentbench::SafetensorsFile::open(path);
  const auto& view = file.at("embeddings");
  EXPECT_EQ(view.dtype, sentbench::DType::kF32);
  EXPECT_EQ(view.shape.size(), 2u);
  std::vector<std::vector<float>> rows(static_cast<std::size_t>(view.shape.at(0)));
  const auto* data = reinterpret_cast<const float*>(view.data);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    rows[r].assign(data + r * view.shape[1], data + (r + 1) * view.shape[1]);
  }
  return rows;
}

// Each output row against the golden mean-pooled row golden_rows[i] within the golden tolerance.
void expect_rows_match(const std::vector<std::vector<float>>& rows, const std::vector<std::size_t>& golden_rows) {
  const json g = golden();
  const double tolerance = g["tolerance_abs"].get<double>();
  ASSERT_EQ(rows.size(), golden_rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto expected = g["mean_pooled"][golden_rows[r]].get<std::vector<double>>();
    ASSERT_EQ(rows[r].size(), expected.size()) << "row " << r;
    for (std::size_t j = 0; j < expected.size(); ++j) {
      ASSERT_NEAR(rows[r][j], expected[j], tolerance) << "row " << r << " (golden sentence " << golden_rows[r] << "), dim " << j;
    }
  }
}

std::vector<std::string> golden_sentences() { return golden()["sentences"].get<std::vector<std::string>>(); }

TEST(EncodeCli, HelpOfEachCommand) {
  const auto top = run_cli("--help");
  EXPECT_EQ(top.exit_code, 0) << top.output;
  for (const char* cmd : {"encode", "tokenize", "bench"}) EXPECT_TRUE(has_substr(top.output, cmd));
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"encode", {"--model", "--input", "--jsonl", "--output", "--max-seq-length", "--dtype", "--threads", "--batch-tokens",
                  "--plugin", "safetensors", "embeddings"}},
      {"tokenize", {"--model", "--input", "--jsonl", "--max-seq-length", "JSON list"}},
      {"bench encode", {"--model", "--input", "--batch", "--threads", "--dtype", "--repeat", "tokenize_mb_per_s"}},
      {"bench train", {"--model", "--pairs", "--batch", "--steps", "--dtype", "--threads", "pairs_per_s"}},
  };
  for (const auto& [cmd, parts] : expected) {
    const auto r = run_cli(cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd << ":\n" << r.output;
    for (const auto& part : parts) EXPECT_TRUE(has_substr(r.output, part)) << cmd;
  }
}

TEST(EncodeCli, PlainHuggingFaceFolderGivesGoldenMeanPooledEmbeddings) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/golden.json");
  TempDir tmp;
  const auto sentences = golden_sentences();  // one is empty: a blank line is an empty text
  write_lines(tmp / "texts.txt", sentences);
  const auto r = run_cli("encode --model " + tiny_model() + " --input " + (tmp / "texts.txt").string() + " --output " +
                         (tmp / "out" / "emb.safetensors").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "encoded 6 texts")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "texts/s")) << r.output;
  expect_rows_match(read_embeddings(tmp / "out" / "emb.safetensors"), {0, 1, 2, 3, 4, 5});
}

TEST(EncodeCli, JsonlInputKeepsInputOrder) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/golden.json");
  TempDir tmp;
  const auto sentences = golden_sentences();
  // Reversed and with a repeat, as JSON strings and one {"text": ...} object, around a blank line.
  const std::vector<std::size_t> order = {5, 3, 4, 2, 1, 0, 3};
  std::string jsonl;
  for (std::size_t i = 0; i < order.size(); ++i) {
    jsonl += i == 2 ? json{{"text", sentences[order[i]]}}.dump() : json(sentences[order[i]]).dump();
    jsonl += i == 3 ? "\n\n" : "\n";
  }
  sentbench::write_file_atomic(tmp / "texts.jsonl", jsonl);
  const auto r = run_cli("encode --model " + tiny_model() + " --input " + (tmp / "texts.jsonl").string() +
                         " --jsonl --batch-tokens 64 -o " + (tmp / "emb.safetensors").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_rows_match(read_embeddings(tmp / "emb.safetensors"), order);
}

TEST(EncodeCli, BadJsonlLineIsNamedByFileAndLine) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/config.json");
  TempDir tmp;
  sentbench::write_file_atomic(tmp / "texts.jsonl", "\"fine\"\n[\"not\", \"a string\"]\n");
  auto r = run_cli("encode --model " + tiny_model() + " --input " + (tmp / "texts.jsonl").string() + " --jsonl -o " +
                   (tmp / "e.safetensors").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has_substr(r.output, "texts.jsonl:2")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "expected a JSON string")) << r.output;
  sentbench::write_file_atomic(tmp / "texts.jsonl", "\"fine\"\n\"unterminated\n");
  r = run_cli("encode --model " + tiny_model() + " --input " + (tmp / "texts.jsonl").string() + " --jsonl -o " +
              (tmp / "e.safetensors").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has_substr(r.output, "texts.jsonl:2: malformed JSON")) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "e.safetensors"));
}

TEST(EncodeCli, MissingModelFolderOrInputIsAUsageError) {
  TempDir tmp;
  write_lines(tmp / "texts.txt", {"hello"});
  const std::string missing = (tmp / "no-such-model").string();
  for (const std::string& cmd : {std::string("encode -o ") + (tmp / "e.safetensors").string(), std::string("tokenize"),
                                 std::string("bench encode")}) {
    auto r = run_cli(cmd + " --model " + missing + " --input " + (tmp / "texts.txt").string());
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.output;
    EXPECT_TRUE(has_substr(r.output, missing)) << cmd;
    r = run_cli(cmd + " --model " + tmp.path().string() + " --input " + (tmp / "no-such.txt").string());
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.output;
    EXPECT_TRUE(has_substr(r.output, "no-such.txt")) << cmd;
  }
  const auto r = run_cli("bench train --model " + tmp.path().string() + " --pairs " + (tmp / "no-pairs.jsonl").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(has_substr(r.output, "no-pairs.jsonl")) << r.output;
}

TEST(EncodeCli, FolderWithoutModelFilesIsReported) {
  TempDir tmp;
  write_lines(tmp / "texts.txt", {"hello"});
  fs::create_directories(tmp / "empty-model");
  const auto r = run_cli("encode --model " + (tmp / "empty-model").string() + " --input " + (tmp / "texts.txt").string() +
                         " -o " + (tmp / "e.safetensors").string());
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_substr(r.output, "empty-model")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "config.json")) << r.output;
}

TEST(TokenizeCli, MatchesGoldenIdsOfTheReferenceTokenizer) {
  SENTBENCH_REQUIRE_SHARED("roberta-tokenizer/golden.jsonl");
  TempDir tmp;
  std::vector<std::string> texts;
  std::vector<std::vector<int>> ids;
  std::ifstream golden_file(shared_data() / "roberta-tokenizer" / "golden.jsonl");
  for (std::string line; std::getline(golden_file, line);) {
    const json j = json::parse(line);
    texts.push_back(j["text"].get<std::string>());
    ids.push_back(j["ids"].get<std::vector<int>>());
  }
  ASSERT_EQ(texts.size(), 10584u);
  write_jsonl(tmp / "texts.jsonl", texts);  // some texts hold newlines and odd whitespace
  const auto r = run_cli_split("tokenize --model " + (shared_data() / "roberta-tokenizer").string() + " --input " +
                                   (tmp / "texts.jsonl").string() + " --jsonl",
                               tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::size_t n = 0, mismatches = 0;
  for (std::string line; std::getline(out, line); ++n) {
    ASSERT_LT(n, ids.size()) << "more output lines than texts";
    if (json::parse(line).get<std::vector<int>>() != ids[n] && ++mismatches <= 5) {
      ADD_FAILURE() << "text " << n << " " << json(texts[n]).dump() << ": got " << line << ", expected " << json(ids[n]).dump();
    }
  }
  EXPECT_EQ(n, ids.size());
  EXPECT_EQ(mismatches, 0u);
}

TEST(TokenizeCli, MaxSeqLengthCutsAndKeepsSpecials) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/vocab.json");
  TempDir tmp;
  write_lines(tmp / "texts.txt", {"Hello world", "The quick brown fox jumps over the lazy dog near the riverbank.", ""});
  const auto r = run_cli_split("tokenize --model " + tiny_model() + " --input " + (tmp / "texts.txt").string() +
                                   " --max-seq-length 5",
                               tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[0,31414,232,2]\n[0,133,2119,6219,2]\n[0,2]\n");
}

TEST(BenchCli, EncodePrintsOneJsonObjectWithPositiveRates) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/golden.json");
  TempDir tmp;
  const json g = golden();
  write_jsonl(tmp / "texts.jsonl", g["sentences"].get<std::vector<std::string>>());
  std::int64_t tokens = 0;
  for (const auto& row : g["attention_mask"]) for (const auto& m : row) tokens += m.get<std::int64_t>();
  for (const std::string batch : {"2", "0"}) {
    const auto r = run_cli_split("bench encode --model " + tiny_model() + " --input " + (tmp / "texts.jsonl").string() +
                                     " --jsonl --batch " + batch + " --repeat 2 --threads 1",
                                 tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);  // one object, nothing else on stdout
    EXPECT_GT(j["sentences_per_s"].get<double>(), 0) << j;
    EXPECT_GT(j["tokens_per_s"].get<double>(), 0) << j;
    EXPECT_GT(j["tokenize_mb_per_s"].get<double>(), 0) << j;
    EXPECT_GT(j["seconds"].get<double>(), 0) << j;
    EXPECT_EQ(j["sentences"], 6) << j;
    EXPECT_EQ(j["tokens"], tokens) << j;
    EXPECT_EQ(j["batch"], std::stoi(batch)) << j;
    EXPECT_EQ(j["batches"], batch == "2" ? 3 : 1) << j;
    EXPECT_EQ(j["threads"], 1) << j;
    EXPECT_EQ(j["dtype"], "fp32") << j;
    EXPECT_EQ(j["dim"], 32) << j;
    EXPECT_EQ(j["layers"], 2) << j;
    EXPECT_GT(j["parameters"].get<std::int64_t>(), 0) << j;
    EXPECT_EQ(j.contains("batch_tokens"), batch == "0") << j;
  }
}

TEST(BenchCli, TrainPrintsOneJsonObjectWithPositiveRates) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/golden.json");
  TempDir tmp;
  // A batch needs distinct texts: each pair's texts are numbered.
  const auto s = golden_sentences();
  std::vector<std::string> pairs;
  for (std::size_t i = 0; i < 2 * s.size(); ++i) {
    const std::string text = s[i % s.size()];
    pairs.push_back(json::array({fmt::format("{} {}", i, text), fmt::format("{} again: {}", i, text)}).dump());
  }
  write_lines(tmp / "pairs.jsonl", pairs);
  const auto r = run_cli_split("bench train --model " + tiny_model() + " --pairs " + (tmp / "pairs.jsonl").string() +
                                   " --batch 4 --steps 2 --threads 1 --max-seq-length 32",
                               tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_GT(j["pairs_per_s"].get<double>(), 0) << j;
  EXPECT_GT(j["tokens_per_s"].get<double>(), 0) << j;
  EXPECT_GT(j["seconds"].get<double>(), 0) << j;
  EXPECT_EQ(j["batch"], 4) << j;
  EXPECT_EQ(j["steps"], 2) << j;
  EXPECT_EQ(j["dtype"], "fp32") << j;
  EXPECT_EQ(j["threads"], 1) << j;
  EXPECT_NEAR(j["pairs_per_s"].get<double>(), 2 * 4 / j["seconds"].get<double>(), 1e-6 * j["pairs_per_s"].get<double>());
}

TEST(BenchCli, UnknownKeyForAnotherPluginIsARecipeError) {
  SENTBENCH_REQUIRE_SHARED("tiny-roberta/config.json");
  TempDir tmp;
  write_lines(tmp / "texts.txt", {"hello"});
  const auto r = run_cli("bench encode --plugin hashing --model " + tiny_model() + " --input " + (tmp / "texts.txt").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(has_substr(r.output, "model")) << r.output;
  EXPECT_TRUE(has_substr(r.output, "`sentbench bench encode` options")) << r.output;
}

}  // namespace
