// Training-pair streams and the weighted data mix. Everything random here is derived from the run seed
// through fixed, portable arithmetic (splitmix64, mt19937_64, rejection sampling), so a checkpointed
// position replays to the same examples on any standard library; the one exception is the dataset
// choice, which uses std::discrete_distribution as the brief asks (stable within one libstdc++).
#include "sentbench/data/pair_stream.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <locale>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sentbench/data/parse_util.hpp"
#include "sentbench/data/seeded_random.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/utf8.hpp"
#include "sentbench/data/text_file.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench {
namespace {

constexpr const char* kFormats =
    "each line must be a JSON list [anchor, positive] or [anchor, positive, negative], {\"texts\": [...]}, or "
    "{\"query\": ..., \"pos\": ..., \"neg\": ...}";

// Salt for the dataset-choice generator, so it never coincides with a stream's generator.
constexpr std::uint64_t kMixSalt = 0x6d69782d63686f69ULL;  // "mix-choi"

bool is_fresh(const StreamState& state) { return state.epoch == 0 && state.consumed == 0 && state.rng.empty(); }

// nlohmann's message without its "[json.exception...]" tag; "line 1" dropped because the parser only saw
// one line, which would contradict the file line in front of it.
std::string json_error_text(const json::exception& e, bool single_line) {
  std::string why = e.what();
  if (const auto close = why.find("] "); why.rfind("[json.exception", 0) == 0 && close != std::string::npos)
    why.erase(0, close + 2);
  if (single_line)
    if (const auto at = why.find("at line 1, column "); at != std::string::npos) why.erase(at + 3, 8);
  return why;
}

// The 2 or 3 strings of a JSON list (a bare example or the value of "texts").
std::vector<std::string> texts_of(const json& list, const std::string& where, const char* what) {
  if (list.size() < 2 || list.size() > 3)
    throw DataError(fmt::format("{}: {} has {} text{}; an example has 2 (anchor, positive) or 3 (anchor, positive, "
                                "hard negative)",
                                where, what, list.size(), list.size() == 1 ? "" : "s"));
  std::vector<std::string> texts;
  texts.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string())
      throw DataError(fmt::format("{}: text {} of {} is a JSON {}, expected a string", where, i + 1, what,
                                  list[i].type_name()));
    texts.push_back(list[i].get<std::string>());
  }
  return texts;
}

// "pos"/"neg" may be one string or a list of candidates; the reference takes the first. nullopt for an
// empty list or null (allowed for "neg" only).
std::optional<std::string> first_text(const json& value, const std::string& where, const char* key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return std::nullopt;
  if (value.is_array()) {
    if (value.empty()) return std::nullopt;
    if (!value[0].is_string())
      throw DataError(fmt::format("{}: the first element of \"{}\" is a JSON {}, expected a string", where, key,
                                  value[0].type_name()));
    return value[0].get<std::string>();
  }
  throw DataError(
      fmt::format("{}: \"{}\" is a JSON {}, expected a string or a list of strings", where, key, value.type_name()));
}

std::vector<std::string> query_example(const json& object, const std::string& where) {
  const json& query = object.at("query");
  if (!query.is_string())
    throw DataError(fmt::format("{}: \"query\" is a JSON {}, expected a string", where, query.type_name()));
  std::vector<std::string> texts{query.get<std::string>()};
  const auto pos = object.find("pos");
  std::optional<std::string> positive;
  if (pos != object.end()) positive = first_text(*pos, where, "pos");
  if (!positive)
    throw DataError(fmt::format("{}: has \"query\" but no positive (\"pos\" is {}); {}", where,
                                pos == object.end() ? "missing" : "empty", kFormats));
  texts.push_back(std::move(*positive));
  if (const auto neg = object.find("neg"); neg != object.end())
    if (auto negative = first_text(*neg, where, "neg")) texts.push_back(std::move(*negative));
  return texts;
}

}  // namespace

Example parse_example(const std::string& line, const std::string& where) {
  // Lines from a LineReader are repaired already; a caller's own string gets the same U+FFFD policy.
  std::string repaired;
  if (!is_valid_utf8(line)) repaired = to_valid_utf8(line);
  json value;
  try {
    value = json::parse(repaired.empty() ? line : repaired);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw DataError(fmt::format("{}: malformed JSON: {} ({})", where, json_error_text(e, true), kFormats));
  }
  if (value.is_array()) return Example{texts_of(value, where, "the list")};
  if (value.is_object()) {
    if (const auto texts = value.find("texts"); texts != value.end()) {
      if (!texts->is_array())
        throw DataError(fmt::format("{}: \"texts\" is a JSON {}, expected a list of 2 or 3 strings", where,
                                    texts->type_name()));
      return Example{texts_of(*texts, where, "\"texts\"")};
    }
    if (value.contains("query")) return Example{query_example(value, where)};
    std::string keys;
    for (const auto& item : value.items()) keys += (keys.empty() ? "" : ", ") + ("\"" + item.key() + "\"");
    throw DataError(fmt::format("{}: an object without \"texts\" or \"query\" (keys: {}); {}", where,
                                keys.empty() ? std::string("none") : detail::excerpt(keys), kFormats));
  }
  throw DataError(fmt::format("{}: found a JSON {}; {}", where, value.type_name(), kFormats));
}

// ---- PairStream ------------------------------------------------------------------------------------

// Lines are parsed only when drawn, so replaying a checkpoint costs reading, not JSON parsing.
struct PairStream::Impl {
  ShuffledLines lines;
  std::int64_t last_line = 0;
};

PairStream::PairStream(fs::path file, std::uint64_t seed, std::size_t buffer)
    : impl_(std::make_unique<Impl>(Impl{
          ShuffledLines(file, seed, buffer, 0, "remove it from the data config or give it weight 0"), 0})),
      file_(std::move(file)) {}

PairStream::~PairStream() = default;
PairStream::PairStream(PairStream&&) noexcept = default;
PairStream& PairStream::operator=(PairStream&&) noexcept = default;

Example PairStream::next() {
  NumberedLine line = impl_->lines.next();
  impl_->last_line = line.line_number;
  return parse_example(line.text, where());
}

StreamState PairStream::state() const { return impl_->lines.state(); }

void PairStream::restore(const StreamState& state) {
  impl_->lines.restore(state);
  impl_->last_line = 0;
}

std::string PairStream::where() const { return fmt::format("{}:{}", file_.string(), impl_->last_line); }

// ---- data config -----------------------------------------------------------------------------------

std::vector<MixEntry> read_data_config(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(fmt::format("cannot read data config {}: {}", path.string(),
                              fs::exists(path) ? "permission denied or not a file" : "no such file"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json value;
  try {
    value = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw DataError(fmt::format("{}: malformed JSON: {}", path.string(), json_error_text(e, false)));
  }
  const std::string file = path.string();
  if (!value.is_array())
    throw DataError(fmt::format("{}: a data config is a JSON list of {{\"name\", \"lines\", \"weight\"}} objects; "
                                "found a JSON {}",
                                file, value.type_name()));
  std::vector<MixEntry> entries;
  std::unordered_map<std::string, std::size_t> seen;
  double total = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    if (!item.is_object())
      throw DataError(fmt::format("{}: entry {} is a JSON {}; each entry is an object {{\"name\", \"lines\", "
                                  "\"weight\"}}",
                                  file, i, item.type_name()));
    MixEntry entry;
    const auto name = item.find("name");
    if (name == item.end() || !name->is_string() || name->get<std::string>().empty())
      throw DataError(fmt::format("{}: entry {} has {} \"name\" (the data file, relative to the data folder)", file,
                                  i, name == item.end() ? "no" : "an empty or non-string"));
    entry.name = name->get<std::string>();
    const std::string label = fmt::format("{}: entry {} (\"{}\")", file, i, entry.name);
    if (const auto [it, fresh] = seen.emplace(entry.name, i); !fresh)
      throw DataError(fmt::format("{} repeats entry {}; list each file once (add the weights together)", label,
                                  it->second));
    const auto weight = item.find("weight");
    if (weight == item.end() || !weight->is_number())
      throw DataError(fmt::format("{} has {} \"weight\" (a number >= 0; 0 keeps the entry but never draws it)",
                                  label, weight == item.end() ? "no" : "a non-numeric"));
    entry.weight = weight->get<double>();
    if (!std::isfinite(entry.weight) || entry.weight < 0)
      throw DataError(fmt::format("{} has weight {}; weights must be >= 0 (0 keeps the entry but never draws it)",
                                  label, weight->dump()));
    if (const auto lines = item.find("lines"); lines != item.end()) {
      if (lines->is_number_unsigned())
        entry.lines = lines->get<std::uint64_t>();
      else
        throw DataError(fmt::format("{} has \"lines\": {}; it must be a whole number >= 0 (or be left out)", label,
                                    detail::excerpt(lines->dump())));
    }
    total += entry.weight;
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) throw DataError(fmt::format("{}: the data config lists no entries", file));
  if (total <= 0)
    throw DataError(fmt::format("{}: every weight is 0, so nothing can be drawn; give at least one entry a positive "
                                "weight",
                                file));
  return entries;
}

// ---- PairMixer -------------------------------------------------------------------------------------

namespace {

fs::path resolve(const fs::path& data_dir, const MixEntry& entry) { return data_dir / entry.name; }

std::string entry_label(std::size_t index, const MixEntry& entry) {
  return fmt::format("data mix entry {} (\"{}\")", index, entry.name);
}

}  // namespace

PairMixer::PairMixer(std::vector<MixEntry> entries, fs::path data_dir, std::uint64_t seed,
                     std::size_t shuffle_buffer, bool unique_in_batch)
    : entries_(std::move(entries)),
      data_dir_(std::move(data_dir)),
      seed_(seed),
      shuffle_buffer_(shuffle_buffer),
      unique_in_batch_(unique_in_batch),
      rng_(derive_seed(seed, kMixSalt)),
      streams_(entries_.size()),
      saved_(entries_.size()) {
  if (shuffle_buffer_ == 0) throw ConfigError("the shuffle buffer must hold at least 1 example (1 = file order)");
  if (entries_.empty()) throw DataError("the data mix has no entries");
  std::vector<double> weights;
  double total = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const double w = entries_[i].weight;
    if (!std::isfinite(w) || w < 0)
      throw DataError(fmt::format("{}: weight {} must be a finite number >= 0", entry_label(i, entries_[i]), w));
    weights.push_back(w);
    total += w;
  }
  if (total <= 0) throw DataError("every weight of the data mix is 0, so nothing can be drawn");
  choose_ = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());

  // Checked now (a stat per file, nothing opened) so a typo fails at start, not at the first draw.
  std::size_t missing = 0;
  std::string first;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].weight <= 0) continue;
    const fs::path path = resolve(data_dir_, entries_[i]);
    if (fs::exists(path)) continue;
    if (missing++ == 0) first = fmt::format("{}: file {} not found", entry_label(i, entries_[i]), path.string());
  }
  if (missing > 0)
    throw DataError(fmt::format("{}{}; names are relative to the data folder {} (download the data there, pass the "
                                "right folder, or set the weight of absent files to 0)",
                                first, missing > 1 ? fmt::format(" (and {} more missing)", missing - 1) : "",
                                data_dir_.string()));
}

PairMixer::~PairMixer() = default;

PairBatch PairMixer::next_batch(std::size_t batch_size) {
  if (batch_size == 0) throw ConfigError("batch size must be at least 1");
  const std::size_t d = choose_(rng_);
  const MixEntry& entry = entries_[d];
  if (!streams_[d]) {
    const fs::path path = resolve(data_dir_, entry);
    if (!fs::exists(path))
      throw DataError(fmt::format("{}: file {} not found (relative to the data folder {})", entry_label(d, entry),
                                  path.string(), data_dir_.string()));
    auto stream = std::make_unique<PairStream>(path, derive_seed(seed_, fnv1a(entry.name)), shuffle_buffer_);
    if (!is_fresh(saved_[d])) stream->restore(saved_[d]);
    streams_[d] = std::move(stream);
  }
  PairStream& stream = *streams_[d];

  PairBatch batch;
  batch.dataset = d;
  batch.dataset_name = entry.name;
  batch.examples.reserve(batch_size);
  std::unordered_set<std::string> texts;
  const std::size_t limit = 20 * batch_size;
  std::size_t draws = 0;
  while (batch.examples.size() < batch_size) {
    if (draws == limit)
      throw DataError(fmt::format("{}: could not fill a batch of {} examples with distinct texts in {} draws (got "
                                  "{}; the other draws repeated a text already in the batch): the file has too few "
                                  "distinct examples for this batch size; use a smaller batch, add data to the "
                                  "file, or set its weight to 0",
                                  entry_label(d, entry), batch_size, draws, batch.examples.size()));
    Example example = stream.next();
    ++draws;
    if (!batch.examples.empty() && example.texts.size() != batch.examples.front().texts.size())
      throw DataError(fmt::format("{}: this example has {} texts but the batch being filled from {} has {}; a file "
                                  "must hold only pairs or only triplets (split it into two files)",
                                  stream.where(), example.texts.size(), entry_label(d, entry),
                                  batch.examples.front().texts.size()));
    if (unique_in_batch_) {
      bool repeated = false;
      for (const auto& text : example.texts) repeated = repeated || texts.count(text) > 0;
      if (repeated) continue;  // the same text as a positive of one row and a negative of another would mislead
      texts.insert(example.texts.begin(), example.texts.end());
    }
    batch.examples.push_back(std::move(example));
  }
  return batch;
}

MixState PairMixer::state() const {
  MixState state;
  state.rng = serialize(rng_);
  state.streams.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i)
    state.streams.push_back(streams_[i] ? streams_[i]->state() : saved_[i]);
  return state;
}

void PairMixer::restore(const MixState& state) {
  if (state.streams.size() != entries_.size())
    throw DataError(fmt::format("cannot restore the data mix: the checkpoint has {} streams but the data config has "
                                "{} entries; resume with the data config the run started with",
                                state.streams.size(), entries_.size()));
  std::istringstream in(state.rng);
  in.imbue(std::locale::classic());
  std::mt19937_64 rng;
  in >> rng;
  if (in.fail())
    throw DataError("cannot restore the data mix: its generator state is not a serialized std::mt19937_64 (a "
                    "damaged checkpoint?)");
  rng_ = rng;
  choose_.reset();
  for (auto& stream : streams_) stream.reset();
  saved_ = state.streams;
}

}  // namespace sentbench
