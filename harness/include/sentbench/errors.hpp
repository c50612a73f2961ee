// Typed errors of sentbench. Every message says what went wrong, where, and how to fix it.
#pragma once

#include <stdexcept>
#include <string>

#include "sentbench/export.hpp"

namespace sentbench {

// Base of every error the harness or a plugin raises on purpose; the CLI maps it to an exit code.
class SENTBENCH_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
  // Process exit code the CLI uses for this error: 2 for usage/config problems, 1 otherwise.
  virtual int exit_code() const noexcept { return 1; }
};

// A recipe (TOML) or command-line value is missing, mistyped or invalid.
class SENTBENCH_API ConfigError : public Error {
 public:
  using Error::Error;
  ~ConfigError() override;
  int exit_code() const noexcept override { return 2; }
};

// The command line itself is wrong (unknown flag, missing argument).
class SENTBENCH_API UsageError : public Error {
 public:
  using Error::Error;
  ~UsageError() override;
  int exit_code() const noexcept override { return 2; }
};

// Input data is malformed: names the file and line.
class SENTBENCH_API DataError : public Error {
 public:
  using Error::Error;
  ~DataError() override;
};

// Reading or writing a file failed (missing, unreadable, corrupt, disk full).
class SENTBENCH_API IoError : public Error {
 public:
  using Error::Error;
  ~IoError() override;
};

// The run was stopped by SIGINT or SIGTERM after saving what it could (a checkpoint, the finished tasks'
// results); exits 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM), as shells expect.
class SENTBENCH_API Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& message);
  ~Interrupted() override;
  int signal() const noexcept { return signal_; }
  int exit_code() const noexcept override { return 128 + signal_; }

 private:
  int signal_;
};

// A plugin could not be loaded, was refused, or failed inside its own code; names the plugin.
class SENTBENCH_API PluginError : public Error {
 public:
  PluginError(std::string plugin, const std::string& message);
  ~PluginError() override;
  const std::string& plugin() const noexcept { return plugin_; }

 private:
  std::string plugin_;
};

}  // namespace sentbench
