// Ctrl-C and SIGTERM during a command that measures. The handler only records the signal;
// the timing loop sees it, every repetition not yet finished is skipped, and the command
// keeps what it completed (run writes the finished rows; calibrate writes no profile, since a
// partial calibration would mislead every prediction) and exits with 128 + the signal number,
// as a shell reports a process killed by it. A second signal kills at once.
#pragma once

#include <stdexcept>
#include <string>

namespace roofbench {

// Installs the handlers for SIGINT and SIGTERM, and ignores SIGPIPE. Called by the commands that measure only:
// predict and evaluate finish in a second and keep the default (die at once).
void catch_interrupts();

// The signal received since catch_interrupts(), or 0.
int interrupt_signal();
inline bool interrupted() { return interrupt_signal() != 0; }

// "SIGINT", "SIGTERM".
std::string signal_name(int signal);

// Thrown where a command cannot keep anything of what it did (calibrate, model --measure);
// main prints what() and exits with exit_status().
struct Interrupted : std::runtime_error {
  explicit Interrupted(const std::string& what_was_lost);
  int exit_status() const { return 128 + signal; }
  int signal;
};

// Throws Interrupted when a signal was received.
void throw_if_interrupted(const std::string& what_was_lost);

}  // namespace roofbench
