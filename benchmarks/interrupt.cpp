#include "benchmarks/interrupt.h"

#include <fmt/format.h>

#include <csignal>

namespace roofbench {
namespace {

// The one piece of global mutable state besides the registry: a signal handler can reach
// nothing else. sig_atomic_t is the only type it may write (C++20 [support.signal]).
volatile std::sig_atomic_t g_signal = 0;

extern "C" void record_signal(int signal) { g_signal = signal; }

}  // namespace

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: the handler runs once; a second Ctrl-C finds the default action and kills,
  // for the user who does not want to wait for the current repetition to end.
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // `roofbench run ... | head` closes the table's pipe early; the default SIGPIPE would then
  // kill the run before its CSV is written. Ignored, the table's writes fail quietly instead.
  std::signal(SIGPIPE, SIG_IGN);
}

int interrupt_signal() { return g_signal; }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return fmt::format("signal {}", signal);
  }
}

Interrupted::Interrupted(const std::string& what_was_lost)
    : std::runtime_error(fmt::format("interrupted by {}: {}", signal_name(interrupt_signal()), what_was_lost)),
      signal(interrupt_signal()) {}

void throw_if_interrupted(const std::string& what_was_lost) {
  if (interrupted()) throw Interrupted(what_was_lost);
}

}  // namespace roofbench
