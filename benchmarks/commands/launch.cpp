#include "benchmarks/commands/launch.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <sched.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "kernels/core/text_file.h"

namespace roofbench {

namespace {

bool has_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).rfind(flag, 0) == 0) return true;
  return false;
}

// The value of --flag=value (the last one wins, as in Google Benchmark), or "".
std::string flag_value(int argc, char** argv, std::string_view flag) {
  std::string value;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a.size() > flag.size() && a.rfind(flag, 0) == 0 && a[flag.size()] == '=') value = a.substr(flag.size() + 1);
  }
  return value;
}

}  // namespace

GbenchFlags gbench_flags(int argc, char** argv) {
  GbenchFlags f;
  f.sets_repetitions = has_flag(argc, argv, "--benchmark_repetitions");
  f.repetitions = flag_value(argc, argv, "--benchmark_repetitions");
  f.sets_min_time = has_flag(argc, argv, "--benchmark_min_time");
  f.filter = flag_value(argc, argv, "--benchmark_filter");
  return f;
}

std::optional<int> check_gbench_flags(int argc, char** argv) {
  for (const auto& [flag, value] :
       {std::pair{"--benchmark_repetitions", flag_value(argc, argv, "--benchmark_repetitions")},
        std::pair{"--benchmark_min_time", flag_value(argc, argv, "--benchmark_min_time")}}) {
    if (!has_flag(argc, argv, flag)) continue;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    const bool integer = std::string_view(flag) == "--benchmark_repetitions";
    if (value.empty() || *end != '\0' || !(v > 0) || v > 1e6 || (integer && v != std::floor(v))) {
      fmt::print(stderr, "roofbench: error: {}={}: expected a positive {}\n", flag, printable(value),
                 integer ? "integer" : "number of seconds");
      return 2;
    }
  }
  return std::nullopt;
}

// OpenMP reads OMP_PLACES and OMP_PROC_BIND once, when the runtime loads, so they are set by
// re-executing the binary. Unbound threads let the scheduler stack both of a 2-core machine's
// threads on one core for a while: a 2-thread FMA peak measured 1x the 1-thread one.
void bind_threads_unless_user_chose(char** argv) {
  if (std::getenv("OMP_PROC_BIND") || std::getenv("OMP_PLACES") || std::getenv("ROOFBENCH_REEXEC")) return;
  setenv("OMP_PROC_BIND", "close", 1);
  setenv("OMP_PLACES", "cores", 1);
  setenv("ROOFBENCH_REEXEC", "1", 1);
  // With OMP_PROC_BIND set, libgomp pins the initial thread to the first place as it loads, so
  // the re-executed process runs on one core; the CPUs allowed now are kept for the worker that
  // run and calibrate start from it (supervisor.cpp), which would otherwise inherit that one core.
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    std::string list;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &allowed)) continue;
      if (!list.empty()) list += ',';
      list += std::to_string(c);
    }
    setenv("ROOFBENCH_AFFINITY", list.c_str(), 1);
  }
  execv("/proc/self/exe", argv);  // returns only on failure: then run unbound
}

void initialize_gbench(int argc, char** argv, GbenchArgs& out) {
  // The strings that replace or join argv's: fixed before pointers into them are taken.
  out.storage = {"-h", "--benchmark_enable_random_interleaving=true"};
  out.argv.assign(argv, argv + argc);
  // Google Benchmark's Initialize prints its own flag list and exits on --help anywhere on the
  // command line, which hid every subcommand's options. It ignores -h, which CLI11 takes as
  // --help: the subcommand's own help wins, and `roofbench help gbench` still shows Google's.
  for (char*& a : out.argv)
    if (std::string_view(a) == "--help") a = out.storage[0].data();
  // Repetitions of different benchmarks are interleaved in random order unless the user says
  // otherwise: on a shared, noisy machine a slow minute then hits every implementation alike,
  // which is what makes ratios within one run meaningful. Not in calibrate: its points are
  // fitted one by one (a disturbed one is timed again), and its sweep of over a thousand
  // problems, many of 100 MB, would otherwise rebuild their buffers at nearly every visit.
  const bool calibrating = argc > 1 && std::string_view(argv[1]) == "calibrate";
  if (!calibrating && !has_flag(argc, argv, "--benchmark_enable_random_interleaving"))
    out.argv.insert(out.argv.begin() + 1, out.storage[1].data());
  int count = static_cast<int>(out.argv.size());
  out.argv.push_back(nullptr);
  benchmark::Initialize(&count, out.argv.data());
  out.argv.resize(static_cast<std::size_t>(count));
  out.argv.push_back(nullptr);
}

}  // namespace roofbench
