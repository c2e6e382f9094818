// `roofbench calibrate`: measures this machine's roofline (peak ops/s per dtype, bandwidth per
// memory level) and writes the hardware profile.
#pragma once

#include <algorithm>
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

// What a compute unit's peak on `threads` threads should reach when the cores deliver in
// parallel: its one-thread peak times the distinct cores the threads can occupy (logical CPUs
// over the hyperthreads per core; two threads on one core share its units). calibrate measures a
// multi-thread peak again when it falls below kPeakScalingFloor of this.
inline constexpr double kPeakScalingFloor = 0.8;
inline double expected_parallel_peak(double one_thread_ops_per_s, int threads, int logical_cpus, int threads_per_core) {
  const int cores = std::max(1, logical_cpus / std::max(1, threads_per_core));
  return one_thread_ops_per_s * std::clamp(threads, 1, cores);
}

}  // namespace roofbench
