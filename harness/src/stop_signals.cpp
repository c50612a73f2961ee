// See stop_signals.hpp.
#include "stop_signals.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "sentbench/errors.hpp"

namespace sentbench {
namespace {

volatile sig_atomic_t g_signal = 0;
std::atomic<bool> g_installed{false};

void write_stderr(const char* text) {
  // write(2) is async-signal-safe; fprintf and the log are not.
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

extern "C" void on_stop_signal(int sig) {
  if (g_signal != 0) {
    write_stderr("\nsentbench: second signal, exiting now\n");
    ::_exit(128 + sig);
  }
  g_signal = sig;
  write_stderr(sig == SIGINT ? "\nsentbench: Ctrl-C: stopping at the next safe point (Ctrl-C again to quit now)\n"
                             : "\nsentbench: SIGTERM: stopping at the next safe point (again to quit now)\n");
}

}  // namespace

void install_stop_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and waits go on; the run checks the flag itself
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return g_signal; }

void throw_if_stopped(const std::string& what_was_kept) {
  const int sig = g_signal;
  if (sig == 0) return;
  throw Interrupted(sig, fmt::format("stopped by {}; {}", sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM", what_was_kept));
}

void reset_stop_signal() { g_signal = 0; }

}  // namespace sentbench
