#include "benchmarks/protocol.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace roofbench {
namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// splitmix64: a tiny generator with a fixed sequence per seed, so the same repetitions always
// give the same interval (a test can pin it; two runs differ only by their timings).
std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double cv_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return mean > 0 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean : 0;
}

}  // namespace

std::string_view rejection(const Repetition& r, const ProtocolRules& rules) {
  if (!rules.reject) return "";
  if (r.canary_ratio > 1 + rules.canary_tolerance) return "canary";
  if (r.others > rules.others_tolerance) return "others";
  return "";
}

bool slowed(const Repetition& r, const ProtocolRules& rules) {
  return rules.reject && (r.canary_ratio > 1 + rules.canary_tolerance || r.others > rules.others_tolerance);
}

std::vector<double> kept_seconds(std::span<const Repetition> reps, const ProtocolRules& rules) {
  std::vector<double> kept;
  for (const Repetition& r : reps)
    if (!slowed(r, rules)) kept.push_back(rules.normalise && r.canary_ratio > 0 ? r.seconds / r.canary_ratio : r.seconds);
  return kept;
}

Estimate estimate(std::span<const Repetition> reps, const ProtocolRules& rules) {
  Estimate e;
  std::vector<double> kept = kept_seconds(reps, rules), all;
  for (const Repetition& r : reps) {
    all.push_back(r.seconds);
    if (slowed(r, rules)) ++e.rejected;
  }
  e.kept = static_cast<int>(kept.size());
  e.lived_seconds = median_of(all);
  if (all.empty()) return e;
  if (kept.empty()) {
    // The machine never ran at its own speed for this row: the repetitions it ran fastest
    // (canary within the tolerance of the row's least) stand in, and the row stays unconverged.
    double least = reps.front().canary_ratio;
    for (const Repetition& r : reps) least = std::min(least, r.canary_ratio);
    for (const Repetition& r : reps)
      if (r.canary_ratio <= least * (1 + rules.canary_tolerance)) kept.push_back(r.seconds);
  }
  e.seconds = median_of(kept);
  e.cv = cv_of(kept);
  e.slowdown = e.seconds > 0 ? e.lived_seconds / e.seconds : 1;
  // Percentile bootstrap of the median: resample the kept repetitions with replacement.
  std::vector<double> medians(static_cast<std::size_t>(std::max(1, rules.bootstrap_samples)));
  std::uint64_t seed = 0x5eed0000ULL + kept.size();
  std::vector<double> draw(kept.size());
  for (double& m : medians) {
    for (double& d : draw) d = kept[next(seed) % kept.size()];
    m = median_of(draw);
  }
  std::sort(medians.begin(), medians.end());
  const auto at = [&](double q) {
    return medians[std::min(medians.size() - 1, static_cast<std::size_t>(q * static_cast<double>(medians.size())))];
  };
  e.lo = at(0.025);
  e.hi = at(0.975);
  e.converged = e.kept >= rules.min_kept && e.kept == static_cast<int>(kept.size()) && e.seconds > 0 &&
                std::max(e.seconds - e.lo, e.hi - e.seconds) <= rules.target_halfwidth * e.seconds;
  return e;
}

int repetitions_to_add(const Estimate& e, int taken, int step, int max_repetitions, const ProtocolRules& rules) {
  if (e.converged || taken >= max_repetitions) return 0;
  const int wanted = std::max({1, step, rules.min_kept - e.kept});
  return std::min(wanted, max_repetitions - taken);
}

}  // namespace roofbench
