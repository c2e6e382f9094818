// What happens before any subcommand parses: Google Benchmark's flags, checked and handed to
// it, and the re-exec that binds OpenMP's threads to cores.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roofbench {

// Google Benchmark's flags that run's own options defer to.
struct GbenchFlags {
  bool sets_repetitions = false;
  std::string repetitions;  // the value of --benchmark_repetitions, when set
  bool sets_min_time = false;
  std::string filter;  // --benchmark_filter
};

GbenchFlags gbench_flags(int argc, char** argv);

// Google Benchmark reports a bad value of its own flags on a line of its own and leaves the
// flag for CLI11 to reject again: checked first, so the error stays one line. Returns the exit
// status of such an error, having printed it.
std::optional<int> check_gbench_flags(int argc, char** argv);

// Sets OMP_PROC_BIND and OMP_PLACES and re-executes this binary, unless the user set them.
void bind_threads_unless_user_chose(char** argv);

// The command line after Google Benchmark's Initialize took its flags. `storage` keeps the
// strings that the returned pointers may point into.
struct GbenchArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv;  // null-terminated
  int argc() const { return static_cast<int>(argv.size()) - 1; }
};
void initialize_gbench(int argc, char** argv, GbenchArgs& out);

}  // namespace roofbench
