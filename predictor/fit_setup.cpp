#include <fmt/format.h>
#include <gsl/gsl_errno.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "kernels/core/cost.h"
#include "kernels/core/shape.h"
#include "predictor/fit_problem.h"

namespace roofbench {

using namespace fit_detail;

double compute_roof(const Profile& machine, DType d, int threads) {
  double roof = machine_peak(machine, d, threads);
  for (const PeakEntry& e : machine.peaks)
    if (e.threads == threads && e.roof && (e.dtype == name(d) || e.dtype == "f32")) roof = std::max(roof, e.ops_per_s);
  return roof;
}

double bandwidth_ceiling(const Profile& machine, std::size_t level, int threads) {
  // A level the machine has no figure for takes the nearest one towards the core (never
  // slower), else the nearest beyond it.
  for (std::size_t d = 0; d < kLevels; ++d) {
    if (level >= d)
      if (const double bw = machine_read_bandwidth(machine, level - d, threads); bw > 0) return kBandwidthMargin * bw;
    if (level + d < kLevels)
      if (const double bw = machine_read_bandwidth(machine, level + d, threads); bw > 0) return kBandwidthMargin * bw;
  }
  throw ProfileError(fmt::format("no read bandwidth measured at {} threads", threads));
}

namespace fit_detail {

namespace {

bool is_active_somewhere(const Setup& st, std::size_t i) {
  return contains(st.base, i) || contains(st.halves, i) || contains(st.packs, i);
}

// What the timings show before any fit, which the start and the bounds are made of.
struct Observed {
  double best_ops_rate = 0;
  std::vector<double> best_bytes_rate = std::vector<double>(kLevels, 0);
  double fastest = INFINITY;  // least time of any point
  double time_per_group = INFINITY, time_per_region = INFINITY;
  bool regions_vary = false;
};

void check_samples(std::span<const Sample> samples) {
  if (samples.empty()) throw std::invalid_argument("fit_kernel: no samples");
  for (const Sample& s : samples)
    if (shape_class(s.run) != shape_class(samples.front().run))
      throw std::invalid_argument("fit_kernel: samples of different shape classes");
}

Observed add_points(Setup& st, const Profile& machine, const Kernel& kernel, int threads,
                    std::span<const Sample> samples) {
  Observed seen;
  for (const Sample& s : samples) {
    if (!(s.seconds >= kMinSeconds && s.seconds <= kMaxSeconds))
      throw std::invalid_argument(fmt::format("a training time of {:g} s ({}) is outside {:g} to {:g} s: not a timing",
                                              s.seconds, to_string(s.run), kMinSeconds, kMaxSeconds));
    const MemoryPlace place =
        memory_place(machine, working_set(s.run, kernel.impl, kernel.dtype, threads), threads, false);
    const auto li = static_cast<std::size_t>(
        std::find(std::begin(kMemoryLevels), std::end(kMemoryLevels), place.level) - std::begin(kMemoryLevels));
    const ComputeWork w = compute_work(s.run, kernel.impl, kernel.dtype, threads, st.blocking);
    // The point's bytes are scaled by the machine curve, so the fitted figure is the level's plateau.
    const Point pt{
        w.ops,
        static_cast<double>(bytes(s.run, kernel.dtype) + added_bytes(s.run, kernel.impl, kernel.dtype)) / place.scale,
        s.seconds,
        li,
        static_cast<double>(groups(s.run)),
        w.regions,
        w.packed,
        w.mnk};
    seen.best_ops_rate = std::max(seen.best_ops_rate, pt.ops / pt.seconds);
    seen.best_bytes_rate[li] = std::max(seen.best_bytes_rate[li], pt.bytes / pt.seconds);
    st.prob.points.push_back(pt);
  }
  for (const Point& pt : st.prob.points) seen.fastest = std::min(seen.fastest, pt.seconds);
  for (const Point& pt : st.prob.points) {
    if (pt.groups > 0) seen.time_per_group = std::min(seen.time_per_group, pt.seconds / pt.groups);
    if (pt.regions > 0) seen.time_per_region = std::min(seen.time_per_region, pt.seconds / pt.regions);
    seen.regions_vary = seen.regions_vary || pt.regions != st.prob.points.front().regions;
  }
  return seen;
}

// An op whose every training point sits far below the machine's ridge (an mv: ops grow with
// bytes) cannot tell a compute roof from a bandwidth: both scale alike. Its compute roof is
// then the machine's peak, not a parameter the fit could use to explain memory time.
void fix_unobservable_compute(Setup& st, const Profile& machine, const Kernel& kernel, int threads) {
  const double peak = st.peak = machine_peak(machine, kernel.dtype, threads);
  st.compute_observable = std::any_of(st.prob.points.begin(), st.prob.points.end(), [&](const Point& pt) {
    const double bw = machine_read_bandwidth(machine, pt.level, threads);
    return bw <= 0 || pt.ops / peak > 0.3 * pt.bytes / bw;
  });
  if (!st.compute_observable) st.prob.fixed_compute = peak;
}

// Start from what the timings already show: the best rates seen are lower bounds of the roofs.
void start_roofs(Setup& st, const Profile& machine, int threads, const Observed& seen) {
  st.x0[kCompute] = std::log(seen.best_ops_rate);
  for (std::size_t l = 0; l < kLevels; ++l)
    st.x0[1 + l] = std::log(std::max({seen.best_bytes_rate[l], machine_read_bandwidth(machine, l, threads), 1e6}));
  st.x0[kOverhead] = std::log(std::max(1e-8, 0.5 * seen.fastest));
}

// The terms the fit may move and where they start. A tenth of the least time per group (per
// region) seen: small enough to leave the roofs to explain the rest, large enough for the
// simplex to reach the real figure in a few steps. Blocking fits count their groups' set-up
// among their regions.
// A region count that is the same on every point (a GEMM: one region, two barriers) cannot be
// told from the fixed overhead, which then carries it.
// A term whose count keeps one proportion to the bytes at every point (the rows of MVs that
// all have the same k) is the bandwidth again under another name: the two would trade freely.
void choose_terms(Setup& st, const Kernel& kernel, const Observed& seen) {
  const Problem& prob = st.prob;
  const auto varies = [&](const auto& ratio) {
    double least = INFINITY, most = 0;
    for (const Point& pt : prob.points) {
      least = std::min(least, ratio(pt));
      most = std::max(most, ratio(pt));
    }
    return most > 1.2 * least;
  };
  st.base = {kCompute, 1, 2, 3, 4, kOverhead};
  if (prob.fixed_compute > 0) st.base.erase(st.base.begin());
  if (st.blocking && seen.regions_vary) {
    st.x0[kRegionOverhead] = std::log(0.1 * seen.time_per_region);
    st.base.push_back(kRegionOverhead);
  } else if (std::isfinite(seen.time_per_group) && varies([](const Point& pt) { return pt.groups / pt.bytes; })) {
    st.x0[kGroupOverhead] = std::log(0.1 * seen.time_per_group);
    st.base.push_back(kGroupOverhead);
  }
  // Half-lengths start at 2 elements: no stretch to speak of until the data asks for one. Only
  // along a dimension the points vary in, and only with a compute roof to stretch: a half-length
  // on a constant dimension (N = 1 of every mv) is the compute roof again under another name.
  for (std::size_t i = 0; i < 3; ++i) st.x0[kHalf + i] = std::log(2.0);
  // Nor for mv: bound by its bytes at every size, its compute term is never what a stretch
  // would be fitted to, so one would only bend to a disturbed timing.
  for (std::size_t i = 0; i < 3 && prob.fixed_compute == 0 && kernel.op != Op::mv; ++i)
    if (std::any_of(prob.points.begin(), prob.points.end(),
                    [&](const Point& pt) { return pt.mnk[i] != prob.points.front().mnk[i]; }))
      st.halves.push_back(kHalf + i);
  // The packing pass, where the kernel packs per call and not in the same proportion to its
  // work at every point (else it is the compute roof under another name). It starts at a
  // fifth of the time of the point that packs most for its time.
  double lo = INFINITY, hi = 0, rate = 0;
  for (const Point& pt : prob.points)
    if (pt.packed > 0 && pt.ops > 0) {
      lo = std::min(lo, pt.packed / pt.ops);
      hi = std::max(hi, pt.packed / pt.ops);
      rate = std::max(rate, pt.packed / (0.2 * pt.seconds));
    }
  if (st.blocking && hi > 1.2 * lo) {
    st.x0[kPack] = std::log(rate);
    st.packs = {kPack};
  }
}

// The bounds (fit.h "Bounds"). Ceilings are what the machine or the timings allow; floors
// keep the simplex on finite numbers: a rate kFloor times below the best the timings show
// explains none of them, nor does an overhead a millionth of the fastest. An optional term at
// its floor (a thousandth of its ceiling; a thousandth of an element for a half-length) adds
// at most 0.1% to any timing: it is no term, and fit_terms drops it.
void set_bounds(Setup& st, const Profile& machine, int threads, const Observed& seen, double max_compute) {
  constexpr double kFloor = 100, kNoTerm = 1e-3;
  const Problem& prob = st.prob;
  auto& lo_ = st.prob.lo;
  auto& hi_ = st.prob.hi;
  hi_[kCompute] = std::log(max_compute);
  lo_[kCompute] = std::log(seen.best_ops_rate / kFloor);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const double ceiling = bandwidth_ceiling(machine, l, threads);
    hi_[1 + l] = std::log(ceiling);
    lo_[1 + l] = std::log((seen.best_bytes_rate[l] > 0 ? seen.best_bytes_rate[l] : ceiling) / kFloor);
  }
  hi_[kOverhead] = std::log(seen.fastest);
  lo_[kOverhead] = std::log(seen.fastest * 1e-6);
  hi_[kGroupOverhead] = std::log(seen.time_per_group);
  lo_[kGroupOverhead] = std::log(seen.time_per_group * kNoTerm);
  hi_[kRegionOverhead] = std::log(seen.time_per_region);
  lo_[kRegionOverhead] = std::log(seen.time_per_region * kNoTerm);
  for (std::size_t i = 0; i < 3; ++i) {
    double longest = 1;
    for (const Point& pt : prob.points) longest = std::max(longest, pt.mnk[i]);
    hi_[kHalf + i] = std::log(kHalfLengthMargin * longest);
    lo_[kHalf + i] = std::log(kNoTerm);
  }
  // The packing pass is no longer than any call it is part of, and no faster than the core
  // reads its L1 (an element is at least a byte).
  double slowest_pack = 0;
  for (const Point& pt : prob.points) slowest_pack = std::max(slowest_pack, pt.packed / pt.seconds);
  hi_[kPack] = std::log(bandwidth_ceiling(machine, 0, threads) / threads);
  lo_[kPack] = std::log(slowest_pack);
}

// Bounds of parameters no candidate moves are any finite value; the start goes inside the bounds.
void clamp_start(Setup& st) {
  auto& lo_ = st.prob.lo;
  auto& hi_ = st.prob.hi;
  for (std::size_t i = 0; i < kParams; ++i) {
    if (!is_active_somewhere(st, i)) {
      lo_[i] = hi_[i] = 0;
      continue;
    }
    if (!std::isfinite(lo_[i]) || !std::isfinite(hi_[i]))
      throw std::invalid_argument(fmt::format("the bounds of parameter {} are not finite ({:g} to {:g})", i,
                                              std::exp(lo_[i]), std::exp(hi_[i])));
    lo_[i] = std::min(lo_[i], hi_[i]);
    st.x0[i] = std::clamp(st.x0[i], lo_[i], hi_[i]);
  }
}

}  // namespace

Setup make_setup(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples) {
  check_samples(samples);
  // GSL reports through return codes; its default handler aborts. Once: fits run in parallel.
  static std::once_flag gsl_quiet;
  std::call_once(gsl_quiet, [] { gsl_set_error_handler_off(); });

  Setup st;
  // opt knows its own blocking: its compute term is the busiest thread's padded work.
  st.blocking = kernel.work != nullptr;
  const Observed seen = add_points(st, machine, kernel, threads, samples);
  fix_unobservable_compute(st, machine, kernel, threads);
  const double max_compute = compute_roof(machine, kernel.dtype, threads);
  start_roofs(st, machine, threads, seen);
  choose_terms(st, kernel, seen);
  set_bounds(st, machine, threads, seen, max_compute);
  clamp_start(st);
  return st;
}

}  // namespace fit_detail
}  // namespace roofbench
