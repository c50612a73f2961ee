// SIGINT / SIGTERM for a whole `sentbench run|train|eval`: the first signal asks the run to stop at its
// next safe point (a training step, which checkpoints; an evaluation task boundary, which keeps the
// finished results); a second one exits at once with 128 + the signal number.
#pragma once

#include <string>

namespace sentbench {

// Installs the handlers (idempotent). Before this, the signals keep their default action.
void install_stop_handlers();
// 0 while no stop was asked, else the first signal's number (SIGINT, SIGTERM).
int stop_signal();
// Throws Interrupted (exit 130 / 143) naming what was kept, when a stop was asked.
void throw_if_stopped(const std::string& what_was_kept);
// For tests: forget a stop that was asked.
void reset_stop_signal();

}  // namespace sentbench
