// `sentbench version`: versions of sentbench, its plugin ABI, LibTorch, and the machine.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "sentbench/plugin.hpp"
#include "sentbench/version.hpp"
#include "system_info.hpp"

namespace sentbench::cli {

void add_version_command(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("version", "Print versions (sentbench, plugin ABI, LibTorch, BLAS) and the machine.");
  cmd->callback([&action] {
    action = [] {
      const SystemInfo s = system_info();
      std::cout << fmt::format("sentbench {} (commit {})\nplugin ABI {}.{}\nLibTorch {} ({} intra-op threads)\n"
                               "BLAS {}\nCPU {} ({} cores{})\n",
                               s.sentbench_version, s.git_commit, kAbiMajor, kAbiMinor, s.torch_version,
                               s.torch_threads, s.blas, s.cpu_model, s.cores, s.avx512_bf16 ? ", avx512_bf16" : "");
      return 0;
    };
  });
}

}  // namespace sentbench::cli
