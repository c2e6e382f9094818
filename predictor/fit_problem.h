// The fit's optimisation problem (predictor/fit.h), shared by its three parts: the setup of one
// kernel's points, bounds and start (fit_setup.cpp), the search over them (fit_search.cpp), and
// the choice among candidate models that fit_kernel makes (fit.cpp). Internal to the predictor.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <span>
#include <vector>

#include "predictor/fit.h"
#include "predictor/roofline.h"

namespace roofbench::fit_detail {

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

inline bool contains(const std::vector<std::size_t>& v, std::size_t i) {
  return std::find(v.begin(), v.end(), i) != v.end();
}
inline bool is_active(const Problem& prob, std::size_t i) { return contains(prob.active, i); }

// A parameter inside its bounds.
inline double param(const Problem& prob, const double* x, std::size_t i) {
  return std::clamp(x[i], prob.lo[i], prob.hi[i]);
}

// A level further from the core is never read faster than a nearer one. Without this, two
// points in a level, one of them disturbed, let the fit give that level the disturbed point's
// bandwidth while the levels around it stay fast. While the simplex searches, a level's rate
// may pass its own ceiling (fit_terms pins it there afterwards) but not the fastest level's:
// a compute-bound level could otherwise take any rate up to infinity.
inline double log_bandwidth(const Problem& prob, const double* x, std::size_t level) {
  const double own = std::min(x[1 + level], prob.hi[1]);
  return level == 0 ? own : std::min(own, log_bandwidth(prob, x, level - 1));
}

// A term's value: exp of its parameter when the fit moves it, else 0 (not fitted: absent).
inline double term(const Problem& prob, const double* x, std::size_t i) {
  return is_active(prob, i) ? std::exp(x[i]) : 0;
}

double model_seconds(const Problem& prob, const double* x, const Point& pt);

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
double fit_terms(Problem& prob, std::array<double, kParams>& x);

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
std::vector<double> held_out_ratios(const Problem& prob, const std::array<double, kParams>& x0);
CvError cross_validated_error(const Problem& prob, const std::array<double, kParams>& x0);

// The machine's read bandwidth at a level, 0 when the profile has none.
double machine_read_bandwidth(const Profile& p, std::size_t level, int threads);

// The fit's problem for one kernel's samples: the points, the bounds, the start and which
// parameters may move (base: always; halves: the half-lengths a candidate may add).
struct Setup {
  Problem prob;
  std::array<double, kParams> x0{};
  std::vector<std::size_t> base, halves, packs;
  bool blocking = false, compute_observable = true;
  double peak = 0;
};

Setup make_setup(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples);

}  // namespace roofbench::fit_detail
