// `sentbench data debian`: builds the quickstart's default data from Debian's package lists, or, with
// --check, says whether the committed snapshot still matches the lists on this machine.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "bpe_trainer.hpp"
#include "commands.hpp"
#include "debian_builder.hpp"
#include "sentbench/log.hpp"

namespace sentbench::cli {

void add_data_command(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("data", "Build the default datasets.");
  cmd->require_subcommand(1);

  struct DebianArgs {
    std::string lists = "/var/lib/apt/lists";
    std::string out = "datasets/data/debian";
    bool check = false;
    std::uint64_t seed = 13;
    std::size_t vocab_size = 8000;
    std::size_t max_pairs = 60000;
  };
  auto args = std::make_shared<DebianArgs>();
  CLI::App* d = cmd->add_subcommand(
      "debian", "Training pairs, a masked-LM text corpus, a BEIR retrieval set, a clustering set and a BPE "
                "vocabulary from apt's package lists (Packages + Translation-en), written atomically to --out with a "
                "manifest.");
  d->add_option("--lists", args->lists, "folder with apt's lists")->capture_default_str();
  d->add_option("--out", args->out, "output folder (replaced as a whole); with --check, the snapshot to check")
      ->capture_default_str();
  d->add_flag("--check", args->check,
              "only compare the lists with the snapshot's manifest and say whether it is stale (exit 0 either way)");
  d->add_option("--seed", args->seed, "seed of the split and of every sample")->capture_default_str();
  d->add_option("--max-pairs", args->max_pairs, "training pairs kept at most (a prefix of the seeded order)")
      ->capture_default_str();
  d->add_option("--vocab-size", args->vocab_size, "BPE vocabulary size: 5 specials + 256 bytes + merges")
      ->capture_default_str()->check(CLI::Range(262, 1 << 20));
  d->callback([&action, args] {
    action = [args] {
      if (args->check) {
        // Staleness is reported, never fatal: an older snapshot still makes a valid, comparable run.
        const auto check = debian::check_snapshot(args->out, args->lists);
        switch (check.state) {
          case debian::SnapshotCheck::State::kFresh:
            std::cout << fmt::format("fresh: {} matches the package lists in {}\n", args->out, args->lists);
            break;
          case debian::SnapshotCheck::State::kStale:
            std::cout << fmt::format("stale: {}\n", fmt::join(check.reasons, "; "));
            log::warn("the Debian data snapshot in {} was built from other package lists; the run uses it as is. "
                      "Rebuild it with `sentbench data debian --out {}` (then commit it) to use these lists.",
                      args->out, args->out);
            break;
          case debian::SnapshotCheck::State::kUnknown:
            std::cout << fmt::format("unknown: {}\n", fmt::join(check.reasons, "; "));
            break;
        }
        return 0;
      }
      debian::BuildOptions options;
      options.lists_dir = args->lists;
      options.out_dir = args->out;
      options.seed = args->seed;
      options.vocab_size = args->vocab_size;
      options.max_pairs = args->max_pairs;
      options.write_vocabulary = [vocab_size = args->vocab_size](const std::vector<std::string>& texts,
                                                                 const std::filesystem::path& dir) {
        roberta::BpeTrainerOptions bpe;
        bpe.vocab_size = vocab_size;
        bpe.min_frequency = 2;
        bpe.output_dir = dir;
        const auto result = roberta::train_bpe_from_texts(texts, bpe);
        log::info("debian: BPE vocabulary of {} tokens ({} merges) in {:.1f}s", result.tokenizer.vocab_size(),
                  result.merges, result.count_seconds + result.merge_seconds);
      };
      const auto stats = debian::build_debian_data(options);
      std::cout << fmt::format(
          "{}: {} descriptions ({} held out in {} groups); {} training pairs; {} corpus texts; retrieval {} queries "
          "/ {} documents; clustering {} sections x {}\n",
          args->out, stats.read.descriptions, stats.held_out_descriptions, stats.held_out_groups, stats.pairs,
          stats.corpus_texts, stats.queries, stats.corpus, stats.clustering_sections.size(),
          stats.clustering_per_section);
      return 0;
    };
  });
}

}  // namespace sentbench::cli
