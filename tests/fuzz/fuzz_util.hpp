// Shared by the libFuzzer targets: inputs written to a scratch file (the readers take paths), and the
// rule every target checks: a reader may refuse input only with a sentbench::Error. Anything else that
// escapes (a raw nlohmann or std exception) reaches libFuzzer as an uncaught exception, i.e. a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "sentbench/errors.hpp"

namespace sentbench::fuzz {

// A per-process scratch folder in /dev/shm (memory, not disk) when it exists, else the temp folder.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("sentbench-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_input(const std::string& name, std::string_view bytes) {
  const std::filesystem::path path = scratch_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Runs `fn`; a sentbench::Error is the reader refusing bad input, which is fine.
template <typename Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const sentbench::Error&) {
  }
}

}  // namespace sentbench::fuzz
