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
};

int calibrate_command(const CalibrateOptions& opt);

}  // namespace roofbench
