// A run folder belongs to one run at a time. `RunFolder::open` takes an advisory lock (flock) on it, so a
// second process gets an error naming the holder; removes temporaries a killed run left behind; and, for
// training, records the run's identity (run_identity.json: run id, hash of the training settings, seed,
// start time, host, pid) and refuses to mix runs: a fresh run will not start over another run's
// checkpoints (unless --overwrite moves them aside), and --resume refuses a folder whose training settings
// differ from the recipe's (listing what differs) unless --force-resume.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sentbench/config.hpp"

namespace sentbench {

struct RunFolderOptions {
  bool trains = false;        // the command trains (ownership rules apply); otherwise only the lock
  bool resume = false;        // --resume
  bool overwrite = false;     // --overwrite: move another run's checkpoints aside
  bool force_resume = false;  // --force-resume: resume although the training settings differ
};

// The training settings a run is identified by: [encoder], [train] (or every [[stage]], in order) and
// [run].seed of the recipe, less what a resumed run may change (steps, checkpoint_every, keep_checkpoints,
// prefetch, and the evaluation during training: eval_every, eval_tasks, eval_max_items).
std::string training_settings_json(const Config& recipe);
// Dotted keys whose values differ between two settings JSON texts, as "key: old → new" lines; arrays of
// tables are walked item by item ("stage[1].lr: 0.001 → 0.002").
std::vector<std::string> settings_differences(const std::string& before_json, const std::string& after_json);

class RunFolder {
 public:
  // Creates the folder if needed and applies the rules above; throws ConfigError with what to do.
  static RunFolder open(const std::filesystem::path& dir, const Config& recipe, const RunFolderOptions& options);
  RunFolder(RunFolder&& other) noexcept;
  RunFolder& operator=(RunFolder&&) = delete;
  RunFolder(const RunFolder&) = delete;
  ~RunFolder();  // releases the lock

  const std::filesystem::path& dir() const { return dir_; }
  // The id checkpoints carry (empty when the command does not train).
  const std::string& run_id() const { return run_id_; }

 private:
  RunFolder(std::filesystem::path dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  std::filesystem::path dir_;
  int fd_ = -1;
  std::string run_id_;
};

// The run id recorded in a run folder's run_identity.json ("" when there is none).
std::string recorded_run_id(const std::filesystem::path& dir);

}  // namespace sentbench
