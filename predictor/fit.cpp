#include "predictor/fit.h"

#include <fmt/format.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cost.h"
#include "predictor/roofline.h"

namespace roofbench {
namespace {

constexpr std::size_t kLevels = std::size(kMemoryLevels);
// Parameters in log space (every one is positive): compute, one bandwidth per level, overhead,
// overhead per group.
constexpr std::size_t kOverhead = 1 + kLevels, kGroupOverhead = 2 + kLevels, kParams = 3 + kLevels;

struct Point {
  double ops, bytes, seconds;
  std::size_t level;
  double groups;  // roofline.h groups(): 0 outside grouped and depthwise conv2d
};

struct Problem {
  std::vector<Point> points;
  double blend;
  double fixed_compute = 0;  // > 0: the compute roof is not fitted but this
  double max_compute = INFINITY;  // a roof above the machine's peak means "never compute-bound"
  // A level whose points were all explained by compute could take any bandwidth up to
  // infinity; this bound keeps it finite while far above anything a core can read.
  double max_log_bandwidth = INFINITY;
  // kParams when the points have groups, else one fewer: the per-group overhead, last, would be
  // a flat direction that keeps the simplex from ever converging.
  std::size_t dims = kParams - 1;
};

// A level further from the core is never read faster than a nearer one. Without this, two
// points in a level, one of them disturbed, let the fit give that level the disturbed point's
// bandwidth while the levels around it stay fast.
double log_bandwidth(const Problem& prob, const double* x, std::size_t level) {
  const double own = std::min(x[1 + level], prob.max_log_bandwidth);
  return level == 0 ? own : std::min(own, log_bandwidth(prob, x, level - 1));
}

double model_seconds(const Problem& prob, const double* x, const Point& pt) {
  const double compute = prob.fixed_compute > 0 ? prob.fixed_compute : std::min(std::exp(x[0]), prob.max_compute);
  const double per_group = prob.dims > kGroupOverhead ? pt.groups * std::exp(x[kGroupOverhead]) : 0;
  return std::exp(x[kOverhead]) + per_group +
         blend(pt.ops / compute, pt.bytes / std::exp(log_bandwidth(prob, x, pt.level)), prob.blend);
}

// Absolute, not squared: on a noisy machine one disturbed training timing should pull the fit
// no harder than any other point (a median-like fit, not a mean-like one).
double abs_log_error(const gsl_vector* v, void* data) {
  const auto& prob = *static_cast<const Problem*>(data);
  double sum = 0;
  for (const Point& pt : prob.points) sum += std::abs(std::log(model_seconds(prob, v->data, pt) / pt.seconds));
  return std::isfinite(sum) ? sum : 1e300;
}

struct MinimizerDeleter {
  void operator()(gsl_multimin_fminimizer* m) const { gsl_multimin_fminimizer_free(m); }
};
struct VectorDeleter {
  void operator()(gsl_vector* v) const { gsl_vector_free(v); }
};
using VectorPtr = std::unique_ptr<gsl_vector, VectorDeleter>;

// Nelder-Mead from x, restarted from its own result until a restart no longer improves:
// a simplex can collapse onto a face of a piecewise (max) objective, and a fresh one escapes.
double minimise(Problem& prob, std::vector<double>& x) {
  gsl_multimin_function f{&abs_log_error, prob.dims, &prob};
  const std::unique_ptr<gsl_multimin_fminimizer, MinimizerDeleter> m(
      gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, prob.dims));
  VectorPtr start(gsl_vector_alloc(prob.dims)), step(gsl_vector_alloc(prob.dims));
  double best = INFINITY;
  for (int restart = 0; restart < 8; ++restart) {
    std::copy_n(x.begin(), prob.dims, start->data);
    gsl_vector_set_all(step.get(), 0.5);  // a factor of e^0.5 ~ 1.6 in every parameter
    gsl_multimin_fminimizer_set(m.get(), &f, start.get(), step.get());
    for (int it = 0; it < 4000; ++it) {
      if (gsl_multimin_fminimizer_iterate(m.get()) != GSL_SUCCESS) break;
      if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m.get()), 1e-7) == GSL_SUCCESS) break;
    }
    const double value = m->fval;
    if (value >= best * (1 - 1e-9)) break;
    best = value;
    std::copy_n(m->x->data, prob.dims, x.begin());
  }
  return best;
}

double machine_read_bandwidth(const Profile& p, std::size_t level, int threads) {
  const BandwidthEntry* b = machine_bandwidth(p, kMemoryLevels[level], threads);
  return b ? b->bytes_per_s : 0;
}

}  // namespace

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

KernelFit fit_kernel(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples) {
  if (samples.empty()) throw std::invalid_argument("fit_kernel: no samples");
  for (const Sample& s : samples)
    if (shape_class(s.run) != shape_class(samples.front().run))
      throw std::invalid_argument("fit_kernel: samples of different shape classes");
  gsl_set_error_handler_off();  // GSL reports through return codes; its default handler aborts

  Problem prob;
  double best_ops_rate = 0;
  std::vector<double> best_bytes_rate(kLevels, 0);
  for (const Sample& s : samples) {
    if (!(s.seconds > 0)) throw std::invalid_argument("fit_kernel: a training time is not positive");
    const MemoryPlace place =
        memory_place(machine, working_set(s.run, kernel.impl, kernel.dtype, threads), threads, false);
    const auto li = static_cast<std::size_t>(
        std::find(std::begin(kMemoryLevels), std::end(kMemoryLevels), place.level) - std::begin(kMemoryLevels));
    // The point's bytes are scaled by the machine curve, so the fitted figure is the level's plateau.
    const Point pt{static_cast<double>(ops(s.run)),
                   static_cast<double>(bytes(s.run, kernel.dtype) + added_bytes(s.run, kernel.impl, kernel.dtype)) /
                       place.scale,
                   s.seconds, li, static_cast<double>(groups(s.run))};
    best_ops_rate = std::max(best_ops_rate, pt.ops / pt.seconds);
    best_bytes_rate[li] = std::max(best_bytes_rate[li], pt.bytes / pt.seconds);
    prob.points.push_back(pt);
  }

  // An op whose every training point sits far below the machine's ridge (an mv: ops grow with
  // bytes) cannot tell a compute roof from a bandwidth: both scale alike. Its compute roof is
  // then the machine's peak, not a parameter the fit could use to explain memory time.
  const double peak = machine_peak(machine, kernel.dtype, threads);
  const bool compute_observable = std::any_of(prob.points.begin(), prob.points.end(), [&](const Point& pt) {
    const double bw = machine_read_bandwidth(machine, pt.level, threads);
    return bw <= 0 || pt.ops / peak > 0.3 * pt.bytes / bw;
  });
  if (!compute_observable) prob.fixed_compute = peak;
  // No kernel beats the fastest unit it could use: the measured peak of its dtype, or for the
  // conversion paths (bf16, f16 on CPUs without their dot products) the f32 FMA peak, since a
  // kernel that converts an operand once per call outruns a peak loop that converts both every
  // time.
  prob.max_compute = peak;
  for (const PeakEntry& e : machine.peaks)
    if (e.threads == threads && e.roof && (e.dtype == name(kernel.dtype) || e.dtype == "f32"))
      prob.max_compute = std::max(prob.max_compute, e.ops_per_s);

  if (const double l1 = machine_read_bandwidth(machine, 0, threads); l1 > 0) prob.max_log_bandwidth = std::log(4 * l1);

  // Start from what the timings already show: the best rates seen are lower bounds of the roofs.
  std::vector<double> x0(kParams);
  x0[0] = std::log(best_ops_rate);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const double machine_bw = machine_read_bandwidth(machine, l, threads);
    // Below the bound, where the objective is not flat.
    x0[1 + l] = std::min(std::log(std::max({best_bytes_rate[l], machine_bw, 1e6})), prob.max_log_bandwidth - 1);
  }
  x0[kOverhead] = std::log(std::max(1e-8, 0.5 * std::min_element(samples.begin(), samples.end(), [](auto& a, auto& b) {
                                                   return a.seconds < b.seconds;
                                                 })->seconds));
  // A tenth of the least time per group seen: small enough to leave the roofs to explain the
  // rest, large enough for the simplex to reach the real figure in a few steps. Only grouped
  // and depthwise shapes have groups to fit it on.
  double time_per_group = INFINITY;
  for (const Point& pt : prob.points)
    if (pt.groups > 0) time_per_group = std::min(time_per_group, pt.seconds / pt.groups);
  const bool has_groups = std::isfinite(time_per_group);
  if (has_groups) {
    x0[kGroupOverhead] = std::log(0.1 * time_per_group);
    prob.dims = kParams;
  }

  // Every blend form is fitted; the one with the least error wins.
  double best_error = INFINITY;
  std::vector<double> best_x;
  for (double form : kBlendForms) {
    prob.blend = form;
    std::vector<double> x = x0;
    const double e = minimise(prob, x);
    if (e < best_error) {
      best_error = e;
      best_x = x;
      best_x.push_back(form);
    }
  }
  const double compute = compute_observable ? std::min(std::exp(best_x[0]), prob.max_compute) : peak;
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
  fit.overhead_s = std::exp(best_x[kOverhead]);
  fit.group_overhead_s = has_groups ? std::exp(best_x[kGroupOverhead]) : 0;
  fit.blend = best_x[kParams];
  fit.points = static_cast<int>(samples.size());

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
      if (l >= d && efficiency[l - d] > 0) eff = efficiency[l - d];
      else if (l + d < kLevels && efficiency[l + d] > 0) eff = efficiency[l + d];
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

}  // namespace roofbench
