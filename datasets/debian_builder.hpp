// The quickstart's default data, built from Debian's package lists: training pairs (short description ↔
// first paragraph of the long description), a held-out BEIR retrieval set, a Section clustering set and,
// through a callback, a BPE vocabulary. The committed snapshot under datasets/data/debian is this
// builder's output; its manifest records the lists it came from so `--check` can tell when it is stale.
//
// Inputs are apt's lists (plain, .gz or .lz4, recognised by content): `*_main_binary-<arch>_Packages`
// (Package, Source, Section, Description-md5) and `*_main_i18n_Translation-en` (Description-en: the short
// line, then the long description). They are joined on (Package, Description-md5).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sentbench::debian {

// Bumped whenever the same lists would produce different outputs, so old snapshots read as stale.
// 2: corpus.txt.gz (the masked-LM corpus) added.
// 3: pairs' positives are whole long descriptions by default (were first paragraphs).
// 4: classification/{train,test}.jsonl added (Section classification on held-out descriptions).
inline constexpr int kBuilderVersion = 4;

// One distinct description (one Description-md5) and the binary packages that carry it.
struct Description {
  std::string md5;                      // Description-md5, or a hash of the text for unsplit lists
  std::string short_text;               // the synopsis line
  std::vector<std::string> paragraphs;  // long description; a paragraph's lines joined by single spaces
  std::string section;                  // the packages' most common Section, archive area ("contrib/") dropped
  std::vector<std::string> packages;    // sorted, distinct
  std::vector<std::string> sources;     // sorted, distinct (Source field, else the package name)
};

// What reading the lists found, for the log and the manifest.
struct ReadStats {
  std::uint64_t package_stanzas = 0;
  std::uint64_t translation_stanzas = 0;
  std::uint64_t untranslated = 0;           // Packages entries with no Translation-en entry: skipped
  std::uint64_t without_long_description = 0;  // descriptions with a synopsis only: skipped
  std::uint64_t descriptions = 0;           // distinct usable descriptions
};

// apt's lists in one folder: the main component only, one file per list (the first name in sorted order
// when a list exists in several compressions).
struct ListFiles {
  std::vector<std::filesystem::path> packages;
  std::vector<std::filesystem::path> translations;
};
ListFiles find_lists(const std::filesystem::path& dir);

// A list name without its compression suffix ("..._Packages.lz4" -> "..._Packages"): what the manifest
// compares, so a list re-fetched in another compression is still the same list.
std::string list_name(const std::filesystem::path& file);

// A whole list file, decompressed: LZ4 frames and gzip are recognised by their magic bytes, anything else
// is read as plain text. IoError for unreadable, truncated or corrupt files and for xz (not supported).
std::string read_list(const std::filesystem::path& file);

// The long description's paragraphs from a field's continuation lines (each starting with one space;
// " ." separates paragraphs). Lines are trimmed and joined with single spaces.
std::vector<std::string> parse_long_description(std::string_view continuation);

// Joins the lists into distinct descriptions, sorted by md5. A Packages entry whose Description field
// carries the long text itself (lists not split by apt) needs no translation. DataError when there are no
// Translation-en lists and the Packages entries have no long descriptions (the message says how to fetch
// them), or when nothing usable is found.
std::vector<Description> read_descriptions(const std::vector<std::filesystem::path>& packages,
                                           const std::vector<std::filesystem::path>& translations,
                                           ReadStats& stats);

// Which side of the train / held-out split each description is on. Descriptions are grouped (union-find)
// when they share a source package, a synopsis or a first paragraph, so no text the model trains on
// appears on the held-out side; groups are ranked by a seeded hash of their smallest source name and taken
// for the held-out side in that order, skipping groups larger than max_group (big families such as Qt's
// 700 descriptions would dominate the retrieval corpus), until held_out_target descriptions are held out.
struct Split {
  std::vector<std::size_t> group;  // per description
  std::vector<bool> held_out;      // per description
  std::size_t groups = 0;
  std::size_t held_out_groups = 0;
  std::size_t held_out_descriptions = 0;
};
Split split_descriptions(const std::vector<Description>& descriptions, std::uint64_t seed,
                         std::size_t held_out_target, std::size_t max_group);

// Writes a tokenizer (vocab.json + merges.txt) into `dir` from the training texts; the CLI passes the
// roberta plugin's BPE trainer, which this library must not depend on.
using VocabularyWriter = std::function<void(const std::vector<std::string>& texts, const std::filesystem::path& dir)>;

// Everything build_debian_data reads; the defaults produce the committed snapshot.
struct BuildOptions {
  std::filesystem::path lists_dir = "/var/lib/apt/lists";
  ListFiles lists;  // when empty, find_lists(lists_dir)
  std::filesystem::path out_dir = "datasets/data/debian";
  std::uint64_t seed = 13;
  std::size_t max_pairs = 60000;
  std::size_t held_out_target = 10000;  // descriptions held out (retrieval and clustering draw from them)
  std::size_t max_held_out_group = 50;
  std::size_t queries = 500;
  std::size_t corpus = 5000;
  std::size_t clustering_sections = 12;
  std::size_t clustering_per_section = 150;
  // Section classification (the clustering's sections): train and test texts per section, held-out
  // descriptions the clustering set did not take, train and test disjoint by source family.
  std::size_t classification_train_per_section = 16;
  std::size_t classification_test_per_section = 40;
  std::size_t max_text_chars = 2000;  // longer texts are cut at a word boundary (models truncate anyway)
  // The positive of a training pair: the long description's first paragraph, or the whole of it (as the
  // retrieval documents are).
  bool whole_description_positives = true;
  std::size_t vocab_size = 8000;      // recorded in the manifest; the writer decides how to use it
  VocabularyWriter write_vocabulary;  // optional: no tokenizer/ when unset
};

// Figures of one build, also written to manifest.json.
struct BuildStats {
  ReadStats read;
  std::size_t groups = 0;
  std::size_t held_out_groups = 0;
  std::size_t held_out_descriptions = 0;
  std::size_t train_descriptions = 0;
  std::size_t pairs = 0;
  std::size_t pairs_uninformative = 0;  // first paragraph too short or equal to the synopsis
  std::size_t pairs_duplicate = 0;      // same (synopsis, first paragraph) as a pair already kept
  std::size_t pairs_capped = 0;         // left out by max_pairs
  std::size_t corpus_texts = 0;         // lines of corpus.txt.gz (training descriptions' long texts)
  std::size_t corpus_duplicates = 0;    // long texts equal to one already in corpus.txt.gz
  std::size_t queries = 0;
  std::size_t corpus = 0;
  std::vector<std::string> clustering_sections;
  std::size_t clustering_per_section = 0;
  std::size_t clustering_from_training = 0;  // texts taken from the training side (too few held out)
  std::size_t classification_train = 0;
  std::size_t classification_test = 0;
};

// Builds every output into options.out_dir atomically (the folder is replaced as a whole):
// pairs.jsonl.gz, corpus.txt.gz (the masked-LM corpus: each training description's whole long
// description, paragraphs joined by a space, one a line, in the seeded order, each distinct text once;
// nothing of the held-out side), retrieval/{corpus,queries}.jsonl + retrieval/qrels/test.tsv,
// clustering.jsonl, classification/{train,test}.jsonl, tokenizer/ (when a writer is given) and manifest.json. Same lists and options →
// identical bytes.
BuildStats build_debian_data(const BuildOptions& options);

// Whether a snapshot still matches the lists in lists_dir.
struct SnapshotCheck {
  enum class State { kFresh, kStale, kUnknown };  // unknown: no lists here to compare with
  State state = State::kUnknown;
  std::vector<std::string> reasons;  // one line per difference (changed, new or missing list, builder version)
  std::string lists_date;            // the newest package list the snapshot was built from (UTC, from its manifest)
};

// Compares the lists' content hashes with snapshot/manifest.json. IoError when the manifest is missing or
// unreadable; DataError when a snapshot file no longer matches the hash its manifest records (edited or
// damaged: rebuild it).
SnapshotCheck check_snapshot(const std::filesystem::path& snapshot, const std::filesystem::path& lists_dir);

}  // namespace sentbench::debian
