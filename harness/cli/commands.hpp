// The sentbench subcommands: each file adds one to the CLI11 app and returns the action to run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sentbench::cli {

// What a subcommand runs after parsing; returns the process exit code.
using Action = std::function<int()>;

void add_run_commands(CLI::App& app, Action& action);  // run, train, eval
void add_validate_command(CLI::App& app, Action& action);
void add_plugins_command(CLI::App& app, Action& action);
void add_version_command(CLI::App& app, Action& action);
void add_tokenizer_command(CLI::App& app, Action& action);
void add_report_commands(CLI::App& app, Action& action);  // report, compare, regress
void add_history_command(CLI::App& app, Action& action);   // history (cmd_history.cpp): series over many runs, step changes
void add_sweep_command(CLI::App& app, Action& action);    // sweep (cmd_sweep.cpp): a grid of runs as child processes
void add_data_command(CLI::App& app, Action& action);
void add_encode_command(CLI::App& app, Action& action);    // encode (cmd_encode.cpp)
void add_tokenize_command(CLI::App& app, Action& action);  // tokenize (cmd_tokenize.cpp)
void add_bench_commands(CLI::App& app, Action& action);    // bench encode, bench train (cmd_bench.cpp)

// --nproc (launcher.cpp): the command line as given, that line without one option (and its value), and
// starting N local ranks of it; returns the exit code for the whole run.
void save_command_line(int argc, char** argv);
std::vector<std::string> command_line_without(const std::string& option);
int launch_local_ranks(int nproc, const std::vector<std::string>& args);

}  // namespace sentbench::cli
