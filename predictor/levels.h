// Memory levels from a bandwidth sweep, anchored to the cache sizes the system reports: the
// level of a cache is the plateau of working sets well inside it (more than twice the level
// below, at most half of it), DRAM the sizes of at least four times the last-level cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "predictor/profile.h"

namespace roofbench {

struct CacheCapacity {
  MemoryLevel level = MemoryLevel::L1;  // L1, L2 or L3
  std::int64_t bytes = 0;               // what `threads` threads can use together: private caches summed
};

// The capacities of L1d, L2 and L3 for `threads` threads, from cpu() (sysfs).
std::vector<CacheCapacity> cache_capacities(int threads);

// One BandwidthEntry per level that has at least one sweep point on its plateau (the median of
// those points), plus DRAM when the sweep reaches 4x the largest cache.
std::vector<BandwidthEntry> detect_levels(const BandwidthCurve& curve, const std::vector<CacheCapacity>& caches);

}  // namespace roofbench
