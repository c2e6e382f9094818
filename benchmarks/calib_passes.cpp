// keep_faster (calibrate.h): the merge of calibrate's two passes over the machine, apart from
// calibrate_machine.cpp so the tests can link it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/calibrate.h"

namespace roofbench {

namespace {

// How far apart two passes put one figure, as a fraction of the first.
double moved(double first, double second) { return first > 0 ? std::abs(second / first - 1) : 0; }

// The point of `b` that moved most from `a`'s point at the same working set, where any moved
// more than `tolerance`; `value` reads a point's figure.
template <class Point, class Value>
std::optional<std::pair<const Point*, const Point*>> most_moved(const std::vector<Point>& a,
                                                                const std::vector<Point>& b, double tolerance,
                                                                Value&& value) {
  std::optional<std::pair<const Point*, const Point*>> worst;
  for (const Point& p : a)
    for (const Point& q : b)
      if (p.bytes == q.bytes && moved(value(p), value(q)) > tolerance &&
          (!worst || moved(value(p), value(q)) > moved(value(*worst->first), value(*worst->second))))
        worst = std::pair{&p, &q};
  return worst;
}

std::string kib(std::int64_t bytes) { return fmt::format("{} KiB", bytes >> 10); }

// The entry of `into` that `e` measures again (same(kept, e)), or nullptr once `e` is appended:
// a figure only the second pass has is kept as it is.
template <class T, class Same>
T* twin_or_append(std::vector<T>& into, const T& e, Same&& same) {
  const auto it = std::find_if(into.begin(), into.end(), [&](const T& kept) { return same(kept, e); });
  if (it != into.end()) return &*it;
  into.push_back(e);
  return nullptr;
}

// Each point of `into` takes its twin of `again` (the same working set) where better(twin, point).
template <class Point, class Better>
void keep_better_points(std::vector<Point>& into, const std::vector<Point>& again, Better&& better) {
  for (Point& p : into)
    for (const Point& q : again)
      if (p.bytes == q.bytes && better(q, p)) p = q;
}

// One figure both passes measured (a peak, a latency): the difference beyond `tolerance` is
// noted as (what, unit, first, second), and `into` keeps the better of the two.
template <class T, class Same, class Value, class Better>
void keep_better_entry(std::vector<T>& into, const T& e, Same&& same, Value&& value, Better&& better, double tolerance,
                       const std::string& what, const char* unit, std::vector<PassDifference>& out) {
  T* kept = twin_or_append(into, e, same);
  if (!kept) return;
  if (moved(value(*kept), value(e)) > tolerance) out.push_back({what, unit, value(*kept), value(e)});
  if (better(value(e), value(*kept))) *kept = e;
}

// What makes an entry of the second pass the same figure as one of the first.
bool same_unit(const PeakEntry& a, const PeakEntry& b) {
  return a.dtype == b.dtype && a.isa == b.isa && a.threads == b.threads;
}
bool same_chase(const LatencyEntry& a, const LatencyEntry& b) {
  return a.level == b.level && a.bytes == b.bytes && a.threads == b.threads;
}

}  // namespace

std::vector<PassDifference> keep_faster(Profile& into, const Profile& again) {
  std::vector<PassDifference> out;
  for (const PeakEntry& e : again.peaks)
    keep_better_entry(
        into.peaks, e, same_unit, [](const PeakEntry& x) { return x.ops_per_s; }, std::greater<>(), 0.02,
        fmt::format("peak {} {}, {} threads", e.dtype, e.isa, e.threads), "ops/s", out);
  for (const BandwidthCurve& c : again.curves) {
    BandwidthCurve* kept = twin_or_append(into.curves, c, [](const BandwidthCurve& a, const BandwidthCurve& b) {
      return a.kernel == b.kernel && a.threads == b.threads;
    });
    if (!kept) continue;
    const auto rate = [](const CurvePoint& p) { return p.bytes_per_s; };
    if (const auto w = most_moved(kept->points, c.points, 0.05, rate))
      out.push_back({fmt::format("{} bandwidth, {} threads, {} (the size that moved most)", c.kernel, c.threads,
                                 kib(w->first->bytes)),
                     "bytes/s", w->first->bytes_per_s, w->second->bytes_per_s});
    keep_better_points(kept->points, c.points,
                       [&](const CurvePoint& q, const CurvePoint& p) { return rate(q) > rate(p); });
  }
  for (const LatencyEntry& e : again.latency)
    keep_better_entry(
        into.latency, e, same_chase, [](const LatencyEntry& x) { return x.ns_per_load; }, std::less<>(), 0.05,
        fmt::format("latency {}, {}", name(e.level), kib(e.bytes)), "ns/load", out);
  const auto ns = [](const LatencyPoint& p) { return p.ns_per_load; };
  if (const auto w = most_moved(into.latency_curve, again.latency_curve, 0.05, ns))
    out.push_back({fmt::format("latency curve, {} (the size that moved most)", kib(w->first->bytes)), "ns/load",
                   w->first->ns_per_load, w->second->ns_per_load});
  keep_better_points(into.latency_curve, again.latency_curve,
                     [&](const LatencyPoint& q, const LatencyPoint& p) { return ns(q) < ns(p); });
  return out;
}

}  // namespace roofbench
