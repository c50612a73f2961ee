// `sentbench tokenizer train|encode`: byte-level BPE vocabularies for models trained from scratch.
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "sentbench/bpe_trainer.hpp"
#include "commands.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/progress.hpp"

namespace sentbench::cli {

void add_tokenizer_command(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("tokenizer", "Train or try a byte-level BPE tokenizer (vocab.json + merges.txt).");
  cmd->require_subcommand(1);

  struct TrainArgs {
    std::vector<std::string> files;
    std::size_t vocab_size = 8000;
    std::uint64_t min_frequency = 2;
    std::string output = "tokenizer";
  };
  auto train = std::make_shared<TrainArgs>();
  CLI::App* t = cmd->add_subcommand("train", "Learn merges from text files (.txt or .gz, one text a line) and write "
                                             "vocab.json + merges.txt in Hugging Face's format.");
  t->add_option("files", train->files, "input text files")->required()->check(CLI::ExistingFile);
  t->add_option("--vocab-size", train->vocab_size, "vocabulary size: 5 specials + 256 bytes + merges")
      ->capture_default_str()->check(CLI::Range(262, 1 << 20));
  t->add_option("--min-frequency", train->min_frequency, "never merge a pair seen fewer times")->capture_default_str();
  t->add_option("-o,--output", train->output, "output folder")->capture_default_str();
  t->callback([&action, train] {
    action = [train] {
      std::vector<std::filesystem::path> files(train->files.begin(), train->files.end());
      std::optional<Progress> counting, merging;
      roberta::BpeTrainerOptions options;
      options.vocab_size = train->vocab_size;
      options.min_frequency = train->min_frequency;
      options.output_dir = train->output;
      options.progress = [&](const roberta::BpeTrainProgress& p) {
        auto& bar = p.stage == roberta::BpeTrainProgress::Stage::kCounting ? counting : merging;
        if (!bar) {
          if (p.stage == roberta::BpeTrainProgress::Stage::kMerging && counting) counting->finish();
          const bool count_stage = p.stage == roberta::BpeTrainProgress::Stage::kCounting;
          bar.emplace(count_stage ? "count words" : "merge pairs", static_cast<std::int64_t>(p.total),
                      count_stage ? "bytes" : "merges");
        }
        bar->set(static_cast<std::int64_t>(p.done));
      };
      const auto result = roberta::train_bpe(files, options);
      if (merging) merging->finish();
      log::info("{} lines, {} words ({} distinct), {} merges; counting {:.1f}s, merging {:.1f}s → {}/vocab.json, merges.txt",
                result.lines, result.words, result.unique_words, result.merges, result.count_seconds,
                result.merge_seconds, train->output);
      return 0;
    };
  });

  struct EncodeArgs {
    std::string folder;
    std::vector<std::string> texts;
  };
  auto encode = std::make_shared<EncodeArgs>();
  CLI::App* e = cmd->add_subcommand("encode", "Print the token ids and pieces of texts (one per argument).");
  e->add_option("folder", encode->folder, "folder with vocab.json + merges.txt or tokenizer.json")->required();
  e->add_option("texts", encode->texts, "texts to tokenize")->required();
  e->callback([&action, encode] {
    action = [encode] {
      const auto tokenizer = roberta::BpeTokenizer::from_folder(encode->folder);
      for (const auto& text : encode->texts) {
        std::cout << fmt::format("{}\n  ids:    {}\n  pieces: {}\n", text, fmt::join(tokenizer.encode(text), " "),
                                 fmt::join(tokenizer.tokenize(text), " "));
      }
      return 0;
    };
  });
}

}  // namespace sentbench::cli
