// Levelled logging: one line per message on stderr, prefixed with the level when not plain info.
#include "sentbench/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace sentbench::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mutex;
std::string g_prefix;  // guarded by g_mutex
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
Level level() { return static_cast<Level>(g_level.load()); }

void set_prefix(std::string prefix) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_prefix = std::move(prefix);
}

void write(Level lvl, std::string_view message) {
  static const char* const kPrefix[] = {"debug: ", "", "warning: ", "error: ", ""};
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s%s%.*s\n", g_prefix.c_str(), kPrefix[static_cast<int>(lvl)], static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace sentbench::log
