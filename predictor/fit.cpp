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
#include "predictor/fit_problem.h"
#include "predictor/parallel.h"
#include "predictor/roofline.h"

namespace roofbench {

using namespace fit_detail;

double mean_abs_error(const Profile& machine, const KernelFit& k, std::span<const Sample> samples) {
  double sum = 0;
  for (const Sample& s : samples) {
    const DType d = k.dtype;
    const MemoryPlace place = memory_place(machine, working_set(s.run, k.impl, d, k.threads), k.threads, false);
    sum += std::abs(predict_fitted(k, s.run, d, place).seconds / s.seconds - 1);
  }
  return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
}

namespace {

// The candidate fit_kernel keeps: its model, the terms it kept and their values.
struct Choice {
  Candidate model{};
  std::vector<std::size_t> active;
  std::array<double, kParams> x{};
  double cv_mape = -1;
};

// Every candidate is judged on points it was not fitted on (5-fold cross-validation) when
// there are enough of them, else on its training error; the best is refitted on them all.
Choice choose_model(Setup& st) {
  Problem& prob = st.prob;
  std::vector<Candidate> candidates;
  for (double form : kBlendForms) {
    candidates.push_back({form, false});
    if (!st.blocking && !st.halves.empty()) candidates.push_back({form, true});
    if (!st.packs.empty()) candidates.push_back({form, false, true});
  }
  const bool cross_validate = prob.points.size() >= kFolds;
  double best_score = INFINITY;
  Choice best;
  for (const Candidate& c : candidates) {
    if ((c.half || c.pack) && !cross_validate) continue;  // more terms than the error could judge
    prob.blend = c.blend;
    prob.pinned.clear();
    prob.active = st.base;
    if (c.half) prob.active.insert(prob.active.end(), st.halves.begin(), st.halves.end());
    if (c.pack) prob.active.insert(prob.active.end(), st.packs.begin(), st.packs.end());
    std::array<double, kParams> x = st.x0;
    const double train = fit_terms(prob, x);  // the candidate's terms that ran to a bound are gone
    const CvError cv = cross_validate ? cross_validated_error(prob, st.x0) : CvError{-1, -1};
    const double score = cross_validate ? cv.log : train;
    // More parameters must earn their place: a clearly lower error, not a tie.
    if (score < best_score * (c.half || c.pack ? 0.98 : 1)) {
      best_score = score;
      best = {c, prob.active, x, cv.mape};
    }
  }
  if (best.active.empty()) throw std::invalid_argument("no candidate model could be scored on these timings");
  prob.blend = best.model.blend;
  prob.active = best.active;
  return best;
}

// The fit's bandwidth per level. A level's bandwidth is identified when some training point
// there had a memory term that was not negligible; only identified levels lend their
// efficiency to levels without points, which take the machine's bandwidth at the efficiency of
// the nearest identified level (or the machine's own figure when none was).
std::vector<double> level_bandwidths(const Profile& machine, int threads, const Problem& prob, const double* x,
                                     double compute) {
  std::array<bool, kLevels> has_points{}, identified{};
  for (const Point& pt : prob.points) {
    has_points[pt.level] = true;
    if (pt.bytes / std::exp(log_bandwidth(prob, x, pt.level)) > 0.3 * pt.ops / compute) identified[pt.level] = true;
  }
  std::vector<double> efficiency(kLevels, 0);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const double machine_bw = machine_read_bandwidth(machine, l, threads);
    if (identified[l] && machine_bw > 0) efficiency[l] = std::exp(log_bandwidth(prob, x, l)) / machine_bw;
  }
  std::vector<double> out;
  for (std::size_t l = 0; l < kLevels; ++l) {
    double eff = efficiency[l];
    for (std::size_t d = 1; eff == 0 && d < kLevels; ++d) {
      if (l >= d && efficiency[l - d] > 0)
        eff = efficiency[l - d];
      else if (l + d < kLevels && efficiency[l + d] > 0)
        eff = efficiency[l + d];
    }
    const double machine_bw = machine_read_bandwidth(machine, l, threads);
    out.push_back(has_points[l] || machine_bw <= 0 ? std::exp(log_bandwidth(prob, x, l))
                                                   : (eff > 0 ? eff : 1.0) * machine_bw);
  }
  // Keep the order of the levels where a fallback could break it (a level without points
  // borrowing a low efficiency next to one that was never memory-bound).
  for (std::size_t l = kLevels - 1; l-- > 0;)
    if (!has_points[l]) out[l] = std::max(out[l], out[l + 1]);
  for (std::size_t l = 1; l < kLevels; ++l)
    if (!has_points[l]) out[l] = std::min(out[l], out[l - 1]);
  return out;
}

}  // namespace

KernelFit fit_kernel(const Profile& machine, const Kernel& kernel, int threads, std::span<const Sample> samples) {
  Setup st = make_setup(machine, kernel, threads, samples);
  const Choice best = choose_model(st);
  const Problem& prob = st.prob;
  const double* x = best.x.data();
  const double compute = st.compute_observable ? std::exp(param(prob, x, kCompute)) : st.peak;

  KernelFit fit;
  fit.op = kernel.op;
  fit.impl = kernel.impl;
  fit.dtype = kernel.dtype;
  fit.threads = threads;
  fit.shape_class = classify(samples.front().run);
  fit.variant = kernel.variant;
  fit.compute_ops_per_s = compute;
  fit.overhead_s = std::exp(param(prob, x, kOverhead));
  fit.group_overhead_s = term(prob, x, kGroupOverhead);
  fit.region_overhead_s = term(prob, x, kRegionOverhead);
  fit.blocking = st.blocking;
  for (std::size_t i = 0; i < 3; ++i) fit.half_mnk[i] = term(prob, x, kHalf + i);
  fit.pack_elems_per_s = term(prob, x, kPack);
  fit.blend = best.model.blend;
  fit.points = static_cast<int>(samples.size());
  fit.cv_mape = best.cv_mape;
  fit.bytes_per_s = level_bandwidths(machine, threads, prob, x, compute);
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

namespace {

using TrainingKey = std::tuple<Op, Impl, DType, int, ShapeClass>;

// The profile's training timings grouped per kernel, thread count and shape class; every entry
// checked, with the same one-line error a malformed profile gets.
std::map<TrainingKey, std::vector<Sample>> training_samples(const Profile& profile, std::string_view source) {
  std::map<TrainingKey, std::vector<Sample>> samples;
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
    samples[{*op, *impl, *dtype, t["threads"].get<int>(), classify(shape)}].push_back(
        {shape, t["seconds"].get<double>()});
  }
  return samples;
}

}  // namespace

std::vector<std::string> fit_training(Profile& profile, std::string_view source) {
  const std::map<TrainingKey, std::vector<Sample>> samples = training_samples(profile, source);
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