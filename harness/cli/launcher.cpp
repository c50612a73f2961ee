// `--nproc N`: starts N local ranks of this same command (what torchrun --nproc-per-node does), with the
// environment torchrun would give them, and supervises them: Ctrl-C / SIGTERM are passed on, and when one
// rank fails the others get a grace period to fail with their own message before they are stopped.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "sentbench/distributed.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/log.hpp"

namespace sentbench::cli {
namespace {

std::vector<std::string>& saved_args() {
  static std::vector<std::string> args;
  return args;
}

std::vector<pid_t> g_children;  // written before handlers are installed, read-only afterwards
volatile std::sig_atomic_t g_signal = 0;

extern "C" void forward_signal(int sig) {
  g_signal = sig;
  for (pid_t pid : g_children) {
    if (pid > 0) ::kill(pid, sig);
  }
}

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "ended";
}

}  // namespace

void save_command_line(int argc, char** argv) {
  saved_args().assign(argv, argv + argc);
}

std::vector<std::string> command_line_without(const std::string& option) {
  std::vector<std::string> out;
  const auto& args = saved_args();
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == option) {
      ++i;  // and its value
    } else if (args[i].rfind(option + "=", 0) != 0) {
      out.push_back(args[i]);
    }
  }
  return out;
}

int launch_local_ranks(int nproc, const std::vector<std::string>& args) {
  if (std::getenv("WORLD_SIZE") != nullptr) {
    throw UsageError("--nproc starts the ranks itself, but WORLD_SIZE is already set (torchrun or Slurm started "
                     "this process): drop --nproc, or unset RANK/WORLD_SIZE");
  }
  const int port = free_local_port();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned per_rank = std::max(1u, cores / static_cast<unsigned>(nproc));
  log::info("starting {} local ranks (rendezvous 127.0.0.1:{}, {} BLAS thread{} each)", nproc, port, per_rank,
            per_rank == 1 ? "" : "s");
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) throw Error("--nproc: cannot find this program's path (/proc/self/exe)");
  exe[n] = '\0';

  g_children.assign(static_cast<std::size_t>(nproc), 0);
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(fmt::format("--nproc: fork failed: {}", std::strerror(errno)));
    if (pid == 0) {
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      // Split the cores between the ranks; without this every rank's OpenBLAS would use all of them.
      ::setenv("OPENBLAS_NUM_THREADS", std::to_string(per_rank).c_str(), 0);
      ::setenv("OMP_NUM_THREADS", std::to_string(per_rank).c_str(), 0);
      ::setenv("SENTBENCH_CORES", std::to_string(per_rank).c_str(), 0);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe, argv.data());
      std::fprintf(stderr, "error: --nproc: cannot start %s: %s\n", exe, std::strerror(errno));
      std::_Exit(127);
    }
    g_children[static_cast<std::size_t>(rank)] = pid;
  }
  std::signal(SIGINT, forward_signal);
  std::signal(SIGTERM, forward_signal);

  // Supervise: collect exits; after the first failure give the rest 30 s to notice and fail with their
  // own message, then stop them.
  using clock = std::chrono::steady_clock;
  constexpr auto kGrace = std::chrono::seconds(30);
  int remaining = nproc, first_failed = -1, first_status = 0;
  clock::time_point deadline = clock::time_point::max();
  bool terminated = false;
  while (remaining > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int r = 0; r < nproc; ++r) {
        if (g_children[static_cast<std::size_t>(r)] != pid) continue;
        --remaining;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok) {
          log::error("rank {} {}", r, describe(status));
          if (first_failed < 0) {
            first_failed = r;
            first_status = status;
            deadline = clock::now() + kGrace;
          }
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (clock::now() >= deadline) {
      for (pid_t child : g_children) ::kill(child, terminated ? SIGKILL : SIGTERM);
      log::error("stopping the remaining ranks ({} after rank {} failed)", terminated ? "SIGKILL" : "SIGTERM",
                 first_failed);
      deadline = clock::now() + std::chrono::seconds(10);
      terminated = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (first_failed < 0) return 0;
  if (g_signal != 0) {
    log::warn("the ranks stopped on signal {} ({}); rank {} {}", static_cast<int>(g_signal), strsignal(g_signal),
              first_failed, describe(first_status));
  } else {
    log::error("distributed run failed: rank {} failed first ({})", first_failed, describe(first_status));
  }
  return WIFEXITED(first_status) ? WEXITSTATUS(first_status) : 128 + WTERMSIG(first_status);
}

}  // namespace sentbench::cli
