#include "benchmarks/protocol.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace roofbench {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double coefficient_of_variation(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return mean > 0 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean : 0;
}

std::string_view rejection(const Repetition& r, const ProtocolRules& rules) {
  if (!rules.reject) return "";
  if (r.canary_ratio > 1 + rules.canary_tolerance) return "canary";
  if (r.others > rules.others_tolerance) return "others";
  if (r.waited > rules.waited_tolerance) return "waited";
  return "";
}

bool slowed(const Repetition& r, const ProtocolRules& rules) { return !rejection(r, rules).empty(); }

std::vector<double> kept_seconds(std::span<const Repetition> reps, const ProtocolRules& rules) {
  std::vector<double> kept;
  for (const Repetition& r : reps)
    if (!slowed(r, rules)) kept.push_back(r.seconds);
  return kept;
}

Estimate estimate(std::span<const Repetition> reps, const ProtocolRules& rules) {
  Estimate e;
  std::vector<double> kept = kept_seconds(reps, rules), all;
  for (const Repetition& r : reps) all.push_back(r.seconds);
  e.kept = static_cast<int>(kept.size());
  e.rejected = static_cast<int>(all.size() - kept.size());
  e.lived_seconds = median(all);
  if (all.empty()) return e;
  if (kept.empty()) {
    // The machine never ran at its own speed for this row: the repetitions it ran fastest
    // (canary within the tolerance of the row's least) stand in, and the row stays unconverged.
    double least = reps.front().canary_ratio;
    for (const Repetition& r : reps) least = std::min(least, r.canary_ratio);
    for (const Repetition& r : reps)
      if (r.canary_ratio <= least * (1 + rules.canary_tolerance)) kept.push_back(r.seconds);
  }
  e.cv = coefficient_of_variation(kept);
  std::sort(kept.begin(), kept.end());
  e.seconds = kept.front();
  e.lo = kept.front();
  e.hi = kept[std::min<std::size_t>(2, kept.size() - 1)];
  e.slowdown = e.seconds > 0 ? e.lived_seconds / e.seconds : 1;
  const double mid = 0.5 * (e.lo + e.hi);
  e.converged = e.kept >= rules.min_kept && e.kept >= 3 && e.seconds > 0 && e.hi - mid <= rules.target_halfwidth * mid;
  return e;
}

int repetitions_to_add(const Estimate& e, int taken, int step, int max_repetitions, const ProtocolRules& rules) {
  if (e.converged || taken >= max_repetitions) return 0;
  const int wanted = std::max({1, step, rules.min_kept - e.kept});
  return std::min(wanted, max_repetitions - taken);
}

}  // namespace roofbench
