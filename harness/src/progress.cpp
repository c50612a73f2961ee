// Progress meter: in-place bar on a terminal, periodic plain lines in logs and CI.
#include "sentbench/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "sentbench/log.hpp"

namespace sentbench {
namespace {

std::atomic<double> g_plain_interval{[] {
  const char* env = std::getenv("SENTBENCH_PROGRESS_INTERVAL");
  return env ? std::max(0.0, std::atof(env)) : 10.0;
}()};

bool stderr_is_interactive() {
  const char* term = std::getenv("TERM");
  return ::isatty(2) && std::getenv("CI") == nullptr && !(term && std::string(term) == "dumb");
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string format_count(double value) {
  const double a = std::fabs(value);
  if (a >= 1e9) return fmt::format("{:.1f}G", value / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f}M", value / 1e6);
  if (a >= 1e4) return fmt::format("{:.1f}k", value / 1e3);
  if (a >= 100) return fmt::format("{:.0f}", value);
  return fmt::format("{:.3g}", value);
}

void Progress::set_plain_interval(double seconds) { g_plain_interval.store(seconds); }

Progress::Progress(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_),
      tty_(stderr_is_interactive()), enabled_(log::level() <= log::Level::kInfo) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::rate() const {
  const double t = elapsed_seconds();
  return t > 0 ? static_cast<double>(done_.load()) / t : 0.0;
}

void Progress::add(std::int64_t n) {
  done_.fetch_add(n);
  maybe_draw(false);
}

void Progress::set(std::int64_t done) {
  done_.store(done);
  maybe_draw(false);
}

void Progress::set_status(std::string status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(status);
}

std::string Progress::render(bool with_bar) const {
  const std::int64_t done = done_.load();
  const double elapsed = elapsed_seconds();
  const double r = elapsed > 0 ? done / elapsed : 0.0;
  std::string line = label_;
  if (total_ > 0) {
    const double frac = std::clamp(static_cast<double>(done) / total_, 0.0, 1.0);
    if (with_bar) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(frac * kWidth);
      line += fmt::format(" [{}{}]", std::string(filled, '#'), std::string(kWidth - filled, '.'));
    }
    line += fmt::format(" {:3.0f}% {}/{} {}", frac * 100, done, total_, unit_);
  } else {
    line += fmt::format(" {} {}", done, unit_);
  }
  line += fmt::format(" | {} {}/s | {}", format_count(r), unit_, format_duration(elapsed));
  if (total_ > 0 && done < total_ && r > 0) line += " | ETA " + format_duration((total_ - done) / r);
  if (!status_.empty()) line += " | " + status_;
  return line;
}

void Progress::maybe_draw(bool force) {
  if (!enabled_) return;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;  // another thread is drawing; skip this update
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!force && since < (tty_ ? 0.1 : g_plain_interval.load())) return;
  last_draw_ = now;
  const std::string line = render(tty_);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  const std::string line = render(tty_);
  std::fprintf(stderr, tty_ ? "\r\033[K%s\n" : "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace sentbench
