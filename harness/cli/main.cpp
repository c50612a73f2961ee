// The sentbench executable: parses the command line, runs one subcommand, maps errors to exit codes
// (0 ok, 1 failure, 2 usage or recipe error).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "commands.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"

int main(int argc, char** argv) {
  // Keep large tensor buffers in the heap instead of fresh mmap()s: glibc would otherwise return every
  // freed activation to the kernel and fault its pages in again on the next batch (measured here:
  // ~380 ms to first-touch a 77 MB tensor).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{
      "sentbench: train and evaluate sentence-embedding models.\n"
      "A TOML recipe names an encoder plugin, a training recipe plugin, evaluation tasks and a report.\n"
      "Run `sentbench <command> --help` for the options of each command."};
  app.require_subcommand(1);
  app.fallthrough();
  int verbose = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "more log output (debug)");
  app.add_flag("-q,--quiet", quiet, "only warnings and errors; no progress bars");

  sentbench::cli::save_command_line(argc, argv);
  sentbench::cli::Action action;
  sentbench::cli::add_run_commands(app, action);
  sentbench::cli::add_validate_command(app, action);
  sentbench::cli::add_plugins_command(app, action);
  sentbench::cli::add_version_command(app, action);
  sentbench::cli::add_tokenizer_command(app, action);
  sentbench::cli::add_report_commands(app, action);
  sentbench::cli::add_data_command(app, action);
  sentbench::cli::add_encode_command(app, action);
  sentbench::cli::add_tokenize_command(app, action);
  sentbench::cli::add_bench_commands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  using sentbench::log::Level;
  sentbench::log::set_level(quiet ? Level::kWarn : verbose > 0 ? Level::kDebug : Level::kInfo);
  try {
    return action ? action() : 0;
  } catch (const sentbench::DistributedError& e) {
    // Another rank died or hung: leave at once. Tearing the process group down could wait on it again.
    sentbench::log::error("{}", e.what());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(e.exit_code());
  } catch (const sentbench::Error& e) {
    sentbench::log::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    sentbench::log::error("{}", e.what());
    return 1;
  }
}
