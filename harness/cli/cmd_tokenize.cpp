// `sentbench tokenize`: the token ids of every line of a texts file, as a model folder's tokenizer makes them.
#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "sentbench/bpe_tokenizer.hpp"
#include "commands.hpp"
#include "model_options.hpp"
#include "sentbench/log.hpp"

namespace sentbench::cli {

void add_tokenize_command(CLI::App& app, Action& action) {
  struct Args {
    std::string model;
    InputOptions input;
    int max_seq_length = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of each text of a file, one JSON list a line.");
  cmd->footer(
      "Output: one JSON list of ids a line on stdout, in input order, <s> (0) and </s> (2) included.\n"
      "Byte-level BPE as in Hugging Face's RoBERTa tokenizer.\n"
      "Example: sentbench tokenize --model models/roberta-base --input texts.txt");
  cmd->add_option("--model", args->model, "folder with vocab.json + merges.txt, or tokenizer.json (a model folder works)")
      ->required()->check(CLI::ExistingDirectory);
  add_input_options(*cmd, args->input);
  cmd->add_option("--max-seq-length", args->max_seq_length,
                  "cut each text to N ids, <s> and </s> included (default: no limit; the tokenizer has none of its "
                  "own, and a model folder's max_seq_length is not applied)")
      ->check(CLI::Range(2, 1 << 30))->type_name("N");
  cmd->callback([&action, args] {
    action = [args] {
      const std::vector<std::string> texts = read_input_texts(args->input);
      const auto start = std::chrono::steady_clock::now();
      const auto tokenizer = roberta::BpeTokenizer::from_folder(args->model);
      std::string out;
      std::size_t tokens = 0;
      for (const auto& text : texts) {
        const std::vector<std::int32_t> ids = tokenizer.encode(text, args->max_seq_length);
        tokens += ids.size();
        fmt::format_to(std::back_inserter(out), "[{}]\n", fmt::join(ids, ","));
        if (out.size() > (1u << 20)) {
          std::fwrite(out.data(), 1, out.size(), stdout);
          out.clear();
        }
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      log::info("tokenized {} texts into {} ids in {:.2f}s (tokenizer load included)", texts.size(), tokens, seconds);
      return 0;
    };
  });
}

}  // namespace sentbench::cli
