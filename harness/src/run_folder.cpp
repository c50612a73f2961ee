// See run_folder.hpp.
#include "run_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "system_info.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench {
namespace {

constexpr const char* kLockFile = ".sentbench.lock";
constexpr const char* kIdentityFile = "run_identity.json";

std::string utc_now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string new_run_id() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return fmt::format("{}-{:08x}", utc_now("%Y%m%dT%H%M%SZ"), static_cast<std::uint32_t>(rng()));
}

// Arrays of tables ([[stage]]) are walked item by item ("stage[1].lr"), so a difference names the key;
// other arrays (betas) are one value.
void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  const bool tables = j.is_array() && !j.empty() &&
                      std::all_of(j.begin(), j.end(), [](const json& item) { return item.is_object(); });
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (tables) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], fmt::format("{}[{}]", prefix, i), out);
  } else {
    out[prefix] = j.dump();
  }
}

// The folders a run writes training state to: the run folder ([train]) and each stages/<name>/ folder
// ([[stage]]) that exists.
std::vector<fs::path> training_dirs(const fs::path& dir) {
  std::vector<fs::path> out = {dir};
  std::error_code ec;
  std::vector<fs::path> stages;
  for (const auto& e : fs::directory_iterator(dir / "stages", ec)) {
    if (e.is_directory()) stages.push_back(e.path());
  }
  std::sort(stages.begin(), stages.end());
  out.insert(out.end(), stages.begin(), stages.end());
  return out;
}

// Step folders (finished checkpoints) under checkpoints/ of the run and of its stages.
std::vector<fs::path> checkpoint_dirs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const fs::path& where : training_dirs(dir)) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(where / "checkpoints", ec)) {
      if (e.is_directory() && e.path().filename().string().rfind("step-", 0) == 0) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename() == b.filename() ? a < b : a.filename() < b.filename();
  });
  return out;
}

// Temporaries of write_file_atomic / write_dir_atomic (".NAME.tmp-PID-RANDOM") left by a killed run.
void remove_stale_temporaries(const fs::path& dir) {
  std::vector<fs::path> places;
  for (const fs::path& d : training_dirs(dir)) places.insert(places.end(), {d, d / "checkpoints"});
  for (const fs::path& where : places) {
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const auto& e : fs::directory_iterator(where, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) stale.push_back(e.path());
    }
    for (const auto& p : stale) {
      std::error_code rm;
      fs::remove_all(p, rm);
      if (rm) log::warn("could not remove the stale temporary {}: {}", p.string(), rm.message());
      else log::info("removed {}, left by an interrupted run", p.string());
    }
  }
}

// A checkpoint as messages name it: step-N for the run's own, stages/<name>/checkpoints/step-N for a stage's.
std::string newest_name(const fs::path& dir, const fs::path& checkpoint) {
  return checkpoint.parent_path().parent_path() == dir ? checkpoint.filename().string()
                                                      : checkpoint.lexically_relative(dir).string();
}

json read_identity(const fs::path& dir) {
  const fs::path path = dir / kIdentityFile;
  if (!fs::exists(path)) return json();
  json j = json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("run_id")) {
    log::warn("{} is not a run identity file; ignoring it", path.string());
    return json();
  }
  return j;
}

std::string describe(const json& identity) {
  if (identity.is_null()) return "a run that recorded no identity";
  return fmt::format("run {} started {} on host {} by pid {}", identity.value("run_id", "?"),
                     identity.value("started", "?"), identity.value("host", "?"), identity.value("pid", 0));
}

// Moves another run's outputs into <dir>/superseded-<time>/ and returns that folder.
fs::path move_aside(const fs::path& dir) {
  fs::path target = dir / ("superseded-" + utc_now("%Y%m%dT%H%M%SZ"));
  for (int i = 2; fs::exists(target); ++i) target = dir / fmt::format("superseded-{}-{}", utc_now("%Y%m%dT%H%M%SZ"), i);
  fs::create_directories(target);
  for (const char* name : {"checkpoints", "stages", "model", "train_log.jsonl", kIdentityFile, "results.json",
                           "run.json", "report.json", "report.md", "report.html", "recipe.toml", "details"}) {
    if (fs::exists(dir / name)) fs::rename(dir / name, target / name);
  }
  return target;
}

}  // namespace

std::string training_settings_json(const Config& recipe) {
  const json all = json::parse(recipe.to_json());
  json s = json::object();
  for (const char* table : {"encoder", "train"}) {
    if (all.contains(table)) s[table] = all[table];
  }
  // What a resumed run may change: how long it trains, how it keeps checkpoints, and what it scores on
  // the way (evaluation during training leaves the weights and the random streams as they were).
  const auto drop_resumable = [](json& table) {
    for (const char* key : {"steps", "checkpoint_every", "keep_checkpoints", "prefetch", "eval_every", "eval_tasks",
                            "eval_max_items"}) {
      table.erase(key);
    }
  };
  if (s.contains("train")) drop_resumable(s["train"]);
  // A staged recipe: every stage's settings, in order (stage[1].lr in a difference).
  if (all.contains("stage") && all["stage"].is_array()) {
    s["stage"] = all["stage"];
    for (json& stage : s["stage"]) {
      if (stage.is_object()) drop_resumable(stage);
    }
  }
  s["seed"] = all.contains("run") && all["run"].contains("seed") ? all["run"]["seed"] : json(42);
  return s.dump();
}

std::vector<std::string> settings_differences(const std::string& before_json, const std::string& after_json) {
  std::map<std::string, std::string> before, after;
  flatten(json::parse(before_json), "", before);
  flatten(json::parse(after_json), "", after);
  std::vector<std::string> out;
  for (const auto& [k, v] : before) {
    auto it = after.find(k);
    if (it == after.end()) out.push_back(fmt::format("{}: {} → (not set)", k, v));
    else if (it->second != v) out.push_back(fmt::format("{}: {} → {}", k, v, it->second));
  }
  for (const auto& [k, v] : after) {
    if (!before.count(k)) out.push_back(fmt::format("{}: (not set) → {}", k, v));
  }
  return out;
}

std::string recorded_run_id(const fs::path& dir) {
  const json identity = read_identity(dir);
  return identity.is_object() ? identity.value("run_id", "") : "";
}

RunFolder RunFolder::open(const fs::path& dir, const Config& recipe, const RunFolderOptions& options) {
  fs::create_directories(dir);
  const fs::path lock_path = dir / kLockFile;
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("cannot open the lock file {}: {}", lock_path.string(), std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder;
    char buf[512] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder.assign(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const json h = json::parse(holder, nullptr, false);
    const std::string who = h.is_object() ? fmt::format("pid {} on host {}, since {}", h.value("pid", 0),
                                                        h.value("host", "?"), h.value("since", "?"))
                                          : "another process";
    throw ConfigError(fmt::format("run folder {} is in use by another sentbench ({}); wait for it to finish, stop "
                                  "it, or write to another folder with -o DIR",
                                  dir.string(), who));
  }
  RunFolder folder(dir, fd);
  const std::string host = system_info().hostname;
  const std::string holder = json{{"pid", ::getpid()}, {"host", host}, {"since", utc_now("%Y-%m-%dT%H:%M:%SZ")}}.dump() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
    log::warn("could not record this process in {}", lock_path.string());
  }
  remove_stale_temporaries(dir);
  if (!options.trains) return folder;

  const json identity = read_identity(dir);
  const std::vector<fs::path> checkpoints = checkpoint_dirs(dir);
  const std::string settings = training_settings_json(recipe);
  json next = {{"schema", "sentbench.run_identity/1"},
               {"recipe_hash", hash_bytes(settings)},
               {"settings", json::parse(settings)},
               {"started", utc_now("%Y-%m-%dT%H:%M:%SZ")},
               {"host", host},
               {"pid", ::getpid()}};
  if (!options.resume) {
    if (!checkpoints.empty()) {
      if (!options.overwrite) {
        throw ConfigError(fmt::format(
            "run folder {} holds {} checkpoint{} of {} (newest {}); a new run would mix its checkpoints with them. "
            "Continue that run with --resume, move its files aside with --overwrite (into {}/superseded-<time>/), "
            "or write to another folder with -o DIR",
            dir.string(), checkpoints.size(), checkpoints.size() == 1 ? "" : "s", describe(identity),
            newest_name(dir, checkpoints.back()), dir.string()));
      }
      const fs::path aside = move_aside(dir);
      log::warn("--overwrite: moved the files of {} to {}", describe(identity), aside.string());
    }
    next["run_id"] = new_run_id();
  } else if (identity.is_object()) {
    const std::vector<std::string> diff = settings_differences(identity["settings"].dump(), settings);
    if (!diff.empty()) {
      std::string listed;
      for (const auto& d : diff) listed += "\n  " + d;
      if (!options.force_resume) {
        throw ConfigError(fmt::format("--resume: the recipe's training settings differ from those {} was started "
                                      "with ({}):{}\nresume with the original settings, start a new run in another "
                                      "folder (-o DIR), or pass --force-resume to continue with the new ones",
                                      dir.string(), describe(identity), listed));
      }
      log::warn("--force-resume: continuing {} with changed settings:{}", describe(identity), listed);
    }
    next["run_id"] = identity["run_id"];
    next["started"] = identity.value("started", next["started"].get<std::string>());
    next["resumed"] = utc_now("%Y-%m-%dT%H:%M:%SZ");
  } else {
    if (!checkpoints.empty()) {
      log::warn("--resume: {} records no run identity (written by an older sentbench); adopting its checkpoints",
                dir.string());
    }
    next["run_id"] = new_run_id();
  }
  folder.run_id_ = next["run_id"].get<std::string>();
  write_file_atomic(dir / kIdentityFile, next.dump(2) + "\n");
  return folder;
}

RunFolder::RunFolder(RunFolder&& other) noexcept
    : dir_(std::move(other.dir_)), fd_(other.fd_), run_id_(std::move(other.run_id_)) {
  other.fd_ = -1;
}

RunFolder::~RunFolder() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace sentbench
