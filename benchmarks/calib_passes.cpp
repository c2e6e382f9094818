// keep_faster (calibrate.h): the merge of calibrate's two passes over the machine, apart from
// calibrate.cpp so the tests can link it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "benchmarks/calibrate.h"

namespace roofbench {

namespace {

// How far apart two passes put one figure, as a fraction of the first.
double moved(double first, double second) { return first > 0 ? std::abs(second / first - 1) : 0; }

// The point of `b` that moved most from `a`'s point at the same working set, where any moved
// more than `tolerance`; `value` reads a point's figure.
template <class Point, class Value>
std::optional<std::pair<const Point*, const Point*>> most_moved(const std::vector<Point>& a, const std::vector<Point>& b,
                                                               double tolerance, Value&& value) {
  std::optional<std::pair<const Point*, const Point*>> worst;
  for (const Point& p : a)
    for (const Point& q : b)
      if (p.bytes == q.bytes && moved(value(p), value(q)) > tolerance &&
          (!worst || moved(value(p), value(q)) > moved(value(*worst->first), value(*worst->second))))
        worst = std::pair{&p, &q};
  return worst;
}

std::string kib(std::int64_t bytes) { return fmt::format("{} KiB", bytes >> 10); }

}  // namespace

std::vector<PassDifference> keep_faster(Profile& into, const Profile& again) {
  std::vector<PassDifference> out;
  for (const PeakEntry& e : again.peaks) {
    const auto it = std::find_if(into.peaks.begin(), into.peaks.end(), [&](const PeakEntry& p) {
      return p.dtype == e.dtype && p.isa == e.isa && p.threads == e.threads;
    });
    if (it == into.peaks.end()) {
      into.peaks.push_back(e);
      continue;
    }
    if (moved(it->ops_per_s, e.ops_per_s) > 0.02)
      out.push_back({fmt::format("peak {} {}, {} threads", e.dtype, e.isa, e.threads), "ops/s", it->ops_per_s,
                     e.ops_per_s});
    if (e.ops_per_s > it->ops_per_s) *it = e;
  }
  for (const BandwidthCurve& c : again.curves) {
    const auto it = std::find_if(into.curves.begin(), into.curves.end(), [&](const BandwidthCurve& k) {
      return k.kernel == c.kernel && k.threads == c.threads;
    });
    if (it == into.curves.end()) {
      into.curves.push_back(c);
      continue;
    }
    const auto rate = [](const CurvePoint& p) { return p.bytes_per_s; };
    if (const auto w = most_moved(it->points, c.points, 0.05, rate))
      out.push_back({fmt::format("{} bandwidth, {} threads, {} (the size that moved most)", c.kernel, c.threads,
                                 kib(w->first->bytes)),
                     "bytes/s", w->first->bytes_per_s, w->second->bytes_per_s});
    for (CurvePoint& p : it->points)
      for (const CurvePoint& q : c.points)
        if (p.bytes == q.bytes && q.bytes_per_s > p.bytes_per_s) p = q;
  }
  for (const LatencyEntry& e : again.latency) {
    const auto it = std::find_if(into.latency.begin(), into.latency.end(), [&](const LatencyEntry& l) {
      return l.level == e.level && l.bytes == e.bytes && l.threads == e.threads;
    });
    if (it == into.latency.end()) {
      into.latency.push_back(e);
      continue;
    }
    if (moved(it->ns_per_load, e.ns_per_load) > 0.05)
      out.push_back({fmt::format("latency {}, {}", e.level, kib(e.bytes)), "ns/load", it->ns_per_load, e.ns_per_load});
    if (e.ns_per_load < it->ns_per_load) *it = e;
  }
  const auto ns = [](const LatencyPoint& p) { return p.ns_per_load; };
  if (const auto w = most_moved(into.latency_curve, again.latency_curve, 0.05, ns))
    out.push_back({fmt::format("latency curve, {} (the size that moved most)", kib(w->first->bytes)), "ns/load",
                   w->first->ns_per_load, w->second->ns_per_load});
  for (LatencyPoint& p : into.latency_curve)
    for (const LatencyPoint& q : again.latency_curve)
      if (p.bytes == q.bytes && q.ns_per_load < p.ns_per_load) p = q;
  return out;
}

}  // namespace roofbench
