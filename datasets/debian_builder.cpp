// Debian package lists → the quickstart's training pairs, retrieval and clustering sets. Every choice
// (split, sampling, order) comes from seeded content hashes, never from a random generator or container
// order, so the same lists give byte-identical outputs and a grown list moves few items across the split.
#include "debian_builder.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <numeric>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <lz4frame.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace sentbench::debian {
namespace {

// Sections that say what role a package plays (library, documentation, transitional...) rather than what
// it is about: their descriptions talk about the software they belong to, so as clustering labels they
// would contradict the subject sections.
const std::set<std::string> kRoleSections = {"libs",         "oldlibs", "libdevel", "doc",           "debug",
                                             "metapackages", "misc",    "tasks",    "localization", "introspection"};

constexpr std::string_view kTranslationHint =
    "apt keeps Debian's long package descriptions in *_i18n_Translation-en lists; fetch them with "
    "`apt-get update -o Acquire::Languages=en`";

// Small text helpers: list names, deb822 field names (case-insensitive) and whitespace.
bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::size_t word_count(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// Cuts at a word boundary (or, for a giant word, at a UTF-8 character boundary) so no text ends mid-word.
std::string cut_text(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t cut = text.find_last_of(" \n", limit);
  if (cut == std::string_view::npos || cut < limit / 2) {
    cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  return std::string(trim(text.substr(0, cut)));
}

// Orders items by a seeded hash of a stable key: the split and every sample are prefixes of such orders.
std::string rank(std::uint64_t seed, std::string_view kind, std::string_view key) {
  return hash_bytes(fmt::format("{}\x1f{}\x1f{}", seed, kind, key));
}

// Whole-file decoders for the compressions apt uses; a truncated stream is an error, never a short list.
std::string gunzip(const std::string& raw, const fs::path& file) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw IoError(fmt::format("{}: cannot start gzip decoding", file.string()));
  std::string out;
  std::vector<char> buffer(1 << 20);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  int code = Z_OK;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buffer.data());
    z.avail_out = static_cast<uInt>(buffer.size());
    code = inflate(&z, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - z.avail_out);
    if (code == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // concatenated gzip members, as `cat a.gz b.gz` makes
      continue;
    }
    if (code != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) break;
  }
  inflateEnd(&z);
  if (code != Z_STREAM_END)
    throw IoError(fmt::format("{}: corrupt or truncated gzip data ({}); re-fetch the lists with `apt-get update`",
                              file.string(), z.msg ? z.msg : "unexpected end of input"));
  return out;
}

std::string unlz4(const std::string& raw, const fs::path& file) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    throw IoError(fmt::format("{}: cannot start lz4 decoding", file.string()));
  std::string out;
  std::vector<char> buffer(1 << 20);
  std::size_t pos = 0;
  std::size_t hint = 1;  // 0 once a frame is complete
  std::string error;
  while (pos < raw.size()) {
    std::size_t src = raw.size() - pos;
    std::size_t dst = buffer.size();
    hint = LZ4F_decompress(ctx, buffer.data(), &dst, raw.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) {
      error = LZ4F_getErrorName(hint);
      break;
    }
    out.append(buffer.data(), dst);
    pos += src;
    if (src == 0 && dst == 0) break;  // no progress: malformed input
  }
  // Output still buffered inside the context after the input ran out.
  while (error.empty() && hint != 0) {
    std::size_t src = 0;
    std::size_t dst = buffer.size();
    hint = LZ4F_decompress(ctx, buffer.data(), &dst, nullptr, &src, nullptr);
    if (LZ4F_isError(hint)) error = LZ4F_getErrorName(hint);
    out.append(buffer.data(), dst);
    if (dst == 0) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (!error.empty())
    throw IoError(fmt::format("{}: corrupt lz4 data ({}); re-fetch the lists with `apt-get update`", file.string(), error));
  if (hint != 0)
    throw IoError(fmt::format("{}: truncated lz4 data; re-fetch the lists with `apt-get update`", file.string()));
  return out;
}

// One deb822 stanza's fields as views into the list text (multi-line values keep their newlines).
struct Stanza {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  std::string_view get(std::string_view name) const {
    for (const auto& [key, value] : fields)
      if (iequals(key, name)) return value;
    return {};
  }
};

template <typename Fn>
void for_each_stanza(std::string_view text, const fs::path& file, Fn&& fn) {
  Stanza stanza;
  std::size_t line_number = 0;
  const char* value_begin = nullptr;
  const auto close_value = [&](const char* end) {
    if (value_begin) stanza.fields.back().second = std::string_view(value_begin, static_cast<std::size_t>(end - value_begin));
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    const std::string_view line = text.substr(pos, newline - pos);
    ++line_number;
    if (trim(line).empty()) {
      if (!stanza.fields.empty()) fn(stanza);
      stanza.fields.clear();
      value_begin = nullptr;
    } else if (line[0] == ' ' || line[0] == '\t') {
      if (!value_begin)
        throw DataError(fmt::format("{}:{}: continuation line outside a field", file.string(), line_number));
      close_value(line.data() + line.size());
    } else if (line[0] != '#') {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        throw DataError(fmt::format("{}:{}: expected \"Field: value\", found \"{}\"", file.string(), line_number,
                                    line.substr(0, 60)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      stanza.fields.emplace_back(line.substr(0, colon), value);
      value_begin = value.data();
      close_value(line.data() + line.size());
    }
    if (newline == text.size()) break;
    pos = newline + 1;
  }
  if (!stanza.fields.empty()) fn(stanza);
}

// "name (version)" -> "name", as the Source field writes a source whose version differs.
std::string first_token(std::string_view text) {
  text = trim(text);
  const std::size_t space = text.find_first_of(" \t");
  return std::string(space == std::string_view::npos ? text : text.substr(0, space));
}

// mtimes in the manifest, readable and independent of the builder's time zone.
std::string utc_time(std::time_t seconds) {
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

// Union-find over description indices; the smaller index becomes the root so grouping is order-free.
struct Groups {
  std::vector<std::size_t> parent;
  explicit Groups(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), std::size_t{0}); }
  std::size_t find(std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

// JSONL lines; invalid UTF-8 in a list becomes U+FFFD rather than an exception halfway through a build.
std::string dump_line(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"; }

// A document or clustering text: the whole long description, paragraphs on their own lines.
std::string long_text(const Description& d, std::size_t limit) {
  std::string text;
  for (const auto& paragraph : d.paragraphs) {
    if (!text.empty()) text += '\n';
    text += paragraph;
    if (text.size() > limit) break;
  }
  return cut_text(text, limit);
}

// The manifest's record of the inputs: the file hash answers --check cheaply, the content hash still
// matches after apt re-fetches a list in another compression.
Json describe_lists(const ListFiles& lists) {
  Json out = Json::array();
  const auto add = [&](const fs::path& file, const char* kind) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw IoError(fmt::format("cannot stat {}: {}", file.string(), std::strerror(errno)));
    out.push_back(Json{{"name", list_name(file)},
                       {"kind", kind},
                       {"file", file.string()},
                       {"bytes", static_cast<std::uint64_t>(st.st_size)},
                       {"mtime", utc_time(st.st_mtime)},
                       {"file_hash", hash_file(file)},
                       {"content_hash", hash_bytes(read_list(file))}});
  };
  for (const auto& file : lists.packages) add(file, "Packages");
  for (const auto& file : lists.translations) add(file, "Translation-en");
  return out;
}

}  // namespace

std::string list_name(const fs::path& file) {
  std::string name = file.filename().string();
  for (const char* suffix : {".lz4", ".gz", ".xz", ".bz2", ".zst"}) {
    if (ends_with(name, suffix)) {
      name.erase(name.size() - std::strlen(suffix));
      break;
    }
  }
  return name;
}

ListFiles find_lists(const fs::path& dir) {
  ListFiles lists;
  if (!fs::is_directory(dir)) return lists;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::set<std::string> seen;
  for (const auto& file : files) {
    const std::string name = list_name(file);
    if (!seen.insert(name).second) continue;
    if (name.find("_main_binary-") != std::string::npos && ends_with(name, "_Packages"))
      lists.packages.push_back(file);
    else if (ends_with(name, "_main_i18n_Translation-en"))
      lists.translations.push_back(file);
  }
  return lists;
}

std::string read_list(const fs::path& file) {
  std::string raw = read_file(file);
  const auto starts = [&](std::string_view magic) { return raw.compare(0, magic.size(), magic) == 0; };
  if (starts("\x04\x22\x4d\x18")) return unlz4(raw, file);
  if (starts("\x1f\x8b")) return gunzip(raw, file);
  if (starts(std::string_view("\xfd" "7zXZ\0", 6)))
    throw IoError(fmt::format("{}: xz-compressed lists are not supported; decompress it (unxz) or let apt store "
                              "lz4 or gzip lists",
                              file.string()));
  return raw;
}

std::vector<std::string> parse_long_description(std::string_view continuation) {
  std::vector<std::string> paragraphs;
  std::string current;
  std::size_t pos = 0;
  while (pos <= continuation.size()) {
    std::size_t newline = continuation.find('\n', pos);
    if (newline == std::string_view::npos) newline = continuation.size();
    const std::string_view line = trim(continuation.substr(pos, newline - pos));
    if (line == ".") {
      if (!current.empty()) paragraphs.push_back(std::move(current));
      current.clear();
    } else if (!line.empty()) {
      if (!current.empty()) current += ' ';
      current += line;
    }
    if (newline == continuation.size()) break;
    pos = newline + 1;
  }
  if (!current.empty()) paragraphs.push_back(std::move(current));
  return paragraphs;
}

std::vector<Description> read_descriptions(const std::vector<fs::path>& packages,
                                           const std::vector<fs::path>& translations, ReadStats& stats) {
  if (packages.empty())
    throw DataError("no Packages lists (*_main_binary-<arch>_Packages) found; run `apt-get update` (and pass "
                    "--lists if apt keeps them elsewhere than /var/lib/apt/lists)");

  // (Package, Description-md5) -> Description-en; the first list that has an entry wins.
  std::unordered_map<std::string, std::string> translated;
  for (const auto& file : translations) {
    const std::string text = read_list(file);
    for_each_stanza(text, file, [&](const Stanza& s) {
      ++stats.translation_stanzas;
      const std::string_view description = s.get("Description-en");
      if (description.empty()) return;
      translated.emplace(fmt::format("{}\n{}", trim(s.get("Package")), trim(s.get("Description-md5"))),
                         std::string(description));
    });
  }

  struct Building {
    Description d;
    std::map<std::string, std::size_t> sections;
    std::set<std::string> packages, sources;
  };
  std::unordered_map<std::string, std::size_t> by_md5;
  std::vector<Building> building;
  std::uint64_t inline_long = 0;
  for (const auto& file : packages) {
    const std::string text = read_list(file);
    for_each_stanza(text, file, [&](const Stanza& s) {
      const std::string package(trim(s.get("Package")));
      if (package.empty()) return;
      ++stats.package_stanzas;
      std::string md5(trim(s.get("Description-md5")));
      std::string_view description = s.get("Description");
      std::string from_translation;
      if (description.find('\n') != std::string_view::npos) {
        ++inline_long;  // a list apt did not split: the long text is right here
        if (md5.empty()) md5 = "xxh3:" + hash_bytes(description);
      } else {
        const auto found = translated.find(package + "\n" + md5);
        if (found == translated.end()) {
          ++stats.untranslated;
          return;
        }
        description = found->second;
      }
      const std::size_t newline = description.find('\n');
      const std::string short_text(trim(description.substr(0, newline)));
      auto paragraphs = newline == std::string_view::npos ? std::vector<std::string>{}
                                                          : parse_long_description(description.substr(newline + 1));
      if (short_text.empty() || paragraphs.empty()) {
        ++stats.without_long_description;
        return;
      }
      const auto [it, inserted] = by_md5.emplace(md5, building.size());
      if (inserted) {
        building.emplace_back();
        building.back().d.md5 = md5;
        building.back().d.short_text = short_text;
        building.back().d.paragraphs = std::move(paragraphs);
      }
      Building& b = building[it->second];
      std::string section(trim(s.get("Section")));
      if (const auto slash = section.rfind('/'); slash != std::string::npos) section.erase(0, slash + 1);
      if (b.packages.insert(package).second) ++b.sections[section.empty() ? "unknown" : section];
      const std::string source = first_token(s.get("Source"));
      b.sources.insert(source.empty() ? package : source);
    });
  }

  if (translations.empty() && inline_long == 0)
    throw DataError(fmt::format("no Translation-en lists next to the Packages lists ({}): {}",
                                packages.front().parent_path().string(), kTranslationHint));
  std::vector<Description> out;
  out.reserve(building.size());
  for (auto& b : building) {
    std::size_t best = 0;
    for (const auto& [section, count] : b.sections) {
      if (count > best) {  // ties keep the alphabetically first section (std::map order)
        best = count;
        b.d.section = section;
      }
    }
    b.d.packages.assign(b.packages.begin(), b.packages.end());
    b.d.sources.assign(b.sources.begin(), b.sources.end());
    out.push_back(std::move(b.d));
  }
  std::sort(out.begin(), out.end(), [](const Description& a, const Description& b) { return a.md5 < b.md5; });
  stats.descriptions = out.size();
  if (out.empty())
    throw DataError(fmt::format("none of the {} Packages entries has a long description ({} without a "
                                "Translation-en entry); {}",
                                stats.package_stanzas, stats.untranslated, kTranslationHint));
  return out;
}

Split split_descriptions(const std::vector<Description>& descriptions, std::uint64_t seed,
                         std::size_t held_out_target, std::size_t max_group) {
  const std::size_t n = descriptions.size();
  Groups groups(n);
  std::unordered_map<std::string, std::size_t> first_with;
  const auto join = [&](char kind, const std::string& key, std::size_t i) {
    const auto [it, inserted] = first_with.emplace(std::string(1, kind) + key, i);
    if (!inserted) groups.join(it->second, i);
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Description& d = descriptions[i];
    for (const auto& source : d.sources) join('s', source, i);
    join('t', d.short_text, i);
    join('p', d.paragraphs.front(), i);
  }

  Split split;
  split.group.resize(n);
  split.held_out.assign(n, false);
  std::unordered_map<std::size_t, std::size_t> index_of_root;
  std::vector<std::size_t> sizes;
  std::vector<std::string> keys;  // smallest source name: stable while the group's packages come and go
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, inserted] = index_of_root.emplace(groups.find(i), sizes.size());
    if (inserted) {
      sizes.push_back(0);
      keys.push_back(descriptions[i].sources.front());
    }
    split.group[i] = it->second;
    ++sizes[it->second];
    keys[it->second] = std::min(keys[it->second], descriptions[i].sources.front());
  }
  split.groups = sizes.size();

  std::vector<std::pair<std::string, std::size_t>> order;
  for (std::size_t g = 0; g < sizes.size(); ++g) order.emplace_back(rank(seed, "group", keys[g]), g);
  std::sort(order.begin(), order.end());
  std::vector<bool> held_group(sizes.size(), false);
  for (const auto& [r, g] : order) {
    if (split.held_out_descriptions >= held_out_target) break;
    if (sizes[g] > max_group) continue;
    held_group[g] = true;
    ++split.held_out_groups;
    split.held_out_descriptions += sizes[g];
  }
  for (std::size_t i = 0; i < n; ++i) split.held_out[i] = held_group[split.group[i]];
  return split;
}

BuildStats build_debian_data(const BuildOptions& options) {
  const ListFiles lists =
      options.lists.packages.empty() && options.lists.translations.empty() ? find_lists(options.lists_dir) : options.lists;
  BuildStats stats;
  log::info("debian: reading {} Packages and {} Translation-en lists", lists.packages.size(), lists.translations.size());
  const std::vector<Description> all = read_descriptions(lists.packages, lists.translations, stats.read);
  const Split split = split_descriptions(all, options.seed, options.held_out_target, options.max_held_out_group);
  stats.groups = split.groups;
  stats.held_out_groups = split.held_out_groups;
  stats.held_out_descriptions = split.held_out_descriptions;
  stats.train_descriptions = all.size() - split.held_out_descriptions;

  // Each side in its seeded order: every sample below is a prefix of it.
  std::vector<std::pair<std::string, std::size_t>> ranked;
  for (std::size_t i = 0; i < all.size(); ++i) ranked.emplace_back(rank(options.seed, "description", all[i].md5), i);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::size_t> train, held;
  for (const auto& [r, i] : ranked) (split.held_out[i] ? held : train).push_back(i);

  // Training pairs, in seeded order: the reader's shuffle buffer only mixes nearby lines, and sorted
  // input would hand it runs of near-identical perl or rust module descriptions.
  std::string pairs;
  std::vector<std::string> vocabulary_texts;
  std::unordered_set<std::string> pair_seen;
  for (std::size_t i : train) {
    const Description& d = all[i];
    const std::string anchor = cut_text(d.short_text, options.max_text_chars);
    const std::string positive = options.whole_description_positives
                                     ? long_text(d, options.max_text_chars)
                                     : cut_text(d.paragraphs.front(), options.max_text_chars);
    if (word_count(positive) < 3 || positive == anchor) {
      ++stats.pairs_uninformative;
      continue;
    }
    if (!pair_seen.insert(anchor + '\n' + positive).second) {
      ++stats.pairs_duplicate;
      continue;
    }
    if (stats.pairs >= options.max_pairs) {
      ++stats.pairs_capped;
      continue;
    }
    pairs += dump_line(Json::array({anchor, positive}));
    vocabulary_texts.push_back(anchor);
    vocabulary_texts.push_back(positive);
    ++stats.pairs;
  }

  // The masked-LM corpus: whole long descriptions, not cut (the model cuts what it cannot use), one a
  // line. Texts shared by several descriptions (one long text under different synopses) appear once, so
  // families of near-identical packages do not weigh more.
  std::string corpus_txt;
  std::unordered_set<std::string> corpus_seen;
  for (std::size_t i : train) {
    std::string text;
    for (const auto& paragraph : all[i].paragraphs) text += (text.empty() ? "" : " ") + paragraph;
    if (!corpus_seen.insert(text).second) {
      ++stats.corpus_duplicates;
      continue;
    }
    corpus_txt += text + '\n';
    ++stats.corpus_texts;
  }

  // Retrieval. Document ids are package names (with the md5 when one package has several descriptions);
  // queries get a "q:" prefix so no evaluator mistakes a query for its own document.
  std::unordered_map<std::string, std::size_t> descriptions_of_package;
  for (const auto& d : all)
    for (const auto& p : d.packages) ++descriptions_of_package[p];
  const auto doc_id = [&](const Description& d) {
    const std::string& p = d.packages.front();
    return descriptions_of_package[p] > 1 ? p + "@" + d.md5.substr(0, 8) : p;
  };
  std::unordered_map<std::string, std::size_t> held_short_count;
  for (std::size_t i : held) ++held_short_count[all[i].short_text];
  std::vector<std::size_t> queries;
  std::unordered_set<std::size_t> query_groups;
  for (std::size_t i : held) {
    if (queries.size() >= options.queries) break;
    const Description& d = all[i];
    // One query per group keeps the queries varied; a synopsis shared with another held-out description
    // would have two right answers but one judgement; one-word synopses say too little to retrieve by.
    if (query_groups.count(split.group[i]) || held_short_count[d.short_text] > 1 || word_count(d.short_text) < 2)
      continue;
    query_groups.insert(split.group[i]);
    queries.push_back(i);
  }
  // Corpus: the answers, their group siblings (the hardest distractors: same source, similar text), then
  // other held-out descriptions, up to options.corpus documents.
  std::vector<std::size_t> corpus_members(queries);
  std::unordered_set<std::size_t> in_corpus(queries.begin(), queries.end());
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i : held) {
      if (corpus_members.size() >= std::max(options.corpus, queries.size())) break;
      if (in_corpus.count(i) || (pass == 0 && !query_groups.count(split.group[i]))) continue;
      in_corpus.insert(i);
      corpus_members.push_back(i);
    }
  }
  // The corpus file has its own seeded order: in the held-out order the answers would come first.
  std::vector<std::pair<std::string, std::size_t>> corpus_order;
  for (std::size_t i : corpus_members) corpus_order.emplace_back(rank(options.seed, "corpus", all[i].md5), i);
  std::sort(corpus_order.begin(), corpus_order.end());
  std::string corpus_jsonl, queries_jsonl, qrels = "query-id\tcorpus-id\tscore\n";
  for (const auto& [r, i] : corpus_order)
    corpus_jsonl += dump_line(Json{{"_id", doc_id(all[i])}, {"title", ""}, {"text", long_text(all[i], options.max_text_chars)}});
  for (std::size_t i : queries) {
    const std::string id = doc_id(all[i]);
    queries_jsonl += dump_line(Json{{"_id", "q:" + id}, {"text", all[i].short_text}});
    qrels += fmt::format("q:{}\t{}\t1\n", id, id);
  }
  stats.queries = queries.size();
  stats.corpus = corpus_members.size();
  if (queries.empty()) log::warn("debian: no held-out description qualifies as a query; the retrieval set is empty");

  // Clustering: the largest subject sections over all descriptions, the same count from each. Held-out
  // descriptions, one per (group, section) so a family's near-identical texts do not form their own
  // cluster; then further held-out ones; training-side ones only as a last resort.
  std::map<std::string, std::size_t> section_sizes;
  for (const auto& d : all)
    if (!kRoleSections.count(d.section) && d.section != "unknown") ++section_sizes[d.section];
  std::vector<std::pair<std::size_t, std::string>> by_size;
  for (const auto& [section, count] : section_sizes) by_size.emplace_back(count, section);
  std::sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (by_size.size() > options.clustering_sections) by_size.resize(options.clustering_sections);
  std::map<std::string, std::vector<std::size_t>> chosen;
  for (const auto& [count, section] : by_size) {
    std::vector<std::size_t>& picked = chosen[section];
    std::set<std::size_t> groups_used, taken;
    for (int pass = 0; pass < 3; ++pass) {
      for (std::size_t i : pass < 2 ? held : train) {
        if (picked.size() >= options.clustering_per_section) break;
        if (all[i].section != section || taken.count(i)) continue;
        if (pass != 1 && !groups_used.insert(split.group[i]).second) continue;
        picked.push_back(i);
        taken.insert(i);
      }
    }
  }
  std::size_t per_section = options.clustering_per_section;
  for (const auto& [section, picked] : chosen) per_section = std::min(per_section, picked.size());
  if (per_section < options.clustering_per_section && !chosen.empty())
    log::warn("debian: clustering has {} texts per section, not {}: a section has too few descriptions",
              per_section, options.clustering_per_section);
  std::unordered_map<std::size_t, std::string> clustering_label;
  for (auto& [section, picked] : chosen) {
    picked.resize(per_section);  // the held-out ones come first, so trimming drops training ones first
    for (std::size_t i : picked) {
      clustering_label[i] = section;
      if (!split.held_out[i]) ++stats.clustering_from_training;
    }
    stats.clustering_sections.push_back(section);
  }
  stats.clustering_per_section = chosen.empty() ? 0 : per_section;
  std::string clustering;
  for (const auto& [r, i] : ranked) {
    const auto label = clustering_label.find(i);
    if (label != clustering_label.end())
      clustering += dump_line(Json{{"text", long_text(all[i], options.max_text_chars)}, {"label", label->second}});
  }
  if (stats.clustering_from_training > 0)
    log::warn("debian: {} clustering texts come from the training side (too few held-out descriptions in their "
              "sections)",
              stats.clustering_from_training);

  // Classification by Section: the clustering's sections, held-out descriptions it did not take, one per
  // source family and section; a family's first text decides whether the family is train or test side,
  // so no family is on both. Train texts come first (the 16 a section needs are few), then test texts.
  std::unordered_map<std::size_t, std::string> train_label, test_label;
  {
    std::map<std::string, std::pair<std::size_t, std::size_t>> filled;  // section -> (train, test)
    std::unordered_map<std::size_t, bool> group_is_train;
    std::set<std::pair<std::size_t, std::string>> group_sections;
    for (std::size_t i : held) {
      const std::string& section = all[i].section;
      if (!chosen.count(section) || clustering_label.count(i)) continue;
      if (!group_sections.emplace(split.group[i], section).second) continue;
      auto& [n_train, n_test] = filled[section];
      auto side = group_is_train.find(split.group[i]);
      if (side == group_is_train.end()) {
        const bool to_train = n_train < options.classification_train_per_section;
        if (!to_train && n_test >= options.classification_test_per_section) continue;
        side = group_is_train.emplace(split.group[i], to_train).first;
      }
      if (side->second && n_train < options.classification_train_per_section) {
        train_label[i] = section;
        ++n_train;
      } else if (!side->second && n_test < options.classification_test_per_section) {
        test_label[i] = section;
        ++n_test;
      }
    }
    for (const auto& [section, counts] : filled) {
      if (counts.first < options.classification_train_per_section || counts.second < options.classification_test_per_section)
        log::warn("debian: classification has {} train and {} test texts for {} (wanted {} and {})", counts.first,
                  counts.second, section, options.classification_train_per_section,
                  options.classification_test_per_section);
    }
  }
  std::string classification_train, classification_test;
  for (const auto& [r, i] : ranked) {
    for (auto* side : {&train_label, &test_label}) {
      const auto label = side->find(i);
      if (label == side->end()) continue;
      (side == &train_label ? classification_train : classification_test) +=
          dump_line(Json{{"text", long_text(all[i], options.max_text_chars)}, {"label", label->second}});
    }
  }
  stats.classification_train = train_label.size();
  stats.classification_test = test_label.size();

  const Json sources = describe_lists(lists);
  write_dir_atomic(options.out_dir, [&](const fs::path& tmp) {
    write_file_atomic(tmp / "pairs.jsonl.gz", gzip(pairs));
    write_file_atomic(tmp / "corpus.txt.gz", gzip(corpus_txt));
    write_file_atomic(tmp / "retrieval" / "corpus.jsonl", corpus_jsonl);
    write_file_atomic(tmp / "retrieval" / "queries.jsonl", queries_jsonl);
    write_file_atomic(tmp / "retrieval" / "qrels" / "test.tsv", qrels);
    write_file_atomic(tmp / "clustering.jsonl", clustering);
    write_file_atomic(tmp / "classification" / "train.jsonl", classification_train);
    write_file_atomic(tmp / "classification" / "test.jsonl", classification_test);
    if (options.write_vocabulary) {
      log::info("debian: training the BPE vocabulary on {} texts", vocabulary_texts.size());
      options.write_vocabulary(vocabulary_texts, tmp / "tokenizer");
    }

    Json files = Json::object();
    std::vector<fs::path> written;
    for (const auto& entry : fs::recursive_directory_iterator(tmp))
      if (entry.is_regular_file()) written.push_back(fs::relative(entry.path(), tmp));
    std::sort(written.begin(), written.end());
    for (const auto& rel : written)
      files[rel.generic_string()] = Json{{"bytes", fs::file_size(tmp / rel)}, {"hash", hash_file(tmp / rel)}};

    Json manifest{
        {"builder", "sentbench data debian"},
        {"builder_version", kBuilderVersion},
        {"seed", options.seed},
        {"options",
         {{"max_pairs", options.max_pairs},
          {"held_out_target", options.held_out_target},
          {"max_held_out_group", options.max_held_out_group},
          {"queries", options.queries},
          {"corpus", options.corpus},
          {"clustering_sections", options.clustering_sections},
          {"clustering_per_section", options.clustering_per_section},
          {"classification_train_per_section", options.classification_train_per_section},
          {"classification_test_per_section", options.classification_test_per_section},
          {"max_text_chars", options.max_text_chars},
          {"positives", options.whole_description_positives ? "description" : "first-paragraph"},
          {"vocab_size", options.write_vocabulary ? Json(options.vocab_size) : Json(nullptr)}}},
        {"lists_dir", options.lists_dir.string()},
        {"sources", sources},
        {"counts",
         {{"package_stanzas", stats.read.package_stanzas},
          {"translation_stanzas", stats.read.translation_stanzas},
          {"untranslated", stats.read.untranslated},
          {"without_long_description", stats.read.without_long_description},
          {"descriptions", stats.read.descriptions},
          {"groups", stats.groups},
          {"held_out_groups", stats.held_out_groups},
          {"held_out_descriptions", stats.held_out_descriptions},
          {"train_descriptions", stats.train_descriptions},
          {"pairs", stats.pairs},
          {"pairs_uninformative", stats.pairs_uninformative},
          {"pairs_duplicate", stats.pairs_duplicate},
          {"pairs_capped", stats.pairs_capped},
          {"corpus_texts", stats.corpus_texts},
          {"corpus_duplicates", stats.corpus_duplicates},
          {"queries", stats.queries},
          {"corpus", stats.corpus},
          {"clustering", stats.clustering_per_section * stats.clustering_sections.size()},
          {"clustering_from_training", stats.clustering_from_training},
          {"classification_train", stats.classification_train},
          {"classification_test", stats.classification_test}}},
        {"clustering", {{"sections", stats.clustering_sections}, {"per_section", stats.clustering_per_section}}},
        {"files", files}};
    write_file_atomic(tmp / "manifest.json", manifest.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  });
  return stats;
}

SnapshotCheck check_snapshot(const fs::path& snapshot, const fs::path& lists_dir) {
  const fs::path manifest_path = snapshot / "manifest.json";
  if (!fs::exists(manifest_path))
    throw IoError(fmt::format("no Debian data snapshot at {} (manifest.json missing); build it with `sentbench data "
                              "debian --out {}`",
                              snapshot.string(), snapshot.string()));
  Json manifest;
  try {
    manifest = Json::parse(read_file(manifest_path));
  } catch (const Json::exception& e) {
    throw IoError(fmt::format("{}: unreadable manifest ({}); rebuild the snapshot with `sentbench data debian`",
                              manifest_path.string(), e.what()));
  }
  const Json files = manifest.value("files", Json::object());
  for (const auto& [rel, entry] : files.items()) {
    const fs::path file = snapshot / rel;
    const std::string want = entry.value("hash", "");
    if (!fs::exists(file) || hash_file(file) != want)
      throw DataError(fmt::format("{}: {} its manifest (hash {}); the snapshot was edited or damaged: restore it "
                                  "from git or rebuild it with `sentbench data debian --out {}`",
                                  file.string(), fs::exists(file) ? "does not match" : "is missing, listed in", want,
                                  snapshot.string()));
  }

  SnapshotCheck check;
  for (const auto& source : manifest.value("sources", Json::array())) {
    check.lists_date = std::max(check.lists_date, source.value("mtime", std::string()));  // ISO 8601 sorts as text
  }
  const int version = manifest.value("builder_version", 0);
  if (version != kBuilderVersion)
    check.reasons.push_back(fmt::format("built by builder version {}, this is version {}", version, kBuilderVersion));
  const ListFiles lists = find_lists(lists_dir);
  std::map<std::string, fs::path> current;
  for (const auto* files : {&lists.packages, &lists.translations})
    for (const auto& file : *files) current.emplace(list_name(file), file);
  if (current.empty()) {
    check.state = SnapshotCheck::State::kUnknown;
    check.reasons.push_back(fmt::format("no Debian package lists in {} to compare with", lists_dir.string()));
    return check;
  }
  std::set<std::string> recorded;
  const Json sources = manifest.value("sources", Json::array());
  for (const auto& source : sources) {
    const std::string name = source.value("name", "");
    recorded.insert(name);
    const auto found = current.find(name);
    if (found == current.end()) {
      check.reasons.push_back(fmt::format("list gone: {}", name));
      continue;
    }
    // The file hash settles the common case without decompressing; the content hash still matches a
    // list apt re-fetched in another compression.
    if (hash_file(found->second) == source.value("file_hash", "")) continue;
    if (hash_bytes(read_list(found->second)) == source.value("content_hash", "")) continue;
    struct stat st {};
    const std::string now = ::stat(found->second.c_str(), &st) == 0 ? utc_time(st.st_mtime) : "?";
    check.reasons.push_back(fmt::format("list changed: {} (snapshot from {}, list now from {})", name,
                                        source.value("mtime", "?"), now));
  }
  for (const auto& [name, file] : current)
    if (!recorded.count(name)) check.reasons.push_back(fmt::format("new list: {}", name));
  check.state = check.reasons.empty() ? SnapshotCheck::State::kFresh : SnapshotCheck::State::kStale;
  return check;
}

}  // namespace sentbench::debian
