// Levelled logging to stderr, shared by the harness and plugins (-v debug, -q warnings only).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "sentbench/export.hpp"

namespace sentbench::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

SENTBENCH_API void set_level(Level level);
SENTBENCH_API Level level();
SENTBENCH_API void write(Level level, std::string_view message);
// Text put before every line, e.g. "[rank 1] " on the ranks of a distributed run other than 0.
SENTBENCH_API void set_prefix(std::string prefix);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kError) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace sentbench::log
