// roofbench: the command line of design.md. Google Benchmark takes its own --benchmark_* flags
// first; CLI11 parses the rest. Every error ends as one line on stderr and a non-zero exit.
// The subcommands live in benchmarks/commands/, one file each; this file only dispatches.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string_view>

#include "benchmarks/commands/command.h"
#include "benchmarks/commands/help.h"
#include "benchmarks/commands/launch.h"
#include "benchmarks/interrupt.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"

namespace roofbench {

namespace {

// The order here is the order of `roofbench help`, of --help-all and of the names an unknown
// command's error lists.
constexpr Command kCommands[] = {
    {"run", "Time kernels over a shape set and write one CSV row per combination", define_run},
    {"predict", "Predict every row `run` would time, from a profile alone (no kernel runs)", define_predict},
    {"evaluate", "Score the predictions in a run CSV: fitted and classic roofline side by side", define_evaluate},
    {"model", "Whole-model metrics per layer and in total: parameters, size, MACs, activations, latency, energy",
     define_model},
    {"calibrate", "Measure peak ops/s per dtype, bandwidth and latency per memory level; write a profile",
     define_calibrate},
    {"doctor", "Probe this machine's noise over time: what its measurements are good to, and why", define_doctor},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace roofbench

namespace {

using namespace roofbench;

// Every error is one line: a message quoting a file's bytes is escaped and kept this short.
constexpr std::size_t kMessageBytes = 600;

void reject_unknown_command(int argc, char** argv) {
  if (argc <= 1 || argv[1][0] == '-') return;
  if (std::string_view(description(argv[1])).empty()) {
    std::vector<std::string_view> names;
    for (const Command& c : commands()) names.push_back(c.name);
    throw CLI::ValidationError(fmt::format("unknown command '{}' (commands: {})", argv[1], fmt::join(names, ", ")));
  }
}

// Parses the command line into the one subcommand it names and runs that.
int dispatch(int argc, char** argv, const Invocation& invocation) {
  CLI::App app{kTagline};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::vector<std::pair<CLI::App*, Handler>> handlers;
  for (const Command& c : commands()) {
    CLI::App* cmd = app.add_subcommand(c.name, c.description);
    handlers.emplace_back(cmd, c.define(*cmd, invocation));
  }
  try {
    reject_unknown_command(argc, argv);
    app.parse(argc, argv);
    for (const auto& [cmd, handler] : handlers)
      if (cmd->parsed()) return handler();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 2;
  } catch (const Interrupted& e) {
    fmt::print(stderr, "roofbench: {}\n", printable(e.what(), kMessageBytes));
    return e.exit_status();
  } catch (const std::exception& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation invocation;
  invocation.args.assign(argv + 1, argv + argc);
  HelpArgs help_args;
  if (const auto status = front_door(argc, argv, help_args)) return *status;
  try {
    cpu();  // reads ROOFBENCH_DISABLE_ISA: a bad value is an error before anything starts
  } catch (const std::exception& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 2;
  }
  if (const auto status = check_gbench_flags(argc, argv)) return *status;
  bind_threads_unless_user_chose(argv);
  invocation.gbench = gbench_flags(argc, argv);
  GbenchArgs args;
  initialize_gbench(argc, argv, args);
  return dispatch(args.argc(), args.argv.data(), invocation);
}
