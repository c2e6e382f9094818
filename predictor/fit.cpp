#include "predictor/fit.h"

#include <fmt/format.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "kernels/core/shape.h"
#include "predictor/parallel.h"
#include "predictor/roofline.h"

namespace roofbench {
namespace {

constexpr std::size_t kLevels = std::size(kMemoryLevels);
// Parameters, in log space (every one is positive): compute, one bandwidth per level, overhead,
// overhead per group, overhead per parallel region, the half-lengths along M, N and K, the
// packing rate (elements per second of the busiest thread).
constexpr std::size_t kCompute = 0, kOverhead = 1 + kLevels, kGroupOverhead = 2 + kLevels,
                      kRegionOverhead = 3 + kLevels, kHalf = 4 + kLevels, kPack = 7 + kLevels, kParams = 8 + kLevels;

struct Point {
  double ops, bytes, seconds;
  std::size_t level;
  double groups;   // roofline.h groups(): grouped and depthwise conv2d, mv outputs; else 0
  double regions;  // parallel regions and barriers (blocking fits)
  double packed;   // elements the busiest thread packs (blocking fits)
  std::array<double, 3> mnk;
};

struct Problem {
  std::vector<Point> points;
  double blend = 0;
  double fixed_compute = 0;  // > 0: the compute roof is not fitted but this
  // Every parameter's bounds, in log space, finite (make_setup; fit.h "Bounds").
  std::array<double, kParams> lo{}, hi{};
  // The parameters the simplex moves (a term with nothing to fit on, the per-group overhead of
  // dense shapes say, would be a flat direction that keeps the simplex from ever converging).
  // Inactive overheads and half-lengths are 0.
  std::vector<std::size_t> active;
  // Active parameters held at a bound they ran past (fit_terms): in the model, not moved.
  std::vector<std::size_t> pinned;
};

bool contains(const std::vector<std::size_t>& v, std::size_t i) {
  return std::find(v.begin(), v.end(), i) != v.end();
}
bool is_active(const Problem& prob, std::size_t i) {
  return contains(prob.active, i);
}

// A parameter inside its bounds.
double param(const Problem& prob, const double* x, std::size_t i) {
  return std::clamp(x[i], prob.lo[i], prob.hi[i]);
}

// A level further from the core is never read faster than a nearer one. Without this, two
// points in a level, one of them disturbed, let the fit give that level the disturbed point's
// bandwidth while the levels around it stay fast. While the simplex searches, a level's rate
// may pass its own ceiling (fit_terms pins it there afterwards) but not the fastest level's:
// a compute-bound level could otherwise take any rate up to infinity.
double log_bandwidth(const Problem& prob, const double* x, std::size_t level) {
  const double own = std::min(x[1 + level], prob.hi[1]);
  return level == 0 ? own : std::min(own, log_bandwidth(prob, x, level - 1));
}

// A term's value: exp of its parameter when the fit moves it, else 0 (not fitted: absent).
double term(const Problem& prob, const double* x, std::size_t i) {
  return is_active(prob, i) ? std::exp(x[i]) : 0;
}

double model_seconds(const Problem& prob, const double* x, const Point& pt) {
  const double compute =
      prob.fixed_compute > 0 ? prob.fixed_compute : std::exp(std::min(x[kCompute], prob.hi[kCompute]));
  const std::array<double, 3> half{term(prob, x, kHalf), term(prob, x, kHalf + 1), term(prob, x, kHalf + 2)};
  return std::exp(x[kOverhead]) + pt.groups * term(prob, x, kGroupOverhead) +
         pt.regions * term(prob, x, kRegionOverhead) + (is_active(prob, kPack) ? pt.packed * std::exp(-x[kPack]) : 0) +
         blend(pt.ops / compute * stretch(pt.mnk, half), pt.bytes / std::exp(log_bandwidth(prob, x, pt.level)),
               prob.blend);
}

struct Evaluation {
  const Problem* prob;
  std::vector<std::size_t> moving;  // active, not pinned
  mutable std::array<double, kParams> x;
};

// Absolute, not squared: on a noisy machine one disturbed training timing should pull the fit
// no harder than any other point (a median-like fit, not a mean-like one).
double abs_log_error(const gsl_vector* v, void* data) {
  const auto& e = *static_cast<const Evaluation*>(data);
  for (std::size_t i = 0; i < e.moving.size(); ++i) e.x[e.moving[i]] = v->data[i];
  double sum = 0;
  for (const Point& pt : e.prob->points) sum += std::abs(std::log(model_seconds(*e.prob, e.x.data(), pt) / pt.seconds));
  return std::isfinite(sum) ? sum : 1e300;
}

struct MinimizerDeleter {
  void operator()(gsl_multimin_fminimizer* m) const { gsl_multimin_fminimizer_free(m); }
};
struct VectorDeleter {
  void operator()(gsl_vector* v) const { gsl_vector_free(v); }
};
using VectorPtr = std::unique_ptr<gsl_vector, VectorDeleter>;

// Nelder-Mead over the active parameters that are not pinned, from x, restarted from its own
// result until a restart no longer improves: a simplex can collapse onto a face of a piecewise
// (max) objective, and a fresh one escapes. x holds every parameter; the others are left as
// they are. Returns the error at x.
double minimise(const Problem& prob, std::array<double, kParams>& x) {
  Evaluation eval{&prob, {}, x};
  for (const std::size_t i : prob.active)
    if (!contains(prob.pinned, i)) eval.moving.push_back(i);
  const std::size_t dims = eval.moving.size();
  if (dims == 0) return abs_log_error(nullptr, &eval);
  gsl_multimin_function f{&abs_log_error, dims, &eval};
  const std::unique_ptr<gsl_multimin_fminimizer, MinimizerDeleter> m(
      gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, dims));
  VectorPtr start(gsl_vector_alloc(dims)), step(gsl_vector_alloc(dims));
  double best = INFINITY;
  for (int restart = 0; restart < 8; ++restart) {
    for (std::size_t i = 0; i < dims; ++i) start->data[i] = x[eval.moving[i]];
    gsl_vector_set_all(step.get(), 0.5);  // a factor of e^0.5 ~ 1.6 in every parameter
    gsl_multimin_fminimizer_set(m.get(), &f, start.get(), step.get());
    for (int it = 0; it < 4000; ++it) {
      if (gsl_multimin_fminimizer_iterate(m.get()) != GSL_SUCCESS) break;
      if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m.get()), 1e-7) == GSL_SUCCESS) break;
    }
    const double value = m->fval;
    if (value >= best * (1 - 1e-9)) break;
    best = value;
    for (std::size_t i = 0; i < dims; ++i) x[eval.moving[i]] = m->x->data[i];
  }
  return best;
}

// The terms a fit may leave out (fit_terms drops them at a bound). The roofs and the fixed
// overhead are always there; at a bound they stay at it, which is a physical figure.
constexpr std::size_t kOptionalTerms[] = {kGroupOverhead, kRegionOverhead, kHalf, kHalf + 1, kHalf + 2, kPack};

// The simplex searches freely (bounds inside the search would leave the error flat beyond
// them, where a simplex collapses short of the optimum); then every active parameter that ended
// at or past a bound is dealt with and the rest fitted again, until none is:
//   - an optional term is dropped. At its ceiling it explains a whole timing by itself (an
//     overhead as long as the call) or costs nothing (a packing pass at L1 speed); at its floor
//     it is no term at all. Either way the data did not need it: the simplex used it to bend
//     to noise, or ran it off towards infinity.
//   - a roof or the overhead is pinned at the bound it passed.
// Every iteration removes a parameter from the search, so this ends; x comes back inside the
// bounds, with the error there.
double fit_terms(Problem& prob, std::array<double, kParams>& x) {
  constexpr double kEps = 1e-3;  // within a thousandth (in log) of a bound: at it
  for (;;) {
    double error = minimise(prob, x);
    bool changed = false;
    for (const std::size_t i : std::vector<std::size_t>(prob.active)) {
      if (contains(prob.pinned, i)) continue;
      const bool optional =
          std::find(std::begin(kOptionalTerms), std::end(kOptionalTerms), i) != std::end(kOptionalTerms);
      const bool inside = x[i] > prob.lo[i] + (optional ? kEps : 0) && x[i] < prob.hi[i] - (optional ? kEps : 0);
      if (inside) continue;  // NaN is not inside: a parameter that ran off is dealt with too
      changed = true;
      if (optional) {
        std::erase(prob.active, i);
      } else {
        x[i] = x[i] >= prob.hi[i] ? prob.hi[i] : x[i] <= prob.lo[i] ? prob.lo[i] : 0.5 * (prob.lo[i] + prob.hi[i]);
        prob.pinned.push_back(i);
      }
    }
    if (!changed) return error;
  }
}

// The candidate models a kernel's fit chooses among: every blend form, with and without the
// half-lengths (never for blocking fits, whose tiles already carry the small-shape cost), and
// for blocking fits with and without the packing pass.
struct Candidate {
  double blend;
  bool half;
  bool pack = false;
};

// Over 5 folds of the points, each predicted by a fit of the other four (the folds dealt
// round-robin, so each holds every regime of the sweep): the mean |log(predicted / measured)|,
// which judges the candidates (symmetric, like the fit's own objective: a left-out point
// predicted 20x too slow must not outweigh everything else), and the mean
// |predicted / measured - 1|, which is reported.
constexpr std::size_t kFolds = 5;
struct CvError {
  double log = 0, mape = 0;
};
// predicted / measured of every point by the fit of the folds it is not in.
std::vector<double> held_out_ratios(const Problem& prob, const std::array<double, kParams>& x0) {
  std::vector<double> ratio(prob.points.size(), 1);
  for (std::size_t fold = 0; fold < kFolds; ++fold) {
    Problem train = prob;
    train.points.clear();
    for (std::size_t i = 0; i < prob.points.size(); ++i)
      if (i % kFolds != fold) train.points.push_back(prob.points[i]);
    train.pinned.clear();
    std::array<double, kParams> x = x0;
    fit_terms(train, x);
    for (std::size_t i = fold; i < prob.points.size(); i += kFolds)
      ratio[i] = model_seconds(train, x.data(), prob.points[i]) / prob.points[i].seconds;
  }
  return ratio;
}

CvError cross_validated_error(const Problem& prob, const std::array<double, kParams>& x0) {
  CvError sum;
  for (const double ratio : held_out_ratios(prob, x0)) {
    sum.log += std::abs(std::log(ratio));
    sum.mape += std::abs(ratio - 1);
  }
  const auto n = static_cast<double>(prob.points.size());
  return {sum.log / n, sum.mape / n};
}

double machine_read_bandwidth(const Profile& p, std::size_t level, int threads) {
  const BandwidthEntry* b = machine_bandwidth(p, kMemoryLevels[level], threads);
  return b ? b->bytes_per_s : 0;
}

}  // namespace

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

double mean_abs_error(const Profile& machine, const KernelFit& k, std::span<const Sample> samples) {
  double sum = 0;
  for (const Sample& s : samples) {
    const DType d = *parse_dtype(k.dtype);
    const MemoryPlace place =
        memory_place(machine, working_set(s.run, *parse_impl(k.impl), d, k.threads), k.threads, false);
    sum += std::abs(predict_fitted(k, s.run, d, place).seconds / s.seconds - 1);
  }
  return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
}

namespace {

// The fit's problem for one kernel's samples: the points, the bounds, the start and which
// parameters may move (base: always; halves: the half-lengths a candidate may add).
struct Setup {
  Problem prob;
  std::array<double, kParams> x0{};
  std::vector<std::size_t> base, halves, packs;
  bool blocking = false, compute_observable = true;
  double peak = 0;
};

bool is_active_somewhere(const Setup& st, std::size_t i) {
  return contains(st.base, i) || contains(st.halves, i) || contains(st.packs, i);
}

Setup make_setup(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples) {
  if (samples.empty()) throw std::invalid_argument("fit_kernel: no samples");
  for (const Sample& s : samples)
    if (shape_class(s.run) != shape_class(samples.front().run))
      throw std::invalid_argument("fit_kernel: samples of different shape classes");
  // GSL reports through return codes; its default handler aborts. Once: fits run in parallel.
  static std::once_flag gsl_quiet;
  std::call_once(gsl_quiet, [] { gsl_set_error_handler_off(); });

  // opt knows its own blocking: its compute term is the busiest thread's padded work.
  Setup st;
  st.blocking = kernel.work != nullptr;
  const bool blocking = st.blocking;
  Problem& prob = st.prob;
  double best_ops_rate = 0;
  std::vector<double> best_bytes_rate(kLevels, 0);
  for (const Sample& s : samples) {
    if (!(s.seconds >= kMinSeconds && s.seconds <= kMaxSeconds))
      throw std::invalid_argument(fmt::format("a training time of {:g} s ({}) is outside {:g} to {:g} s: not a timing",
                                              s.seconds, to_string(s.run), kMinSeconds, kMaxSeconds));
    const MemoryPlace place =
        memory_place(machine, working_set(s.run, kernel.impl, kernel.dtype, threads), threads, false);
    const auto li = static_cast<std::size_t>(
        std::find(std::begin(kMemoryLevels), std::end(kMemoryLevels), place.level) - std::begin(kMemoryLevels));
    const ComputeWork w = compute_work(s.run, kernel.impl, kernel.dtype, threads, blocking);
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
    best_ops_rate = std::max(best_ops_rate, pt.ops / pt.seconds);
    best_bytes_rate[li] = std::max(best_bytes_rate[li], pt.bytes / pt.seconds);
    prob.points.push_back(pt);
  }

  // An op whose every training point sits far below the machine's ridge (an mv: ops grow with
  // bytes) cannot tell a compute roof from a bandwidth: both scale alike. Its compute roof is
  // then the machine's peak, not a parameter the fit could use to explain memory time.
  const double peak = st.peak = machine_peak(machine, kernel.dtype, threads);
  const bool compute_observable = st.compute_observable =
      std::any_of(prob.points.begin(), prob.points.end(), [&](const Point& pt) {
        const double bw = machine_read_bandwidth(machine, pt.level, threads);
        return bw <= 0 || pt.ops / peak > 0.3 * pt.bytes / bw;
      });
  if (!compute_observable) prob.fixed_compute = peak;
  const double max_compute = compute_roof(machine, kernel.dtype, threads);

  // Start from what the timings already show: the best rates seen are lower bounds of the roofs.
  std::array<double, kParams>& x0 = st.x0;
  x0[kCompute] = std::log(best_ops_rate);
  for (std::size_t l = 0; l < kLevels; ++l)
    x0[1 + l] = std::log(std::max({best_bytes_rate[l], machine_read_bandwidth(machine, l, threads), 1e6}));
  double fastest = INFINITY;
  for (const Point& pt : prob.points) fastest = std::min(fastest, pt.seconds);
  x0[kOverhead] = std::log(std::max(1e-8, 0.5 * fastest));
  // A tenth of the least time per group (per region) seen: small enough to leave the roofs to
  // explain the rest, large enough for the simplex to reach the real figure in a few steps.
  // Blocking fits count their groups' set-up among their regions.
  // A region count that is the same on every point (a GEMM: one region, two barriers) cannot be
  // told from the fixed overhead, which then carries it.
  // A term whose count keeps one proportion to the bytes at every point (the rows of MVs that
  // all have the same k) is the bandwidth again under another name: the two would trade freely.
  const auto varies = [&](const auto& ratio) {
    double least = INFINITY, most = 0;
    for (const Point& pt : prob.points) {
      least = std::min(least, ratio(pt));
      most = std::max(most, ratio(pt));
    }
    return most > 1.2 * least;
  };
  double time_per_group = INFINITY, time_per_region = INFINITY;
  bool regions_vary = false;
  for (const Point& pt : prob.points) {
    if (pt.groups > 0) time_per_group = std::min(time_per_group, pt.seconds / pt.groups);
    if (pt.regions > 0) time_per_region = std::min(time_per_region, pt.seconds / pt.regions);
    regions_vary = regions_vary || pt.regions != prob.points.front().regions;
  }
  std::vector<std::size_t>& base = st.base;
  base = {kCompute, 1, 2, 3, 4, kOverhead};
  if (prob.fixed_compute > 0) base.erase(base.begin());
  if (blocking && regions_vary) {
    x0[kRegionOverhead] = std::log(0.1 * time_per_region);
    base.push_back(kRegionOverhead);
  } else if (std::isfinite(time_per_group) && varies([](const Point& pt) { return pt.groups / pt.bytes; })) {
    x0[kGroupOverhead] = std::log(0.1 * time_per_group);
    base.push_back(kGroupOverhead);
  }
  // Half-lengths start at 2 elements: no stretch to speak of until the data asks for one. Only
  // along a dimension the points vary in, and only with a compute roof to stretch: a half-length
  // on a constant dimension (N = 1 of every mv) is the compute roof again under another name.
  for (std::size_t i = 0; i < 3; ++i) x0[kHalf + i] = std::log(2.0);
  std::vector<std::size_t>& halves = st.halves;
  // Nor for mv: bound by its bytes at every size, its compute term is never what a stretch
  // would be fitted to, so one would only bend to a disturbed timing.
  for (std::size_t i = 0; i < 3 && prob.fixed_compute == 0 && kernel.op != Op::mv; ++i)
    if (std::any_of(prob.points.begin(), prob.points.end(),
                    [&](const Point& pt) { return pt.mnk[i] != prob.points.front().mnk[i]; }))
      halves.push_back(kHalf + i);
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
    x0[kPack] = std::log(rate);
    st.packs = {kPack};
  }

  // The bounds (fit.h "Bounds"). Ceilings are what the machine or the timings allow; floors
  // keep the simplex on finite numbers: a rate kFloor times below the best the timings show
  // explains none of them, nor does an overhead a millionth of the fastest. An optional term at
  // its floor (a thousandth of its ceiling; a thousandth of an element for a half-length) adds
  // at most 0.1% to any timing: it is no term, and fit_terms drops it.
  constexpr double kFloor = 100, kNoTerm = 1e-3;
  auto& lo_ = prob.lo;
  auto& hi_ = prob.hi;
  hi_[kCompute] = std::log(max_compute);
  lo_[kCompute] = std::log(best_ops_rate / kFloor);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const double ceiling = bandwidth_ceiling(machine, l, threads);
    hi_[1 + l] = std::log(ceiling);
    lo_[1 + l] = std::log((best_bytes_rate[l] > 0 ? best_bytes_rate[l] : ceiling) / kFloor);
  }
  hi_[kOverhead] = std::log(fastest);
  lo_[kOverhead] = std::log(fastest * 1e-6);
  hi_[kGroupOverhead] = std::log(time_per_group);
  lo_[kGroupOverhead] = std::log(time_per_group * kNoTerm);
  hi_[kRegionOverhead] = std::log(time_per_region);
  lo_[kRegionOverhead] = std::log(time_per_region * kNoTerm);
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
  for (std::size_t i = 0; i < kParams; ++i) {
    if (!is_active_somewhere(st, i)) {  // never moved: any finite value does
      lo_[i] = hi_[i] = 0;
      continue;
    }
    if (!std::isfinite(lo_[i]) || !std::isfinite(hi_[i]))
      throw std::invalid_argument(fmt::format("the bounds of parameter {} are not finite ({:g} to {:g})", i,
                                              std::exp(lo_[i]), std::exp(hi_[i])));
    lo_[i] = std::min(lo_[i], hi_[i]);
    x0[i] = std::clamp(x0[i], lo_[i], hi_[i]);
  }
  return st;
}

}  // namespace

KernelFit fit_kernel(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples) {
  Setup st = make_setup(machine, kernel, threads, samples);
  Problem& prob = st.prob;
  const std::array<double, kParams>& x0 = st.x0;
  const std::vector<std::size_t>& base = st.base;
  const std::vector<std::size_t>& halves = st.halves;
  const bool blocking = st.blocking, compute_observable = st.compute_observable;
  const double peak = st.peak;
  // Every candidate is judged on points it was not fitted on (5-fold cross-validation) when
  // there are enough of them, else on its training error; the best is refitted on them all.
  const std::vector<std::size_t>& packs = st.packs;
  std::vector<Candidate> candidates;
  for (double form : kBlendForms) {
    candidates.push_back({form, false});
    if (!blocking && !halves.empty()) candidates.push_back({form, true});
    if (!packs.empty()) candidates.push_back({form, false, true});
  }
  const bool cross_validate = prob.points.size() >= kFolds;
  double best_score = INFINITY, best_cv = -1;
  Candidate best{};
  std::vector<std::size_t> best_active;
  std::array<double, kParams> best_x{};
  for (const Candidate& c : candidates) {
    if ((c.half || c.pack) && !cross_validate) continue;  // more terms than the error could judge
    prob.blend = c.blend;
    prob.pinned.clear();
    prob.active = base;
    if (c.half) prob.active.insert(prob.active.end(), halves.begin(), halves.end());
    if (c.pack) prob.active.insert(prob.active.end(), packs.begin(), packs.end());
    std::array<double, kParams> x = x0;
    const double train = fit_terms(prob, x);  // the candidate's terms that ran to a bound are gone
    const CvError cv = cross_validate ? cross_validated_error(prob, x0) : CvError{-1, -1};
    const double score = cross_validate ? cv.log : train;
    // More parameters must earn their place: a clearly lower error, not a tie.
    if (score < best_score * (c.half || c.pack ? 0.98 : 1)) {
      best_score = score;
      best_cv = cv.mape;
      best = c;
      best_active = prob.active;
      best_x = x;
    }
  }
  if (best_active.empty()) throw std::invalid_argument("no candidate model could be scored on these timings");
  prob.blend = best.blend;
  prob.active = best_active;

  const double compute = compute_observable ? std::exp(param(prob, best_x.data(), kCompute)) : peak;
  // A level's bandwidth is identified when some training point there had a memory term that
  // was not negligible; only identified levels lend their efficiency to levels without points.
  std::array<bool, kLevels> has_points{}, identified{};
  for (const Point& pt : prob.points) {
    has_points[pt.level] = true;
    if (pt.bytes / std::exp(log_bandwidth(prob, best_x.data(), pt.level)) > 0.3 * pt.ops / compute)
      identified[pt.level] = true;
  }

  KernelFit fit;
  fit.op = name(kernel.op);
  fit.impl = name(kernel.impl);
  fit.dtype = name(kernel.dtype);
  fit.threads = threads;
  fit.shape_class = shape_class(samples.front().run);
  fit.variant = kernel.variant;
  fit.compute_ops_per_s = compute;
  fit.overhead_s = std::exp(param(prob, best_x.data(), kOverhead));
  fit.group_overhead_s = term(prob, best_x.data(), kGroupOverhead);
  fit.region_overhead_s = term(prob, best_x.data(), kRegionOverhead);
  fit.blocking = blocking;
  for (std::size_t i = 0; i < 3; ++i) fit.half_mnk[i] = term(prob, best_x.data(), kHalf + i);
  fit.pack_elems_per_s = term(prob, best_x.data(), kPack);
  fit.blend = best.blend;
  fit.points = static_cast<int>(samples.size());
  fit.cv_mape = best_cv;

  // Levels no training point reached take the machine's bandwidth at the efficiency of the
  // nearest identified level (or the machine's own figure when none was).
  std::vector<double> efficiency(kLevels, 0);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const double machine_bw = machine_read_bandwidth(machine, l, threads);
    if (identified[l] && machine_bw > 0) efficiency[l] = std::exp(log_bandwidth(prob, best_x.data(), l)) / machine_bw;
  }
  for (std::size_t l = 0; l < kLevels; ++l) {
    double eff = efficiency[l];
    for (std::size_t d = 1; eff == 0 && d < kLevels; ++d) {
      if (l >= d && efficiency[l - d] > 0)
        eff = efficiency[l - d];
      else if (l + d < kLevels && efficiency[l + d] > 0)
        eff = efficiency[l + d];
    }
    const double machine_bw = machine_read_bandwidth(machine, l, threads);
    fit.bytes_per_s.push_back(has_points[l] || machine_bw <= 0 ? std::exp(log_bandwidth(prob, best_x.data(), l))
                                                               : (eff > 0 ? eff : 1.0) * machine_bw);
  }
  // Keep the order of the levels where a fallback could break it (a level without points
  // borrowing a low efficiency next to one that was never memory-bound).
  for (std::size_t l = kLevels - 1; l-- > 0;)
    if (!has_points[l]) fit.bytes_per_s[l] = std::max(fit.bytes_per_s[l], fit.bytes_per_s[l + 1]);
  for (std::size_t l = 1; l < kLevels; ++l)
    if (!has_points[l]) fit.bytes_per_s[l] = std::min(fit.bytes_per_s[l], fit.bytes_per_s[l - 1]);
  fit.train_mape = mean_abs_error(machine, fit, samples);
  return fit;
}

std::vector<double> held_out_errors(const Profile& machine, const Kernel& kernel, int threads,
                                    std::span<const Sample> samples, const KernelFit& fit) {
  Setup st = make_setup(machine, kernel, threads, samples);
  if (samples.size() < kFolds) return std::vector<double>(samples.size(), 0);
  st.prob.blend = fit.blend;
  // The fit's own terms: the base ones it kept (an optional one at a bound was dropped to 0),
  // and the half-lengths and packing it chose.
  const auto kept = [&](std::size_t i) {
    if (i == kGroupOverhead) return fit.group_overhead_s > 0;
    if (i == kRegionOverhead) return fit.region_overhead_s > 0;
    if (i >= kHalf && i < kHalf + 3) return fit.half_mnk[i - kHalf] > 0;
    if (i == kPack) return fit.pack_elems_per_s > 0;
    return true;
  };
  st.prob.active.clear();
  for (const auto* list : {&st.base, &st.halves, &st.packs})
    std::copy_if(list->begin(), list->end(), std::back_inserter(st.prob.active), kept);
  std::vector<double> errors;
  for (const double ratio : held_out_ratios(st.prob, st.x0)) errors.push_back(std::abs(std::log(ratio)));
  return errors;
}

std::vector<std::string> fit_training(Profile& profile, std::string_view source) {
  std::map<std::tuple<Op, Impl, DType, int, std::string>, std::vector<Sample>> samples;
  for (std::size_t i = 0; i < profile.training.size(); ++i) {
    const nlohmann::json& t = profile.training[i];
    const auto bad = [&](std::string_view key, std::string_view what) {
      return ProfileError(fmt::format("{}: training timing {} is malformed: \"{}\" {} (at /training/{}/{})", source, i,
                                      key, what, i, key));
    };
    const auto text = [&](const char* key) {
      if (!t.is_object() || !t.contains(key)) throw bad(key, "is missing");
      if (!t[key].is_string()) throw bad(key, "must be a string");
      return t[key].get<std::string>();
    };
    const auto op = parse_op(text("op"));
    const auto impl = parse_impl(text("impl"));
    const auto dtype = parse_dtype(text("dtype"));
    if (!op) throw bad("op", "is not mv, gemm or conv2d");
    if (!impl) throw bad("impl", "is not naive, opt, blas or onednn");
    if (!dtype) throw bad("dtype", "is not a dtype");
    if (!t.contains("seconds") || !t["seconds"].is_number() || !(t["seconds"].get<double>() > 0) ||
        !std::isfinite(t["seconds"].get<double>()))
      throw bad("seconds", "must be a positive finite number");
    if (!t.contains("threads") || !t["threads"].is_number_integer() || t["threads"].get<std::int64_t>() < 1 ||
        t["threads"].get<std::int64_t>() > 1024)
      throw bad("threads", "must be an integer from 1 to 1024");
    Shape shape;
    try {
      shape = parse_shape(text("shape"));
    } catch (const ShapeError& e) {
      throw bad("shape", fmt::format("is not a shape: {}", e.what()));
    }
    samples[{*op, *impl, *dtype, t["threads"].get<int>(), std::string(shape_class(shape))}].push_back(
        {shape, t["seconds"].get<double>()});
  }
  profile.kernels.clear();
  struct Task {
    const Kernel* kernel;
    int threads;
    const std::vector<Sample>* points;
  };
  std::vector<Task> tasks;
  for (const auto& [key, points] : samples) {
    const auto& [op, impl, dtype, threads, shape_class] = key;
    if (const Kernel* k = select(op, impl, dtype)) tasks.push_back({k, threads, &points});
    // else: timed on another CPU, nothing here could run it
  }
  // The fits are independent and each cross-validates eight candidate forms: one per core. Each
  // is checked by the profile's own rules as it is made (check_kernel_fit), so a figure the
  // writer would refuse costs that kernel its fit, not the calibration its profile.
  using Outcome = std::variant<KernelFit, std::string>;
  const std::vector<Outcome> outcomes = parallel_map(tasks.size(), [&](std::size_t i) -> Outcome {
    try {
      KernelFit fit = fit_kernel(profile, *tasks[i].kernel, tasks[i].threads, *tasks[i].points);
      check_kernel_fit(fit, "the fit");
      return fit;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  });
  profile.unfitted = nlohmann::json::array();
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (const auto* fit = std::get_if<KernelFit>(&outcomes[i])) {
      profile.kernels.push_back(*fit);
      continue;
    }
    const Kernel& k = *tasks[i].kernel;
    const std::string& reason = std::get<std::string>(outcomes[i]);
    const std::string_view cls = shape_class(tasks[i].points->front().run);
    profile.unfitted.push_back({{"op", name(k.op)},
                                {"impl", name(k.impl)},
                                {"dtype", name(k.dtype)},
                                {"threads", tasks[i].threads},
                                {"class", cls},
                                {"reason", reason}});
    warnings.push_back(fmt::format("{} {} {} ({}, {} threads, {} timings) falls back to the classic roofline: {}",
                                   name(k.op), name(k.impl), name(k.dtype), cls, tasks[i].threads,
                                   tasks[i].points->size(), reason));
  }
  return warnings;
}

std::vector<Shape> neighbours(const Shape& s, std::mt19937& rng) {
  std::uniform_real_distribution<double> log_factor(std::log(0.6), std::log(1.6));
  const auto scaled = [&](std::int64_t v) {
    return std::max<std::int64_t>(1, std::llround(static_cast<double>(v) * std::exp(log_factor(rng))));
  };
  std::vector<Shape> out;
  for (int attempt = 0; attempt < 6 && out.size() < 2; ++attempt) {
    std::string d;
    if (const auto* v = std::get_if<MvShape>(&s.dims)) {
      d = fmt::format("mv m={} k={}", scaled(v->m), scaled(v->k));
    } else if (const auto* g = std::get_if<GemmShape>(&s.dims)) {
      d = fmt::format("gemm m={} n={} k={}", scaled(g->m), scaled(g->n), scaled(g->k));
    } else {
      const auto& c = std::get<ConvShape>(s.dims);
      const std::int64_t hw = std::max(scaled(c.h), c.r);
      if (c.g == c.c) {  // depthwise: c = k = g, scaled together
        const std::int64_t ch = scaled(c.c);
        d = fmt::format("conv2d n={} c={} h={} w={} k={} r={} s={} stride={} pad={} g={}", c.n, ch, hw, hw, ch, c.r,
                        c.s, c.stride, c.pad, ch);
      } else {  // channels per group scaled, the group count kept
        d = fmt::format("conv2d n={} c={} h={} w={} k={} r={} s={} stride={} pad={} g={}", c.n, c.g * scaled(c.c / c.g),
                        hw, hw, c.g * scaled(c.k / c.g), c.r, c.s, c.stride, c.pad, c.g);
      }
    }
    try {
      Shape n = parse_shape(d + " name=adapt:" + (s.name.empty() ? "shape" : s.name));
      if (ops(n) <= 4 * ops(s) && shape_class(n) == shape_class(s)) out.push_back(std::move(n));
    } catch (const ShapeError&) {
      // a draw outside the parser's limits: draw again
    }
  }
  return out;
}

}  // namespace roofbench
