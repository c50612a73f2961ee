// Shared helpers of the test suite: temporary folders, shared reference data, running the CLI.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"

namespace sentbench::test {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("sentbench-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  // $SENTBENCH_KEEP_TEST_DIRS keeps the folder (to look at what a test wrote) and says where it is.
  ~TempDir() {
    if (std::getenv("SENTBENCH_KEEP_TEST_DIRS")) {
      std::fprintf(stderr, "kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// ../shared/data (or $SENTBENCH_SHARED_DATA); empty path when absent — callers GTEST_SKIP().
inline std::filesystem::path shared_data() {
  if (const char* env = std::getenv("SENTBENCH_SHARED_DATA")) return env;
  const auto p = std::filesystem::path(SENTBENCH_SOURCE_DIR) / ".." / "shared" / "data";
  return std::filesystem::exists(p) ? std::filesystem::canonical(p) : std::filesystem::path();
}

#define SENTBENCH_REQUIRE_SHARED(sub)                                                               \
  const std::filesystem::path shared_##__LINE__ = ::sentbench::test::shared_data();               \
  if (shared_##__LINE__.empty() || !std::filesystem::exists(shared_##__LINE__ / (sub)))           \
  GTEST_SKIP() << "reference data " << (sub) << " not found: set $SENTBENCH_SHARED_DATA or place " \
                  "the shared data at ../shared/data"

// Whether `text` contains `part`, printing both when it does not.
inline ::testing::AssertionResult has_substr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\n  does not contain \"" << part << "\"";
}

// The message of the exception `fn` throws ("" and a test failure when it throws none).
template <typename Error = ::sentbench::DataError, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

// A recipe under tests/fixtures/recipes.
inline std::filesystem::path recipe_fixture(const std::string& name) {
  return std::filesystem::path(SENTBENCH_SOURCE_DIR) / "tests" / "fixtures" / "recipes" / name;
}

// Result of running a command: exit code and combined stdout+stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs the sentbench executable built with this tree.
inline CommandResult run_cli(const std::string& args) { return run_command(std::string(SENTBENCH_CLI) + " " + args); }

// Result of a command whose stdout and stderr are kept apart (stdout is data, e.g. JSON).
struct SplitCommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the sentbench executable with stdout and stderr captured separately through files in `dir`.
inline SplitCommandResult run_cli_split(const std::string& args, const std::filesystem::path& dir) {
  const auto out = dir / "cli-stdout.txt";
  const auto err = dir / "cli-stderr.txt";
  const CommandResult r = run_command("(" + std::string(SENTBENCH_CLI) + " " + args + " >'" + out.string() + "' 2>'" +
                                      err.string() + "')");
  return SplitCommandResult{r.exit_code, ::sentbench::read_file(out), ::sentbench::read_file(err) + r.output};
}

}  // namespace sentbench::test
