// `roofbench`, `roofbench --help`, `roofbench help [SUBCOMMAND|gbench]`: the front door, which
// needs no CPU, no re-exec and no Google Benchmark.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace roofbench {

constexpr const char* kTagline =
    "roofbench: how long should a layer take on this machine, how long does it take, and why";

// Answers the front door's own requests and returns their exit status; nullopt for any other
// command line. `roofbench help SUBCOMMAND` is `roofbench SUBCOMMAND --help`: argc and argv are
// rewritten to that, pointing into `rewritten`.
struct HelpArgs {
  std::string flag = "--help";
  std::vector<char*> argv;
};
std::optional<int> front_door(int& argc, char**& argv, HelpArgs& rewritten);

}  // namespace roofbench
