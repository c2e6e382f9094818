#include "benchmarks/commands/help.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <string_view>

#include "benchmarks/commands/command.h"
#include "kernels/core/text_file.h"

namespace roofbench {

namespace {

// Every error is one line: a message quoting a file's bytes is escaped and kept this short.
constexpr std::size_t kMessageBytes = 600;

// The front door: `roofbench`, `roofbench --help`, `-h` and `help` print this.
void print_usage(std::FILE* to) {
  fmt::print(to, "{}\n\nusage: roofbench SUBCOMMAND [options]\n\n", kTagline);
  for (const Command& c : commands()) fmt::print(to, "  {:<10} {}\n", c.name, c.description);
  fmt::print(to,
             "\nroofbench SUBCOMMAND --help for its options (or roofbench help SUBCOMMAND).\n"
             "run also accepts Google Benchmark's --benchmark_* flags (e.g. --benchmark_filter=gemm, "
             "--benchmark_repetitions=N);\nroofbench help gbench (or roofbench --help-gbench) lists them.\n");
}

// Google Benchmark's own flag list, which its Initialize would otherwise print for any --help.
void print_gbench_help() {
  fmt::print("Google Benchmark's flags, accepted by `roofbench run` (read `benchmark` below as `roofbench run`):\n\n");
  std::fflush(stdout);  // PrintDefaultHelp writes with printf, after ours
  benchmark::PrintDefaultHelp();
}

}  // namespace

std::optional<int> front_door(int& argc, char**& argv, HelpArgs& rewritten) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (argc == 1) {
    print_usage(stderr);  // a command line that does nothing is a usage error
    return 2;
  }
  if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
    print_usage(stdout);
    return 0;
  }
  if (first == "--help-gbench" || (first == "help" && std::string_view(argv[2]) == "gbench")) {
    print_gbench_help();
    return 0;
  }
  if (first != "help") return std::nullopt;
  if (std::string_view(description(argv[2])).empty()) {
    std::vector<std::string_view> names;
    for (const Command& c : commands()) names.push_back(c.name);
    fmt::print(stderr, "roofbench: error: help: unknown command '{}' (commands: {}, or gbench)\n",
               printable(argv[2], kMessageBytes), fmt::join(names, ", "));
    return 2;
  }
  rewritten.argv = {argv[0], argv[2], rewritten.flag.data(), nullptr};
  argc = 3;
  argv = rewritten.argv.data();
  return std::nullopt;
}

}  // namespace roofbench
