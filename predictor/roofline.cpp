#include "predictor/roofline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "kernels/cost.h"

namespace roofbench {
namespace {

const BandwidthEntry* machine_bandwidth(const Profile& p, std::string_view level, int threads) {
  for (const BandwidthEntry& b : p.bandwidth)
    if (b.level == level && b.threads == threads && b.kernel == "read") return &b;
  return nullptr;
}

double machine_peak(const Profile& p, DType d, int threads) {
  // i4 computes on the i8 units once unpacked: its roof is the i8 one unless calibrated itself.
  for (std::string_view want : {name(d), d == DType::i4 ? name(DType::i8) : name(d)})
    for (const PeakEntry& e : p.peaks)
      if (e.dtype == want && e.threads == threads) return e.ops_per_s;
  throw ProfileError(fmt::format("the profile has no {} peak at {} threads (calibrate with --threads {})", name(d),
                                 threads, threads));
}

std::size_t level_index(std::string_view level) {
  const auto* it = std::find(std::begin(kMemoryLevels), std::end(kMemoryLevels), level);
  return static_cast<std::size_t>(it - std::begin(kMemoryLevels));
}

}  // namespace

std::string memory_level(const Profile& p, std::int64_t working_set, int threads, bool cold) {
  if (!cold)
    for (const char* level : {"L1", "L2", "L3"})
      if (const BandwidthEntry* b = machine_bandwidth(p, level, threads); b && working_set <= b->capacity_bytes)
        return level;
  return "DRAM";
}

double blend(double a, double b, double p) {
  if (p <= 0) return std::max(a, b);
  const double hi = std::max(a, b);
  if (hi <= 0) return 0;
  // Scaled by the larger term so a^p cannot overflow for large p.
  return hi * std::pow(std::pow(a / hi, p) + std::pow(b / hi, p), 1 / p);
}

Prediction predict_fitted(const KernelFit& k, const Shape& run, DType d, std::string_view level) {
  Prediction out;
  out.level = level;
  out.t_compute = static_cast<double>(ops(run)) / k.compute_ops_per_s;
  out.t_memory = static_cast<double>(bytes(run, d)) / k.bytes_per_s.at(level_index(level));
  out.overhead = k.overhead_s;
  out.seconds = k.overhead_s + blend(out.t_compute, out.t_memory, k.blend);
  out.bound = out.t_compute >= out.t_memory ? "compute" : std::string(level);
  out.fitted = true;
  return out;
}

const KernelFit* find_fit(const Profile& p, Op op, Impl impl, DType d, int threads) {
  for (const KernelFit& k : p.kernels)
    if (k.op == name(op) && k.impl == name(impl) && k.dtype == name(d) && k.threads == threads) return &k;
  return nullptr;
}

Prediction predict(const Profile& p, const Shape& run, Impl impl, DType d, int threads, bool cold) {
  const std::string level = memory_level(p, footprint_bytes(run, d), threads, cold);
  const BandwidthEntry* bw = machine_bandwidth(p, level, threads);
  if (!bw)
    throw ProfileError(fmt::format("the profile has no {} read bandwidth at {} threads (calibrate with --threads {})",
                                   level, threads, threads));
  const double classic_compute = static_cast<double>(ops(run)) / machine_peak(p, d, threads);
  const double classic_memory = static_cast<double>(bytes(run, d)) / bw->bytes_per_s;

  Prediction out;
  if (const KernelFit* k = find_fit(p, run.op(), impl, d, threads)) {
    out = predict_fitted(*k, run, d, level);
  } else {
    out.level = level;
    out.t_compute = classic_compute;
    out.t_memory = classic_memory;
    out.seconds = std::max(classic_compute, classic_memory);
    out.bound = classic_compute >= classic_memory ? "compute" : level;
  }
  out.classic_s = std::max(classic_compute, classic_memory);
  out.classic_bound = classic_compute >= classic_memory ? "compute" : level;
  return out;
}

}  // namespace roofbench
