#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include "predictor/fit_problem.h"

namespace roofbench::fit_detail {

double model_seconds(const Problem& prob, const double* x, const Point& pt) {
  const double compute =
      prob.fixed_compute > 0 ? prob.fixed_compute : std::exp(std::min(x[kCompute], prob.hi[kCompute]));
  const std::array<double, 3> half{term(prob, x, kHalf), term(prob, x, kHalf + 1), term(prob, x, kHalf + 2)};
  return std::exp(x[kOverhead]) + pt.groups * term(prob, x, kGroupOverhead) +
         pt.regions * term(prob, x, kRegionOverhead) + (is_active(prob, kPack) ? pt.packed * std::exp(-x[kPack]) : 0) +
         blend(pt.ops / compute * stretch(pt.mnk, half), pt.bytes / std::exp(log_bandwidth(prob, x, pt.level)),
               prob.blend);
}

namespace {

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

}  // namespace

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
  const BandwidthEntry* b = machine_bandwidth(p, static_cast<MemoryLevel>(level), threads);
  return b ? b->bytes_per_s : 0;
}

}  // namespace roofbench::fit_detail
