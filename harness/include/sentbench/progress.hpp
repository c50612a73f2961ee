// Progress bars and rate meters: one kind used everywhere (items/s, ETA). Redrawn in place on a TTY;
// plain periodic lines when stderr is not a TTY or $CI is set; silent at log level quiet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "sentbench/export.hpp"

namespace sentbench {

// Counts work done toward an optional total and shows rate and ETA. Thread-safe add().
class SENTBENCH_API Progress {
 public:
  // total <= 0 means unknown (no ETA, no bar). unit names what is counted ("texts", "steps").
  Progress(std::string label, std::int64_t total, std::string unit = "items");
  ~Progress();  // finishes if not yet finished
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(std::int64_t n = 1);
  void set(std::int64_t done);
  // A short free-form suffix shown after the rate ("loss 0.532").
  void set_status(std::string status);
  // Prints the final line (count, elapsed, mean rate) once.
  void finish();

  std::int64_t done() const { return done_.load(); }
  double elapsed_seconds() const;
  double rate() const;  // items per second since start

  // Seconds between plain (non-TTY) lines; default 10, or $SENTBENCH_PROGRESS_INTERVAL.
  static void set_plain_interval(double seconds);
  // Renders one status line; exposed for tests.
  std::string render(bool with_bar) const;

 private:
  void maybe_draw(bool force);

  std::string label_;
  std::string unit_;
  std::int64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::string status_;
  mutable std::mutex mutex_;
  bool finished_ = false;
  bool tty_ = false;
  bool enabled_ = true;
};

// Formats seconds as "1h02m", "3m05s" or "4.2s".
SENTBENCH_API std::string format_duration(double seconds);
// Formats a rate with SI suffix: "12.3k".
SENTBENCH_API std::string format_count(double value);

}  // namespace sentbench
