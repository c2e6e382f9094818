// `roofbench calibrate`: measures this machine's roofline (peak ops/s per dtype, bandwidth per
// memory level) and writes the hardware profile.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "predictor/profile.h"

namespace roofbench {

struct CalibrateOptions {
  bool quick = false;        // fewer repetitions and a coarser sweep: under a minute
  std::vector<int> threads;  // default: 1 and every logical CPU
  std::string out;
  std::string refit;    // refit the kernels from this profile's stored training timings, measuring nothing
  bool no_fit = false;  // machine figures only: skip the kernels' training sweep
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

// calibrate measures the machine twice, before the kernels' training sweep and after it (with
// --no-fit, one pass after the other), and keeps each figure's better value: the higher peak or
// bandwidth, the lower latency. On the 2-vCPU reference guest a unit or a level measured in one
// stretch of a few seconds could sit 8-20% below itself for all its repetitions (a steal pattern
// or a neighbour's traffic that lasts longer than the stretch), so two full calibrations
// disagreed on 8 of 30 peaks; a second look minutes later escapes such a phase. keep_faster
// merges `again` into `into` entry by entry (peaks by dtype, unit and threads; curve points
// by kernel, threads and working set; latencies by level and working set) and returns one
// what moved between the passes, for the profile (machine.second_pass) and the user: each peak
// more than 2% apart, each latency level more than 5%, and per bandwidth or latency curve the
// size that moved most when any moved more than 5% (the tolerances two calibrations are judged
// by). Bandwidth levels and spec figures derive from the merged curves and peaks: the caller
// recomputes them.
struct PassDifference {
  std::string figure;  // e.g. "peak i8 avx2 (vpmaddubsw + vpmaddwd), 2 threads"
  std::string unit;    // ops/s, bytes/s, ns/load
  double first = 0, second = 0;
};
std::vector<PassDifference> keep_faster(Profile& into, const Profile& again);

}  // namespace roofbench
