#include "benchmarks/commands/command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "kernels/core/cpu.h"

namespace roofbench {

const char* description(std::string_view subcommand) {
  for (const Command& c : commands())
    if (subcommand == c.name) return c.description;
  return "";
}

void warn_oversubscribed(const std::vector<int>& threads) {
  const int most = threads.empty() ? 0 : *std::max_element(threads.begin(), threads.end());
  if (most > cpu().logical_cpus)
    fmt::print(stderr, "roofbench: warning: {} threads on {} logical CPUs: threads will share cores\n", most,
               cpu().logical_cpus);
}

}  // namespace roofbench
