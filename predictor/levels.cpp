#include "predictor/levels.h"

#include <algorithm>
#include <vector>

#include "kernels/core/cpu.h"

namespace roofbench {
namespace {

// What `threads` threads can use of one cache level: a private cache per thread adds up, one
// shared by all counts once. Assumes compact placement (threads fill one instance before the
// next), as OpenMP's default does on the machines this runs on. More threads than logical
// CPUs share the caches that exist instead of conjuring new ones.
std::int64_t usable(const CacheLevel& c, int threads) {
  const int t = std::clamp(threads, 1, std::max(cpu().logical_cpus, 1));
  const int shared_by = std::max(c.shared_by, 1);
  const std::int64_t instances = std::max((t + shared_by - 1) / shared_by, 1);
  return c.bytes * instances;
}

// Median of the plateau, not the mean: a sweep point disturbed by an interrupt or a
// prefetcher hiccup moves a mean, not a median.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

BandwidthEntry entry(MemoryLevel level, std::int64_t capacity, const BandwidthCurve& curve,
                     const std::vector<double>& plateau) {
  BandwidthEntry e;
  e.level = level;
  e.capacity_bytes = capacity;
  e.threads = curve.threads;
  e.bytes_per_s = median(plateau);
  e.kernel = curve.kernel;
  return e;
}

}  // namespace

std::vector<CacheCapacity> cache_capacities(int threads) {
  const CpuInfo& info = cpu();
  std::vector<CacheCapacity> out;
  const std::pair<MemoryLevel, const CacheLevel*> levels[] = {
      {MemoryLevel::L1, &info.l1d}, {MemoryLevel::L2, &info.l2}, {MemoryLevel::L3, &info.l3}};
  for (const auto& [level, c] : levels)
    if (c->bytes > 0) out.push_back({level, usable(*c, threads)});
  return out;
}

std::vector<BandwidthEntry> detect_levels(const BandwidthCurve& curve, const std::vector<CacheCapacity>& caches) {
  std::vector<BandwidthEntry> out;
  // Without a cache size there is nothing to anchor DRAM to either.
  if (caches.empty()) return out;

  // Working sets near a capacity are a mix of two levels (and of the caches' replacement
  // policies), so only sizes more than twice the level below and at most half the level
  // itself count: that keeps the transition out of both neighbours' figures.
  std::int64_t below = 0;
  for (const CacheCapacity& c : caches) {
    std::vector<double> plateau;
    for (const CurvePoint& p : curve.points)
      if (p.bytes > 2 * below && 2 * p.bytes <= c.bytes) plateau.push_back(p.bytes_per_s);
    if (!plateau.empty()) out.push_back(entry(c.level, c.bytes, curve, plateau));
    below = c.bytes;
  }

  std::vector<double> dram;
  for (const CurvePoint& p : curve.points)
    if (p.bytes >= 4 * below) dram.push_back(p.bytes_per_s);
  if (!dram.empty()) out.push_back(entry(MemoryLevel::DRAM, 0, curve, dram));
  return out;
}

}  // namespace roofbench
