// `roofbench calibrate`: measures this machine's roofline (peak ops/s per dtype, bandwidth per
// memory level) and writes the hardware profile.
#pragma once

#include <string>
#include <vector>

namespace roofbench {

struct CalibrateOptions {
  bool quick = false;        // fewer repetitions and a coarser sweep: under a minute
  std::vector<int> threads;  // default: 1 and every logical CPU
  std::string out;
  std::string refit;         // refit the kernels from this profile's stored training timings, measuring nothing
  bool no_fit = false;       // machine figures only: skip the kernels' training sweep
  // This process's command line (argv[1..]): calibrate starts it again as a supervised worker
  // whose journal, OUT.journal, keeps every timing as it is taken (benchmarks/journal.h). Empty:
  // no supervisor, the work is done in this process.
  std::vector<std::string> args;
};

int calibrate_command(const CalibrateOptions& opt);

}  // namespace roofbench
