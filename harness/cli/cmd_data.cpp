// `sentbench data debian`: builds the quickstart's default data from Debian's package lists, or, with
// --check, says whether the committed snapshot still matches the lists on this machine.
// `sentbench data mine-negatives`: turns a pairs file into (anchor, positive, hard negative) triplets.
#include <charconv>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <torch/torch.h>

#include "sentbench/bpe_trainer.hpp"
#include "commands.hpp"
#include "debian_builder.hpp"
#include "mining.hpp"
#include "model_options.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"
#include "sentbench/progress.hpp"
#include "system_info.hpp"

namespace sentbench::cli {
namespace {

constexpr const char* kModelPrefix = "model:";

// A whole number (digits only), read into `value`.
bool parse_count(std::string_view digits, std::size_t& value) {
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
}

// "LO-HI" with 1 <= LO <= HI; false for anything else.
bool parse_ranks(std::string_view text, std::size_t& lo, std::size_t& hi) {
  const std::size_t dash = text.find('-');
  return dash != std::string_view::npos && parse_count(text.substr(0, dash), lo) &&
         parse_count(text.substr(dash + 1), hi) && lo >= 1 && lo <= hi;
}

void add_mine_negatives_command(CLI::App& data, Action& action) {
  struct Args {
    std::string pairs;
    std::string out;
    std::string retriever = "bm25";
    std::string ranks = "10-100";
    std::size_t per_pair = 1;
    std::string sampling = "random";
    double margin = 0.95;
    std::uint64_t seed = 13;
    int threads = 0;
    std::int64_t max_seq_length = 0;
    std::string dtype = "fp32";
  };
  auto args = std::make_shared<Args>();
  CLI::App* mine = data.add_subcommand(
      "mine-negatives",
      "Hard negatives for a pairs file: for each (anchor, positive) pair, texts of the positives' side of the corpus "
      "that the retriever ranks near the anchor, less likely false negatives; written as (anchor, positive, "
      "negative) triplets.");
  mine->footer(
      "Candidates are the distinct positive texts of --pairs. Of the anchor's ranked list (BM25, or cosine of a\n"
      "model's embeddings), the candidates ranked inside --ranks are considered; dropped as likely false negatives\n"
      "(each counted under the first that applies):\n"
      "  the pair's positive; a positive of another pair whose anchor is the same text (the analyser's words:\n"
      "  case, punctuation and spacing ignored); a text that normalises to one of those positives or to the\n"
      "  anchor; a candidate scoring above the positive: BM25 >= the positive's own BM25 score, or with a model\n"
      "  cosine > margin x the positive's cosine (NV-Retriever's relative margin).\n"
      "Of the survivors, --per-pair are picked (--sampling random: uniformly, seeded per pair by --seed; top: the\n"
      "best ranked) and each is written as one line [\"anchor\",\"positive\",\"negative\"] (gzip when --out ends\n"
      "in .gz; temporary file, then rename). Pairs with no survivor are left out, since a training file holds\n"
      "one arity; the summary counts them and what each filter dropped.\n"
      "Ranks skip the very top by default (10-100): rank 1 is usually the positive or a paraphrase of it.\n"
      "Use the output as a contrastive recipe's `data = \"mined.jsonl.gz\"` (triplets: hard negatives join the\n"
      "in-batch candidates).\n"
      "Example: sentbench data mine-negatives --pairs pairs.jsonl.gz --out mined.jsonl.gz --ranks 10-100");
  mine->add_option("--pairs", args->pairs,
                "pairs file (.jsonl or .jsonl.gz; [a, p], [a, p, n] (its first two texts), {\"texts\"} or "
                "{\"query\", \"pos\"})")
      ->required()->check(CLI::ExistingFile)->type_name("FILE");
  mine->add_option("--out", args->out, "triplets file to write (.jsonl.gz: gzip)")->required()->type_name("FILE");
  mine->add_option("--retriever", args->retriever,
                "bm25 (k1 0.9, b 0.4), or model:DIR: cosine of DIR's embeddings (a model folder, loaded as "
                "`sentbench encode --model DIR` loads it)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "bm25" || (value.rfind(kModelPrefix, 0) == 0 && value.size() > std::strlen(kModelPrefix)))
              return {};
            return "expected bm25 or model:DIR, got '" + value + "'";
          },
          "bm25|model:DIR"));
  mine->add_option("--ranks", args->ranks,
                "LO-HI: 1-based ranks of the anchor's retrieved list (positive included) to take negatives from")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            std::size_t lo = 0, hi = 0;
            if (parse_ranks(value, lo, hi)) return {};
            return "expected LO-HI with 1 <= LO <= HI (e.g. 10-100), got '" + value + "'";
          },
          "LO-HI"));
  mine->add_option("--per-pair", args->per_pair, "negatives per pair at most (one triplet each)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            std::size_t k = 0;
            if (parse_count(value, k) && k >= 1) return {};
            return "must be a whole number >= 1, got '" + value + "'";
          },
          "K"));
  mine->add_option("--sampling", args->sampling, "random (seeded) or top: how survivors are picked")
      ->capture_default_str()->check(CLI::IsMember({"random", "top"}));
  CLI::Option* margin =
      mine->add_option("--margin", args->margin,
                    "model retriever only: drop candidates whose cosine > margin x the positive's")
          ->capture_default_str()
          ->check(CLI::Validator(
              [](std::string& value) -> std::string {
                double x = 0;
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
                if (ec == std::errc() && end == value.data() + value.size() && x > 0) return {};
                return "must be a number > 0, got '" + value + "'";
              },
              "M"));
  mine->add_option("--seed", args->seed, "seed of the random picks")->capture_default_str();
  mine->add_option("--threads", args->threads, "cores to use, as [run].threads; 0 = all")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  mine->add_option("--max-seq-length", args->max_seq_length, "model retriever: tokens per text (default: the folder's)")
      ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 30))->type_name("N");
  mine->add_option("--dtype", args->dtype, "model retriever: fp32, or bf16 autocast")
      ->check(CLI::IsMember({"fp32", "bf16"}))->capture_default_str();
  mine->callback([&action, args, margin] {
    const bool model = args->retriever != "bm25";
    if (!model && margin->count() > 0)
      throw CLI::ValidationError("--margin", "applies to --retriever model:DIR only (BM25 drops candidates scoring "
                                             ">= the positive)");
    action = [args, model] {
      MiningOptions options;
      parse_ranks(args->ranks, options.rank_min, options.rank_max);
      options.per_pair = args->per_pair;
      options.sampling = args->sampling == "top" ? NegativeSampling::kTop : NegativeSampling::kRandom;
      options.seed = args->seed;
      namespace fs = std::filesystem;
      if (fs::weakly_canonical(args->out) == fs::weakly_canonical(args->pairs))
        throw ConfigError(fmt::format("--out {} is the --pairs file; write the triplets to another file", args->out));
      const int threads = apply_threads(args->threads);

      ModelOptions model_options;
      if (model) {
        model_options.model = args->retriever.substr(std::strlen(kModelPrefix));
        model_options.max_seq_length = args->max_seq_length;
        model_options.dtype = args->dtype;
        // Checked before the pairs are read, which takes a while on a large file.
        if (!fs::is_directory(model_options.model))
          throw ConfigError(fmt::format("--retriever {}: {} is not a folder; give a model folder (config.json, "
                                        "model.safetensors, vocab.json + merges.txt), as for `sentbench encode --model`",
                                        args->retriever, model_options.model));
      }
      const MiningCorpus corpus = read_mining_pairs(args->pairs);
      log::info("mine-negatives: {} pairs, {} distinct anchors, {} distinct positives (the candidates); {} core{}",
                corpus.pairs.size(), corpus.anchors.size(), corpus.candidates.size(), threads, threads == 1 ? "" : "s");
      std::unique_ptr<NegativeRetriever> retriever;
      if (model) {
        const LoadedRecipe loaded = check_options_recipe(encoder_toml(model_options), "data mine-negatives");
        const std::shared_ptr<Encoder> encoder = create_encoder(loaded);
        EncodeOptions encode;
        encode.show_progress = true;
        encode.label = "encode anchors";
        const at::Tensor anchors = encoder->encode(corpus.anchors, encode).to(torch::kFloat32).contiguous();
        encode.label = "encode candidates";
        const at::Tensor candidates = encoder->encode(corpus.candidates, encode).to(torch::kFloat32).contiguous();
        retriever = make_embedding_retriever(corpus, anchors, candidates, args->margin);
      } else {
        retriever = make_bm25_retriever(corpus);
      }

      Progress progress("mine-negatives", static_cast<std::int64_t>(corpus.pairs.size()), "pairs");
      const MiningResult result = mine_negatives(corpus, *retriever, options, &progress);
      progress.finish();
      write_triplets(args->out, result.triplets);

      const MiningStats& s = result.stats;
      const auto row = [](const std::string& what, std::size_t count) { return fmt::format("  {:<38}{:>10}\n", what, count); };
      std::cout << fmt::format("{} pairs ({} distinct anchors, {} candidates); retriever {}, ranks {}-{}\n", s.pairs,
                               s.anchors, s.candidates, args->retriever, options.rank_min, options.rank_max)
                << row("candidates in the rank range", s.in_range)
                << "dropped as likely false negatives (each under the first filter that applies):\n"
                << row("the pair's positive", s.dropped_positive)
                << row("another positive of the same anchor", s.dropped_other_positive)
                << row("same normalised text as a positive", s.dropped_positive_duplicate)
                << row("same normalised text as the anchor", s.dropped_anchor_duplicate)
                << row("scoring above the positive", s.dropped_above_positive)
                << fmt::format("    ({})\n", retriever->rule()) << row("survivors", s.survived)
                << fmt::format("pairs with 0 negatives: {} (left out of the output: a training file holds one arity, "
                               "and these would be pairs)\n"
                               "triplets written: {} to {} (at most {} per pair, {} among the survivors, seed {})\n",
                               s.pairs_without_negative, s.triplets, args->out, options.per_pair, args->sampling,
                               options.seed);
      return 0;
    };
  });
}

}  // namespace

void add_data_command(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("data", "Build the default datasets; mine hard negatives for a pairs file.");
  cmd->require_subcommand(1);

  struct DebianArgs {
    std::string lists = "/var/lib/apt/lists";
    std::string out = "datasets/data/debian";
    bool check = false;
    bool info = false;
    std::uint64_t seed = 13;
    std::size_t vocab_size = 8000;
    std::size_t max_pairs = 60000;
    std::string positives = "description";
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
              "maintainers: only compare this machine's apt lists with the snapshot's manifest and say whether it "
              "is stale (exit 0 either way; `make check-data`)");
  d->add_flag("--info", args->info,
              "only check the snapshot's files against their hashes and print one line: which package lists it "
              "was built from (what `make quickstart` shows)");
  d->add_option("--seed", args->seed, "seed of the split and of every sample")->capture_default_str();
  d->add_option("--positives", args->positives,
                 "a training pair's positive: the long description's first paragraph, or the whole description "
                 "(as the retrieval documents are)")
      ->capture_default_str()->check(CLI::IsMember({"first-paragraph", "description"}));
  d->add_option("--max-pairs", args->max_pairs, "training pairs kept at most (a prefix of the seeded order)")
      ->capture_default_str();
  d->add_option("--vocab-size", args->vocab_size, "BPE vocabulary size: 5 specials + 256 bytes + merges")
      ->capture_default_str()->check(CLI::Range(262, 1 << 20));
  d->callback([&action, args] {
    action = [args] {
      if (args->info) {
        // A user's view: the snapshot is what the run uses, whatever apt's lists say today.
        const auto check = debian::check_snapshot(args->out, args->lists);
        std::cout << fmt::format("Debian data snapshot {}: package lists of {}\n", args->out,
                                 check.lists_date.empty() ? std::string("unknown date") : check.lists_date.substr(0, 10));
        return 0;
      }
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
      options.whole_description_positives = args->positives == "description";
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
          "/ {} documents; clustering {} sections x {}; classification {} train / {} test\n",
          args->out, stats.read.descriptions, stats.held_out_descriptions, stats.held_out_groups, stats.pairs,
          stats.corpus_texts, stats.queries, stats.corpus, stats.clustering_sections.size(),
          stats.clustering_per_section, stats.classification_train, stats.classification_test);
      return 0;
    };
  });
  add_mine_negatives_command(*cmd, action);
}

}  // namespace sentbench::cli
