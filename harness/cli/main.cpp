// The sentbench executable: parses the command line, runs one subcommand, maps errors to exit codes
// (0 ok, 1 failure, 2 usage or recipe error).
#include <malloc.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "commands.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"

namespace {

// glibc's malloc, tuned for tensor-sized buffers: activations of tens of MB are allocated and freed every
// layer. By default glibc serves them with fresh mmap()s or trims them off the heap when freed, so every
// batch faults its pages in again (4 KiB at a time, each fault expensive in a VM), and the first batches
// of a process pay most. Kept in the heap (mmap threshold at glibc's maximum, 32 MiB, which also stops its
// dynamic adjustment; no trimming below 1 GiB) and backed by transparent huge pages (hugetlb=1: malloc
// madvise()s its memory; THP is "madvise" on Debian), a cold `sentbench eval` of 726 STS-B texts on the
// mini shape ran at 903–950 texts/s instead of 612–644 (warm `bench encode`: 924–978 either way).
// hugetlb is only a start-up tunable, hence the one re-exec with GLIBC_TUNABLES set; a user's own
// GLIBC_TUNABLES malloc settings win, and SENTBENCH_NO_MALLOC_TUNING=1 turns this off.
void tune_malloc(char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // larger values are refused by glibc (HEAP_MAX_SIZE / 2)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  const char* off = std::getenv("SENTBENCH_NO_MALLOC_TUNING");
  if (off && *off && std::strcmp(off, "0") != 0) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  if (current && std::strstr(current, "glibc.malloc.")) return;  // already tuned, by us or by the user
  std::string value = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824";
  if (current && *current) value = std::string(current) + ":" + value;
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // same pid, arguments and environment; returns only on failure
  unsetenv("GLIBC_TUNABLES");     // carry on untuned (the mallopt settings above still hold)
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc(argv);
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
  sentbench::cli::add_history_command(app, action);
  sentbench::cli::add_sweep_command(app, action);
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
