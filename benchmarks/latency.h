// The latency of a dependent load, for `roofbench calibrate`: a pointer chase through one
// random cyclic permutation of cache-line slots. Each load's address is the value the previous
// load returned, so no two loads overlap, and the order is random, so no prefetcher can guess
// the next line: the time per load is the latency of the level that holds the working set.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace roofbench {

inline constexpr std::int64_t kChaseSlotBytes = 64;  // one cache line per slot on every x86 CPU we run on

// A uniformly random permutation of 0..n-1 that is one single cycle (Sattolo's algorithm):
// following next[i] from any slot visits all n slots before it returns, so a chase really walks
// the whole working set and never settles into a short loop that fits a smaller cache. The
// random numbers come from a fixed-seed splitmix64 and a multiply-shift range reduction, both
// fully specified, so the same seed gives the same order with every compiler and library.
std::vector<std::uint32_t> cyclic_permutation(std::uint32_t n, std::uint64_t seed);

struct ChaseSettings {
  double min_seconds = 0.02;  // one timed repetition lasts at least this long: the timer is noise
  int repetitions = 5;        // the lowest time per load of these is reported
  // Called before each timed repetition, outside the timing: the calibration waits there while
  // the measurement canary says the machine runs slow (measure.h gate), as for every other figure.
  std::function<void()> before_repetition = {};
};

// Nanoseconds per load of a one-thread chase over `bytes` (rounded down to whole slots, at least
// two), best (lowest) of the repetitions: on a shared machine interference only adds time. The
// buffer is asked for transparent huge pages (madvise): with 4 KiB pages a random walk over more
// than the TLBs cover (a few MiB) also pays a page walk per load, which is not the cache's latency.
// Whether the kernel grants them depends on /sys/kernel/mm/transparent_hugepage/enabled.
double chase_ns_per_load(std::int64_t bytes, const ChaseSettings& s);

}  // namespace roofbench
