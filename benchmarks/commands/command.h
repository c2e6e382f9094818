// The subcommands of `roofbench`: each file in this folder defines one's options and handler
// over the libraries below it; main.cpp only looks the name up in its table and dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/commands/launch.h"

namespace roofbench {

// What a subcommand may need of the command line beyond its own options.
struct Invocation {
  // argv[1..] as given, before Google Benchmark took its flags: run and calibrate start it
  // again as their supervised worker (journal.h).
  std::vector<std::string> args;
  GbenchFlags gbench;
};

// Runs a subcommand once CLI11 has parsed its options; returns the process exit status.
using Handler = std::function<int()>;

struct Command {
  const char* name;
  const char* description;
  // Adds the subcommand's options to `cmd` and returns the handler that reads them: the options
  // live in the handler, so nothing is shared between subcommands.
  Handler (*define)(CLI::App& cmd, const Invocation& invocation);
};

// Every subcommand, in the order `roofbench help` lists them: the one table, in main.cpp.
std::span<const Command> commands();

// A subcommand's one-line description, or "" for a name that is none.
const char* description(std::string_view subcommand);

Handler define_run(CLI::App& cmd, const Invocation& invocation);
Handler define_predict(CLI::App& cmd, const Invocation& invocation);
Handler define_evaluate(CLI::App& cmd, const Invocation& invocation);
Handler define_model(CLI::App& cmd, const Invocation& invocation);
Handler define_calibrate(CLI::App& cmd, const Invocation& invocation);
Handler define_doctor(CLI::App& cmd, const Invocation& invocation);

// More threads than logical CPUs is allowed (oversubscription is something to measure too),
// but rarely meant: said once, on stderr.
void warn_oversubscribed(const std::vector<int>& threads);

}  // namespace roofbench
